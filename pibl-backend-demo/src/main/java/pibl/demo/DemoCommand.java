package pibl.demo;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * The command line: parse, start, print one line, serve until the JVM is asked to stop.
 * <pre>
 *   $ java -jar pibl-backend-demo.jar --port 9001 --name backend-1
 *   backend-1 listening on 0.0.0.0:9001
 *   $ java -jar pibl-backend-demo.jar --port 9003 --name slow --delay-ms 50     # every answer 50 ms late
 * </pre>
 */
@Command(name = "pibl-backend-demo", mixinStandardHelpOptions = true, version = "pibl-backend-demo 1.0.0",
        description = "The PIBL demo web application: test pages, downloads, caching and status endpoints. "
                + "Logs one line per request to standard output.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "9001", description = "Port to listen on (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--bind", defaultValue = "0.0.0.0", paramLabel = "ADDR",
            description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--name", defaultValue = "backend", description = "Instance name, sent as X-Backend "
            + "(default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--threads", defaultValue = "0",
            description = "Event loop threads; 0 means twice the number of cores (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--delay-ms", defaultValue = "0", paramLabel = "MS",
            description = "Answer every request MS milliseconds late, on top of its own ?delay= "
                    + "(default: ${DEFAULT-VALUE}): a backend slow for everyone.")
    long delayMs;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (delayMs < 0) {
            throw new ParameterException(spec.commandLine(), "--delay-ms must be >= 0, got " + delayMs);
        }
        DemoBackend backend = DemoBackend.start(bind, port, name, threads, delayMs, AccessLog.stdout());
        Runtime.getRuntime().addShutdownHook(new Thread(backend::close, "pibl-backend-demo-shutdown"));
        System.out.println(name + " listening on " + bind + ":" + backend.port());
        System.out.flush();
        backend.awaitTermination();
        return 0;
    }
}
