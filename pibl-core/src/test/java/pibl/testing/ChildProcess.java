package pibl.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A JVM child started on the test classpath, whose first {@code PORT n} line is awaited. */
public final class ChildProcess implements AutoCloseable {
    private final Process process;
    private final int port;
    private final int adminPort;
    private final long listenedAfterMillis;
    private final StringBuffer output;

    private ChildProcess(Process process, int port, int adminPort, long listenedAfterMillis, StringBuffer output) {
        this.process = process;
        this.port = port;
        this.adminPort = adminPort;
        this.listenedAfterMillis = listenedAfterMillis;
        this.output = output;
    }

    public static ChildProcess startJava(List<String> jvmArgs, String mainClass, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + "/bin/java");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        long launched = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Integer> port = new CompletableFuture<>();
        CompletableFuture<Integer> admin = new CompletableFuture<>();
        StringBuffer out = new StringBuffer();
        Thread pump = new Thread(() -> {
            try {
                String line;
                while ((line = reader.readLine()) != null) {
                    out.append(line).append('\n');
                    if (line.startsWith("PORT ")) {
                        admin.complete(-1);
                        port.complete(Integer.parseInt(line.substring(5).trim()));
                    } else if (line.startsWith("ADMIN ")) {
                        admin.complete(Integer.parseInt(line.substring(6).trim()));
                    }
                }
            } catch (IOException ignored) {
                // process gone
            }
            port.completeExceptionally(new IllegalStateException("child exited before listening:\n" + out));
        }, "child-output");
        pump.setDaemon(true);
        pump.start();
        try {
            int listening = port.get(30, TimeUnit.SECONDS);
            long after = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - launched);
            return new ChildProcess(p, listening, admin.getNow(-1), after, out);
        } catch (Exception e) {
            p.destroyForcibly();
            throw e;
        }
    }

    public int port() {
        return port;
    }

    /** The admin listener's port, or -1 if the child has none. */
    public int adminPort() {
        return adminPort;
    }

    /** From launching the JVM to its {@code PORT} line. */
    public long listenedAfterMillis() {
        return listenedAfterMillis;
    }

    /** What the child printed so far. */
    public String output() {
        return output.toString();
    }

    public Process process() {
        return process;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
