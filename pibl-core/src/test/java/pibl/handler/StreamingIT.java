package pibl.handler;

import org.junit.jupiter.api.extension.ExtendWith;
import pibl.testing.NoLeaks;
import org.junit.jupiter.api.Test;
import pibl.server.ProxyServer;
import pibl.testing.ChildProcess;
import pibl.testing.GeneratedBody;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.StreamingResponder;
import pibl.testing.TestBackend;
import pibl.testing.UploadBackend;

import java.io.InputStream;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Responses of any size stream through without being held in memory, at the client's pace; request bodies of any
 * size (up to {@code limits.max-request-body}) stream the other way, at the backend's.
 */
@ExtendWith(NoLeaks.class)
class StreamingIT {

    @Test
    void oneGibibyteStreamsByteExactThroughAProxyWithA256MiBHeap() throws Exception {
        long size = 1L << 30;
        try (TestBackend backend = TestBackend.start("big").behave(new StreamingResponder(size));
             ChildProcess proxy = ChildProcess.startJava(
                     List.of("-Xmx256m", "-XX:MaxDirectMemorySize=128m", "-Dio.netty.leakDetection.level=disabled"),
                     "pibl.testing.ProxyMain", List.of(backend.address()));
             RawHttp http = new RawHttp(proxy.port(), 30_000)) {
            http.send("GET /huge HTTP/1.1\r\nHost: a\r\n\r\n");
            InputStream in = http.input();
            String status = readLine(in);
            assertThat(status).startsWith("HTTP/1.1 200");
            long contentLength = -1;
            for (String l = readLine(in); !l.isEmpty(); l = readLine(in)) {
                if (l.toLowerCase().startsWith("content-length:")) {
                    contentLength = Long.parseLong(l.substring(15).trim());
                }
            }
            assertThat(contentLength).isEqualTo(size);
            byte[] buf = new byte[1 << 16];
            long offset = 0;
            while (offset < size) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, size - offset));
                if (n <= 0) {
                    throw new AssertionError("body ended early at " + offset);
                }
                if (!StreamingResponder.matches(buf, n, offset)) {
                    throw new AssertionError("body differs within bytes " + offset + ".." + (offset + n));
                }
                offset += n;
            }
            assertThat(offset).isEqualTo(size);
            assertThat(proxy.isAlive()).as("no OutOfMemoryError").isTrue();
        }
    }

    @Test
    void oneGibibyteUploadStreamsByteExactThroughAProxyWithA256MiBHeap() throws Exception {
        long size = 1L << 30; // the default max-request-body, exactly
        GeneratedBody body = new GeneratedBody();
        try (UploadBackend backend = UploadBackend.start();
             ChildProcess proxy = ChildProcess.startJava(
                     List.of("-Xmx256m", "-XX:MaxDirectMemorySize=128m", "-Dio.netty.leakDetection.level=disabled"),
                     "pibl.testing.ProxyMain", List.of(backend.address()));
             RawHttp http = new RawHttp(proxy.port(), 30_000)) {
            http.send("PUT /huge HTTP/1.1\r\nHost: a\r\nContent-Length: " + size + "\r\n\r\n");
            body.write(http.output(), size);
            RawHttp.Response r = http.read(false);

            assertThat(r.status()).isEqualTo(200);
            UploadBackend.Upload u = backend.next(10);
            assertThat(u.complete()).isTrue();
            assertThat(u.bytes()).isEqualTo(size);
            assertThat(u.crc()).as("the backend's CRC32 of what it read is the sender's").isEqualTo(body.crc());
            assertThat(proxy.isAlive()).as("no OutOfMemoryError").isTrue();
        }
    }

    @Test
    void aClientThatDoesNotReadStopsTheBackendInsteadOfFillingMemory() throws Exception {
        StreamingResponder body = new StreamingResponder(1L << 30);
        try (TestBackend backend = TestBackend.start("big").behave(body);
             ProxyServer proxy = ProxyFixture.start(List.of(backend.address()));
             RawHttp http = new RawHttp(proxy.port())) {
            http.send("GET /huge HTTP/1.1\r\nHost: a\r\n\r\n");
            // Wait until the flow has settled: the backend's count stops growing.
            long previous = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                Thread.sleep(300);
                long now = body.written();
                if (now > 0 && now == previous) {
                    break;
                }
                previous = now;
            }
            assertThat(body.written())
                    .as("with the client not reading, only socket buffers and the water marks fill up")
                    .isLessThan(64L << 20);
        }
    }

    private static String readLine(InputStream in) throws java.io.IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }
}
