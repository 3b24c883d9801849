package pibl.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import pibl.demo.DemoBackend;

/**
 * What an operator does to a running PIBL, done to a child JVM with the real {@code log4j2.xml}:
 * stop it with SIGTERM while a request is in flight, point it at other backends with SIGHUP or by
 * editing {@code pibl.yaml}, and hand it a broken file. The backends are demo backends in this JVM,
 * each answering with its own {@code X-Backend}; requests go to {@code /api/info}, which is
 * {@code no-store}, so a cached answer can never stand in for a backend's.
 */
class OperationsProcessIT {
    private static final Pattern LISTENING = Pattern.compile("PiblMain - pibl \\S+ listening on [^ ]+:(\\d+) ");

    @TempDir
    Path dir;

    private final List<DemoBackend> backends = new ArrayList<>();
    private Pibl pibl;

    @AfterEach
    void cleanUp() {
        if (pibl != null) {
            pibl.process.destroyForcibly();
        }
        backends.forEach(DemoBackend::close);
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void sigtermDrainsAnInFlightSlowRequestThenExitsZero() throws Exception {
        DemoBackend b1 = backend("b1");
        Files.writeString(dir.resolve("pibl.yaml"), config(b1) + "timeouts: { drain: 10s }\n");
        pibl = start();

        try (Socket slow = connect(pibl.port)) {
            send(slow, "/api/info?delay=1500");
            for (int i = 0; i < 500 && b1.requestCount() == 0; i++) {
                Thread.sleep(10);
            }
            assertThat(b1.requestCount()).as("the slow request must be at the backend before the stop begins")
                    .isEqualTo(1);

            pibl.process.toHandle().destroy(); // SIGTERM
            pibl.awaitLine("draining 1 client connections");

            assertThatThrownBy(() -> connect(pibl.port).close())
                    .as("the listener is closed before the drain starts: new clients are turned away")
                    .isInstanceOf(ConnectException.class);
            Response response = Response.read(slow.getInputStream());
            assertThat(response.status).as("the in-flight exchange finishes during the drain").isEqualTo(200);
            assertThat(response.header("x-backend")).isEqualTo("b1");
            assertThat(response.body).as("the whole body arrives, not a cut-off one").startsWith("{\"name\":\"b1\"")
                    .endsWith("}\n").contains("\"uri\":\"/api/info?delay=1500\"");
            assertThat(response.header("connection")).as("a draining proxy tells the client not to reuse the connection")
                    .isEqualToIgnoringCase("close");
            assertThat(slow.getInputStream().read()).as("and closes it after the response").isEqualTo(-1);
        }

        assertThat(pibl.process.waitFor(30, TimeUnit.SECONDS)).as("the process ends once drained").isTrue();
        assertThat(pibl.process.exitValue()).as("a drained stop after SIGTERM is a success").isZero();
        assertThat(b1.requestCount()).as("nothing reached the backend after the stop began").isEqualTo(1);
        List<String> logged = Files.readAllLines(dir.resolve("pibl.log"));
        int access = indexOf(logged, "\"GET /api/info?delay=1500 HTTP/1.1\" 200 ");
        int stopping = indexOf(logged, "PiblMain - stopping: draining in-flight exchanges for up to 10s");
        int stopped = indexOf(logged, "PiblMain - stopped");
        assertThat(stopping).as("the stop is logged; log: %s", logged).isNotNegative();
        assertThat(access).as("the drained exchange is logged after the stop began; log: %s", logged)
                .isGreaterThan(stopping);
        assertThat(stopped).as("and the last line says the proxy stopped").isEqualTo(logged.size() - 1);
        assertThat(pibl.stderr.get(10, TimeUnit.SECONDS)).isEmpty();
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void sighupWithNewBackendsMovesTrafficWithoutDroppingAnOpenKeepAliveClient() throws Exception {
        DemoBackend b1 = backend("b1");
        DemoBackend b2 = backend("b2");
        // pibl.yaml is a link to etc/pibl.yaml: an edit there is not seen by the file watcher (it
        // watches pibl.yaml's own directory), so only the SIGHUP can move the traffic.
        Path real = Files.createDirectories(dir.resolve("etc")).resolve("pibl.yaml");
        Files.writeString(real, config(b1));
        Files.createSymbolicLink(dir.resolve("pibl.yaml"), Path.of("etc", "pibl.yaml"));
        pibl = start();

        try (Socket client = connect(pibl.port)) {
            for (int i = 0; i < 3; i++) {
                assertKeptAliveFrom(client, "b1");
            }
            Files.writeString(real, config(b2));
            pibl.hangUp();
            pibl.awaitLine("PiblMain - SIGHUP: configuration reloaded");
            for (int i = 0; i < 3; i++) {
                assertKeptAliveFrom(client, "b2");
            }
        }
        assertThat(b1.requestCount()).isEqualTo(3);
        assertThat(b2.requestCount()).isEqualTo(3);
        assertThat(pibl.process.isAlive()).isTrue();
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void sighupReplacesPoolsAndRoutesAndRefusesAShadowedRouteKeepingTheRunningOnes() throws Exception {
        DemoBackend b1 = backend("b1");
        DemoBackend b2 = backend("b2");
        Files.writeString(dir.resolve("pibl.yaml"), routed(b1, b2, "[{ path: /api/, pool: one }, { pool: two }]"));
        pibl = start();
        assertThat(pibl.startupLine).contains("; pools one (127.0.0.1:" + b1.port() + "), two (127.0.0.1:"
                + b2.port() + "); 2 routes;");

        try (Socket client = connect(pibl.port)) {
            assertKeptAliveFrom(client, "b1");
            Files.writeString(dir.resolve("pibl.yaml"), routed(b1, b2, "[{ path: /api/, pool: two }, { pool: one }]"));
            pibl.hangUp();
            pibl.awaitLine("PiblMain - SIGHUP: configuration reloaded");
            assertKeptAliveFrom(client, "b2");

            Files.writeString(dir.resolve("pibl.yaml"), routed(b1, b2, "[{ pool: one }, { path: /api/, pool: two }]"));
            pibl.hangUp();
            String refused = pibl.awaitLine("PiblMain - SIGHUP: configuration ");
            assertThat(refused).contains(" ERROR ", "configuration refused, the running one stays: pibl.yaml: "
                    + "line 8: routes[1]: can never match: routes[0] (/) comes first");
            assertKeptAliveFrom(client, "b2");
        }
        assertThat(pibl.process.isAlive()).isTrue();
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aReloadedFileThatDoesNotLoadIsRefusedAndTheRunningConfigurationStays() throws Exception {
        DemoBackend b1 = backend("b1");
        DemoBackend b2 = backend("b2");
        Files.writeString(dir.resolve("pibl.yaml"), config(b1));
        pibl = start();

        try (Socket client = connect(pibl.port)) {
            assertKeptAliveFrom(client, "b1");
            // A valid new backend list next to a typo: nothing of the file may be applied.
            Files.writeString(dir.resolve("pibl.yaml"), config(b2) + "timeouts: { drian: 5s }\n");
            pibl.hangUp();
            String refused = pibl.awaitLine("PiblMain - SIGHUP: configuration ");
            assertThat(refused).as("one ERROR line names the file, the line and the key")
                    .contains(" ERROR ", "SIGHUP: configuration refused, the running one stays: "
                            + "pibl.yaml: line 7: timeouts.drian: unknown key");
            for (int i = 0; i < 3; i++) {
                assertKeptAliveFrom(client, "b1");
            }
            assertThat(pibl.process.isAlive()).isTrue();
            assertThat(b2.requestCount()).as("the refused file's backend list was not applied").isZero();

            // The refusal left nothing stuck: the corrected file is applied by the next SIGHUP.
            Files.writeString(dir.resolve("pibl.yaml"), config(b2));
            pibl.hangUp();
            pibl.awaitLine("PiblMain - SIGHUP: configuration reloaded");
            assertKeptAliveFrom(client, "b2");
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void sighupReloadsTheFleetAndRefusesASecretFileThatCannotBeUsed() throws Exception {
        DemoBackend b1 = backend("b1");
        int self;
        int other;
        try (java.net.ServerSocket a = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             java.net.ServerSocket b = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            self = a.getLocalPort();
            other = b.getLocalPort();
        }
        Files.writeString(dir.resolve("cluster.key"), "an-example-fleet-secret-0123\n");
        String alone = clustered(b1, self, "[127.0.0.1:" + self + "]");
        Files.writeString(dir.resolve("pibl.yaml"), alone);
        pibl = start(); // its startup lines say "cluster: this node is 127.0.0.1:<self> of 1"

        Files.writeString(dir.resolve("pibl.yaml"),
                clustered(b1, self, "[127.0.0.1:" + self + ", 127.0.0.1:" + other + "]"));
        pibl.hangUp();
        assertThat(pibl.awaitLine("cluster reloaded: "))
                .contains("this node is 127.0.0.1:" + self + " of [127.0.0.1:" + self + ", 127.0.0.1:" + other + "]");
        pibl.awaitLine("PiblMain - SIGHUP: configuration reloaded");

        Files.writeString(dir.resolve("cluster.key"), "short\n");
        pibl.hangUp();
        String refused = pibl.awaitLine("PiblMain - SIGHUP: configuration ");
        assertThat(refused).as("one ERROR line naming the key and what is wrong; the fleet stays")
                .contains(" ERROR ", "configuration refused, the running one stays: ", "cluster.secret-file",
                        "line 1 holds 5 bytes");
        try (Socket client = connect(pibl.port)) {
            assertKeptAliveFrom(client, "b1");
        }
        assertThat(pibl.process.isAlive()).isTrue();
    }

    /** pibl.yaml in cluster mode: this node on {@code port}, these {@code peers} (a YAML flow list). */
    private static String clustered(DemoBackend backend, int port, String peers) {
        return """
                bind: 127.0.0.1
                port: %d
                backends: [127.0.0.1:%d]
                health-check: { enabled: false }
                admin: { enabled: false }
                log: { file: pibl.log }
                cache: { enabled: true, directory: cache }
                cluster:
                  self: 127.0.0.1:%d
                  peers: %s
                  secret-file: cluster.key
                """.formatted(port, backend.port(), port, peers);
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void editingTheConfigFileWithoutASignalReloadsIt() throws Exception {
        DemoBackend b1 = backend("b1");
        DemoBackend b2 = backend("b2");
        Files.writeString(dir.resolve("pibl.yaml"), config(b1));
        pibl = start();
        assertThat(pibl.startupLine).contains("; backends 127.0.0.1:" + b1.port() + ";");

        // At once: the startup line says the proxy is ready, so the watcher must already be in place.
        Files.writeString(dir.resolve("pibl.yaml"), config(b2));
        String servedBy = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        try (Socket client = connect(pibl.port)) {
            while (!"b2".equals(servedBy) && System.nanoTime() < deadline) {
                Thread.sleep(50);
                send(client, "/api/info");
                Response response = Response.read(client.getInputStream());
                assertThat(response.status).as("no request fails while the file is reloaded").isEqualTo(200);
                servedBy = response.header("x-backend");
            }
        }
        assertThat(servedBy).as("within 5 s of the edit the traffic goes to the new backend list").isEqualTo("b2");
        assertThat(pibl.awaitLine("configuration ")).as("the watcher, not a signal, reloaded it")
                .endsWith("PiblMain - pibl.yaml changed: configuration reloaded");
        assertThat(pibl.process.isAlive()).isTrue();
    }

    // --- the child process ---

    /** A running PIBL child, its port from the startup line, and its stdout read line by line. */
    private static final class Pibl {
        final Process process;
        final int port;
        final String startupLine;
        final CompletableFuture<String> stderr;
        private final LinkedBlockingQueue<String> unread = new LinkedBlockingQueue<>();
        private final List<String> printed = new CopyOnWriteArrayList<>();

        Pibl(Process process) throws IOException, InterruptedException {
            this.process = process;
            process.getOutputStream().close();
            stderr = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
            Thread reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = out.readLine(); line != null; line = out.readLine()) {
                        printed.add(line);
                        unread.add(line);
                    }
                } catch (IOException e) {
                    // the child is gone; awaitLine reports what was printed
                }
            }, "pibl-stdout");
            reader.setDaemon(true);
            reader.start();
            startupLine = awaitLine("PiblMain - pibl ");
            Matcher m = LISTENING.matcher(startupLine);
            assertThat(m.find()).as("startup line; stdout %s", printed).isTrue();
            port = Integer.parseInt(m.group(1));
        }

        /** The next stdout line, not returned before, that contains {@code text}; fails after 20 s. */
        String awaitLine(String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            for (long left = 1; left > 0; left = deadline - System.nanoTime()) {
                String line = unread.poll(left, TimeUnit.NANOSECONDS);
                if (line != null && line.contains(text)) {
                    return line;
                }
            }
            throw new AssertionError("no line containing '" + text + "' on stdout; got " + printed
                    + (process.isAlive() ? "" : "; exited " + process.exitValue() + ", stderr " + stderr.getNow("")));
        }

        void hangUp() throws IOException, InterruptedException {
            assertThat(new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).start().waitFor()).isZero();
        }
    }

    private Pibl start() throws IOException, InterruptedException {
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-Dlog4j2.configurationFile=log4j2.xml",
                "pibl.app.PiblMain");
        return new Pibl(new ProcessBuilder(command).directory(dir.toFile()).start());
    }

    private DemoBackend backend(String name) {
        DemoBackend backend = DemoBackend.start("127.0.0.1", 0, name);
        backends.add(backend);
        return backend;
    }

    /** A whole pibl.yaml on these backends, with nothing running in the background of the test. */
    private static String config(DemoBackend... list) {
        return """
                bind: 127.0.0.1
                port: 0
                backends: [%s]
                health-check: { enabled: false }
                admin: { enabled: false }
                log: { file: pibl.log }
                """.formatted(java.util.Arrays.stream(list).map(b -> "127.0.0.1:" + b.port())
                .collect(Collectors.joining(", ")));
    }

    /** Pools {@code one} (b1) and {@code two} (b2), and these routes (a YAML flow list). */
    private static String routed(DemoBackend one, DemoBackend two, String routes) {
        return """
                bind: 127.0.0.1
                port: 0
                pools:
                  one: { backends: [127.0.0.1:%d] }
                  two: { backends: [127.0.0.1:%d] }
                routes:
                  %s
                health-check: { enabled: false }
                admin: { enabled: false }
                log: { file: pibl.log }
                """.formatted(one.port(), two.port(), routes.replace("}, {", "}\n  - {").replace("[{", "- {")
                .replace("}]", "}"));
    }

    // --- HTTP/1.1 on a raw socket, so the test decides when a connection is opened ---

    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(15_000);
        return socket;
    }

    private static void send(Socket socket, String target) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** One request on {@code client}, answered 200 by {@code backend}, with the connection left open. */
    private static void assertKeptAliveFrom(Socket client, String backend) throws IOException {
        send(client, "/api/info");
        Response response = Response.read(client.getInputStream());
        assertThat(response.status).isEqualTo(200);
        assertThat(response.header("x-backend")).as("served by %s", backend).isEqualTo(backend);
        assertThat(response.header("connection")).as("the proxy keeps the client's connection open")
                .isNotEqualToIgnoringCase("close");
    }

    private record Response(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name);
        }

        /**
         * Reads one response, its body by Content-Length, chunked or until close. Byte by byte from
         * the socket's own stream, so nothing of a next response is consumed with it.
         */
        static Response read(InputStream in) throws IOException {
            String statusLine = line(in);
            if (statusLine == null) {
                throw new IOException("connection closed before a response");
            }
            int status = Integer.parseInt(statusLine.split(" ")[1]);
            Map<String, String> headers = new LinkedHashMap<>();
            for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
                int colon = h.indexOf(':');
                headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                for (int size = Integer.parseInt(line(in).split(";")[0].trim(), 16); size > 0;
                        size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) {
                    body.write(in.readNBytes(size));
                    line(in);
                }
                for (String trailer = line(in); trailer != null && !trailer.isEmpty(); trailer = line(in)) {
                    // trailers are not needed here
                }
            } else if (headers.containsKey("content-length")) {
                body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
            } else {
                body.write(in.readAllBytes());
            }
            return new Response(status, headers, body.toString(StandardCharsets.UTF_8));
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder b = new StringBuilder();
            for (int c = in.read(); c != -1; c = in.read()) {
                if (c == '\n') {
                    return b.toString();
                }
                if (c != '\r') {
                    b.append((char) c);
                }
            }
            return b.length() == 0 ? null : b.toString();
        }
    }

    private static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
