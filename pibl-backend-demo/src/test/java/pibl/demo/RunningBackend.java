package pibl.demo;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One demo backend on 127.0.0.1 and an ephemeral port for a whole test class, closed after it; then Netty must have
 * reported no leaked buffer.
 * <pre>{@code
 *   @RegisterExtension
 *   static final RunningBackend backend = new RunningBackend("it-pages");
 * }</pre>
 */
final class RunningBackend implements BeforeAllCallback, AfterAllCallback {

    /** An HTTP/1.1 client (the default would try an h2c upgrade, adding headers the tests do not send). */
    static final HttpClient CLIENT = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private final String name;
    private final int threads;
    private final AccessLog accessLog;
    private DemoBackend backend;

    RunningBackend(String name) {
        this(name, 0, AccessLog.NONE);
    }

    RunningBackend(String name, int threads, AccessLog accessLog) {
        this.name = name;
        this.threads = threads;
        this.accessLog = accessLog;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        backend = DemoBackend.start("127.0.0.1", 0, name, threads, accessLog);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        backend.close();
        if (LeakRecordingDetector.installed()) {
            assertThat(LeakRecordingDetector.leaksAfterGc())
                    .as("every ByteBuf the backend allocated must have been released")
                    .isEmpty();
        }
    }

    DemoBackend backend() {
        return backend;
    }

    int port() {
        return backend.port();
    }

    String name() {
        return name;
    }

    URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port() + pathAndQuery);
    }

    /** A request builder for {@code pathAndQuery} with a generous timeout. */
    HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(30));
    }

    HttpResponse<String> getText(String pathAndQuery) throws IOException, InterruptedException {
        return CLIENT.send(request(pathAndQuery).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<byte[]> getBytes(String pathAndQuery) throws IOException, InterruptedException {
        return CLIENT.send(request(pathAndQuery).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    RawConnection connect() throws IOException {
        return new RawConnection(port());
    }
}
