package pibl.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pibl.config.BackendConfig;
import pibl.config.PiblConfig;

/** {@link PiblMain#run} in this JVM, with a stand-in for the proxy that records what it was given. */
class PiblMainTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final CompletableFuture<PiblConfig> started = new CompletableFuture<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ExecutorService executor = Executors.newSingleThreadExecutor();

    @AfterEach
    void cleanUp() {
        executor.shutdownNow();
        System.clearProperty("pibl.log.file");
        System.clearProperty("pibl.log.level");
    }

    private PiblMain main(Path defaultConfig) {
        return new PiblMain(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), defaultConfig, (config, clearCache) -> {
                    started.complete(config);
                    return new PiblMain.Running(config.port() == 0 ? 40000 : config.port(), "nio",
                            () -> closed.set(true));
                });
    }

    /** Runs until started, stops it as SIGTERM would, and returns what the proxy was started with. */
    private PiblConfig startAndStop(Path defaultConfig, String... args) throws Exception {
        PiblMain main = main(defaultConfig);
        Future<Integer> exit = executor.submit(() -> main.run(args));
        assertThat(main.awaitStarted(10, TimeUnit.SECONDS)).as("started; stderr: %s", err).isTrue();
        main.stop();
        assertThat(exit.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(closed).as("stop() must close the server so in-flight exchanges drain").isTrue();
        return started.getNow(null);
    }

    private int runToExit(Path defaultConfig, String... args) {
        return main(defaultConfig).run(args);
    }

    private List<String> errLines() {
        return err.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private Path file(String name, String yaml) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, yaml);
        return file;
    }

    @Test
    void flagsWinOverTheFile() throws Exception {
        Path config = file("pibl.yaml", """
                port: 8080
                backends: [10.0.0.1:80, 10.0.0.2:80]
                log:
                  file: file.log
                cache:
                  directory: file-cache
                  ttl: 5m
                """);

        PiblConfig c = startAndStop(dir.resolve("absent.yaml"), "--config", config.toString(), "--port", "9000",
                "--backend", "127.0.0.1:9001", "--backend", "[::1]:9002", "--ttl", "0", "--cache-dir", "flag-cache",
                "--log-file", "flag.log", "--clear-cache");

        assertThat(c.port()).isEqualTo(9000);
        assertThat(c.backends()).as("--backend replaces the file's list, it does not add to it")
                .containsExactly(new BackendConfig("127.0.0.1", 9001), new BackendConfig("::1", 9002));
        assertThat(c.cache().ttl()).as("--ttl 0: no default TTL").isZero();
        assertThat(c.cache().directory()).isEqualTo(Path.of("flag-cache"));
        assertThat(c.log().file()).isEqualTo(Path.of("flag.log"));
        assertThat(System.getProperty("pibl.log.file")).as("log4j2.xml reads the file from here").isEqualTo("flag.log");
        assertThat(errLines()).isEmpty();
    }

    @Test
    void theFileFillsWhatTheFlagsLeave() throws Exception {
        Path config = file("pibl.yaml", """
                port: 8080
                backends: [10.0.0.1:80]
                timeouts: { connect: 2s }
                log: { level: debug }
                """);

        PiblConfig c = startAndStop(config, "--port", "0");

        assertThat(c.port()).isZero();
        assertThat(c.backends()).containsExactly(new BackendConfig("10.0.0.1", 80));
        assertThat(c.timeouts().connect()).isEqualTo(Duration.ofSeconds(2));
        assertThat(System.getProperty("pibl.log.level")).isEqualTo("debug");
    }

    @Test
    void theLogLevelFlagWinsOverTheFile() throws Exception {
        Path config = file("pibl.yaml", "backends: [10.0.0.1:80]\nlog: { level: debug }\n");

        startAndStop(config, "--log-level", "WARN");

        assertThat(System.getProperty("pibl.log.level")).isEqualTo("warn");
    }

    @Test
    void withoutTheDefaultFileBackendFlagsAreEnough() throws Exception {
        PiblConfig c = startAndStop(dir.resolve("pibl.yaml"), "--port", "8088", "--backend", "127.0.0.1:9001");

        assertThat(c).isEqualTo(PiblConfig.defaults(List.of(new BackendConfig("127.0.0.1", 9001))).withPort(8088));
    }

    @Test
    void withoutTheDefaultFileOrBackendsItSaysWhatToGive() {
        Path absent = dir.resolve("pibl.yaml");

        assertThat(runToExit(absent, "--port", "8088")).isEqualTo(2);

        assertThat(errLines()).containsExactly("pibl: " + absent
                + ": cannot read: no such file (give --config FILE, or --backend HOST:PORT to run on the defaults)");
        assertThat(started).as("nothing may start on a bad configuration").isNotDone();
    }

    @Test
    void anExplicitConfigMustExistEvenWithBackendFlags() {
        Path absent = dir.resolve("other.yaml");

        assertThat(runToExit(dir.resolve("pibl.yaml"), "--config", absent.toString(), "--backend", "a:1"))
                .isEqualTo(2);

        assertThat(errLines()).containsExactly("pibl: " + absent + ": cannot read: no such file");
    }

    @Test
    void aBadFileIsOneLineNamingFileLineAndKeyAndExitTwo() throws IOException {
        Path config = file("bad.yaml", """
                port: 8080
                backends:
                  - 127.0.0.1:9001
                timeouts:
                  connect: -5s
                """);

        assertThat(runToExit(dir.resolve("pibl.yaml"), "--config", config.toString())).isEqualTo(2);

        assertThat(errLines()).containsExactly(
                "pibl: " + config + ": line 5: timeouts.connect: must be a positive duration, got -5s");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(started).isNotDone();
    }

    @Test
    void aFlagValueTheRecordsRejectIsBlamedOnTheFlag() throws IOException {
        Path config = file("pibl.yaml", "port: 8080\nbackends: [10.0.0.1:80]\n");

        assertThat(runToExit(config, "--port", "70000")).isEqualTo(2);
        assertThat(runToExit(config, "--ttl", "-5")).isEqualTo(2);

        assertThat(errLines()).containsExactly(
                "pibl: --port: must be between 0 and 65535 (0 = any free port), got 70000",
                "pibl: --ttl: must be zero or a positive number of seconds, got -5");
    }

    @Test
    void aLogFileFlagThatCannotBeWrittenIsBlamedOnTheFlag() throws IOException {
        Path config = file("pibl.yaml", "backends: [10.0.0.1:80]\n");

        assertThat(runToExit(config, "--log-file", dir.toString())).isEqualTo(2);

        assertThat(errLines()).containsExactly("pibl: --log-file: is a directory, got " + dir);
        assertThat(started).isNotDone();
    }

    @Test
    void flagsThatDoNotParseAreOneLineEach() throws IOException {
        Path config = file("pibl.yaml", "backends: [10.0.0.1:80]\n");

        assertThat(runToExit(config, "--port", "abc")).isEqualTo(2);
        assertThat(runToExit(config, "--backend", "localhost")).isEqualTo(2);
        assertThat(runToExit(config, "--ttl", "5s")).isEqualTo(2);
        assertThat(runToExit(config, "--log-level", "loud")).isEqualTo(2);
        assertThat(runToExit(config, "--prot", "8080")).isEqualTo(2);

        List<String> lines = errLines();
        assertThat(lines).hasSize(5).allSatisfy(line -> assertThat(line).startsWith("pibl: ")
                .endsWith("(see pibl --help)"));
        assertThat(lines.get(0)).contains("--port").contains("'abc' is not an int");
        assertThat(lines.get(1)).contains("--backend").contains("expected host:port, got 'localhost'");
        assertThat(lines.get(2)).contains("--ttl").contains("'5s'");
        assertThat(lines.get(3)).contains("--log-level").contains("loud");
        assertThat(lines.get(4)).contains("'--prot'");
        assertThat(started).isNotDone();
    }

    @Test
    void helpAndVersionGoToStdoutAndExitZero() {
        Path absent = dir.resolve("pibl.yaml");

        assertThat(runToExit(absent, "--help")).isZero();
        assertThat(runToExit(absent, "--version")).isZero();

        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("Usage: pibl", "--config=FILE", "--backend=HOST:PORT", "--ttl=SECONDS",
                "--cache-dir=DIR", "--clear-cache", "--log-file=PATH", "--port=N");
        assertThat(printed.strip()).as("run from classes there is no manifest").endsWith("pibl dev");
        assertThat(errLines()).isEmpty();
    }

    @Test
    void aPortInUseIsOneLineNamingTheAddressAndExitOne() throws IOException {
        Path config = file("pibl.yaml", "bind: 127.0.0.1\nport: 8443\nbackends: [10.0.0.1:80]\n"
                + "admin: { enabled: false }\n");
        PiblMain main = new PiblMain(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), config, (c, clear) -> {
                    throw new BindException("Address already in use");
                });

        assertThat(main.run()).isEqualTo(1);

        assertThat(errLines()).containsExactly("pibl: cannot listen on 127.0.0.1:8443: Address already in use");
    }
}
