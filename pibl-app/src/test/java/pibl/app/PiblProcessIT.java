package pibl.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * PIBL as a separate JVM, as an operator runs it: the exit code, what reaches stderr, the real
 * {@code log4j2.xml}, and the SIGTERM path. Uses this test's class path (the shaded jar is built
 * after the tests), with {@code log4j2.xml} named explicitly so {@code log4j2-test.xml} stays out.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES) // a child that hangs must not hang the build
class PiblProcessIT {
    private static final Pattern LISTENING = Pattern.compile("PiblMain - pibl \\S+ listening on [^ ]+:(\\d+) ");
    private static final Pattern SERVER_LINE =
            Pattern.compile("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d,\\d{3} (TRACE|DEBUG|INFO |WARN |ERROR) \\[.+] ");

    @TempDir
    Path dir;

    private Process process;
    private HttpServer backend;

    @AfterEach
    void cleanUp() {
        if (process != null) {
            process.destroyForcibly();
        }
        if (backend != null) {
            backend.stop(0);
        }
    }

    private Process start(String... args) throws IOException {
        return startUnder(List.of(), args);
    }

    /** PIBL started by {@code launcher} (e.g. nohup), which execs the JVM with what it changed. */
    private Process startUnder(List<String> launcher, String... args) throws IOException {
        List<String> command = new ArrayList<>(launcher);
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-Dlog4j2.configurationFile=log4j2.xml",
                "pibl.app.PiblMain"));
        command.addAll(List.of(args));
        process = new ProcessBuilder(command).directory(dir.toFile()).start();
        return process;
    }

    @Test
    void aBadFileExitsTwoWithOneStderrLineAndNoStackTrace() throws Exception {
        Files.writeString(dir.resolve("bad.yaml"), "backends: [127.0.0.1:9001]\nport: abc\n");

        Process p = start("--config", "bad.yaml");
        p.getOutputStream().close();
        CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        String stderr = readAll(p.getErrorStream());

        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(stderr.lines()).containsExactly("pibl: bad.yaml: line 2: port: expected a whole number, got 'abc'");
        assertThat(stderr).doesNotContain("Exception", "\tat ");
        assertThat(stdout.get(10, TimeUnit.SECONDS)).isEmpty();
        assertThat(dir.resolve("logs")).as("Log4j2 must not start, nor create its file, on a bad configuration")
                .doesNotExist();
    }

    @Test
    void underNohupItSaysThatSighupCannotReloadIt() throws Exception {
        Files.writeString(dir.resolve("pibl.yaml"), """
                bind: 127.0.0.1
                port: 0
                backends: [127.0.0.1:9]
                health-check: { enabled: false }
                admin: { enabled: false }
                cache: { enabled: false }
                """);

        Process p = startUnder(List.of("nohup"));
        p.getOutputStream().close();
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        BufferedReader stdout = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        List<String> printed = new ArrayList<>();
        assertThat(readUntil(stdout, printed, "PiblMain - pibl ")).as("started; stderr %s", stderr.getNow(""))
                .isNotNull();
        assertThat(printed).as("the JVM keeps an inherited SIG_IGN: a reload by signal would do nothing, silently")
                .anyMatch(l -> l.contains(" WARN ") && l.contains("SIGHUP is ignored in this process"));
    }

    @Test
    void servesLogsToStdoutAndFileAndStopsCleanlyOnSigterm() throws Exception {
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        backend.createContext("/hello", exchange -> {
            byte[] body = "hello".getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        backend.start();
        Files.writeString(dir.resolve("pibl.yaml"), """
                bind: 127.0.0.1
                port: 0
                backends:
                  - 127.0.0.1:%d
                health-check: { enabled: false }
                admin: { enabled: false }
                cache: { directory: cache }
                """.formatted(backend.getAddress().getPort()));

        Process p = start("--log-file", "out/pibl.log", "--log-level", "debug");
        p.getOutputStream().close();
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        BufferedReader stdout = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        List<String> printed = new ArrayList<>();
        String listening = readUntil(stdout, printed, "PiblMain - pibl ");
        Matcher m = LISTENING.matcher(String.valueOf(listening));
        assertThat(m.find()).as("startup line on stdout; got %s, stderr %s", printed, stderr.getNow("")).isTrue();
        int port = Integer.parseInt(m.group(1));

        HttpResponse<String> response = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello"))
                        .timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).isEqualTo("hello");
        Files.writeString(dir.resolve("pibl.yaml"), "backends: []\n");
        assertThat(new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start().waitFor()).isZero();
        String refused = readUntil(stdout, printed, "SIGHUP");
        assertThat(refused).as("SIGHUP re-reads the file and keeps running on a bad one")
                .endsWith("SIGHUP: configuration refused, the running one stays: pibl.yaml: line 1: backends: "
                        + "must list at least one backend as host:port");
        assertThat(p.isAlive()).isTrue();
        p.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of stdout
        for (String line = stdout.readLine(); line != null; line = stdout.readLine()) {
            printed.add(line);
        }

        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("a drained stop after SIGTERM is a success").isZero();
        assertThat(stderr.get(10, TimeUnit.SECONDS)).isEmpty();
        List<String> logged = Files.readAllLines(dir.resolve("out/pibl.log"));
        assertThat(logged).as("the file gets what stdout gets, flushed by LogManager.shutdown()")
                .containsExactlyElementsOf(printed);
        assertThat(logged).as("the async context selector from log4j2.component.properties is in use")
                .anyMatch(line -> SERVER_LINE.matcher(line).find() && line.contains("AsyncLoggerContext"));
        assertThat(logged).as("--log-level debug reached Log4j2").anyMatch(line -> line.contains(" DEBUG "));
        assertThat(logged).as("Netty's own DEBUG chatter stays out")
                .noneMatch(line -> line.contains(" DEBUG [main] PlatformDependent"));
        assertThat(logged).as("the access line is pibl-core's own, without the server log's prefix")
                .anyMatch(line -> line.contains("\"GET /hello HTTP/1.1\" 200") && !SERVER_LINE.matcher(line).find())
                .as("pibl.access has additivity off: the root logger does not print it a second time")
                .noneMatch(line -> line.contains("\"GET /hello HTTP/1.1\" 200") && SERVER_LINE.matcher(line).find());
        assertThat(logged).last().asString().endsWith("PiblMain - stopped");
        assertThat(logged).noneMatch(line -> line.contains("StatusLogger"));
    }

    /** Reads stdout into {@code printed} up to and including the first line containing {@code text}. */
    private static String readUntil(BufferedReader stdout, List<String> printed, String text) throws IOException {
        for (String line = stdout.readLine(); line != null; line = stdout.readLine()) {
            printed.add(line);
            if (line.contains(text)) {
                return line;
            }
        }
        return null;
    }

    private static String readAll(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
