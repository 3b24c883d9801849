package pibl.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

class DownloadIT {

    @RegisterExtension
    static final RunningBackend backend = new RunningBackend("it-download");

    @ParameterizedTest(name = "size={0}")
    @ValueSource(ints = {0, 1, 255, 256, 257, 65535, 65536, 65537, 1_000_003})
    void downloadIsExactlyTheRequestedPatternBytes(int size) throws Exception {
        HttpResponse<byte[]> download = backend.getBytes("/download?size=" + size);

        assertThat(download.statusCode()).isEqualTo(200);
        assertThat(download.headers().firstValue("content-length")).hasValue(Integer.toString(size));
        assertThat(download.headers().firstValue("content-type")).hasValue("application/octet-stream");
        assertThat(download.headers().firstValue("cache-control")).hasValue("max-age=60");
        assertThat(download.headers().firstValue("x-backend")).hasValue("it-download");
        assertThat(download.body()).isEqualTo(Patterns.expected(0, size));
    }

    @Test
    void severalMebibytesStreamByteExactly() throws Exception {
        long size = 5L * 1024 * 1024 + 17;
        HttpResponse<InputStream> download = RunningBackend.CLIENT.send(
                backend.request("/download?size=" + size).build(), HttpResponse.BodyHandlers.ofInputStream());

        try (InputStream body = download.body()) {
            assertThat(Patterns.verify(body)).isEqualTo(size);
        }
    }

    @Test
    void aGibibyteStreamsWithoutBeingHeldInMemory() throws Exception {
        // The test JVM has -Xmx512m: a body built in memory, or queued faster than it drains, could not fit.
        long size = 1L << 30;
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response head = connection
                    .send("GET /download?size=" + size + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    .readHead();

            assertThat(head.header("content-length")).isEqualTo(Long.toString(size));
            assertThat(Patterns.verify(connection.input()))
                    .as("every byte right, and not one more before the server closed")
                    .isEqualTo(size);
        }
    }

    @Test
    void headAnswersTheSameHeadWithoutABody() throws Exception {
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response head = connection
                    .send("HEAD /download?size=12345 HTTP/1.1\r\nHost: t\r\n\r\n").read(true);

            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-length"))
                    .as("HEAD reports the length a GET would get")
                    .isEqualTo("12345");
            assertThat(connection.get("/health").read().text())
                    .as("not one body byte followed the HEAD response: the next response starts right after it")
                    .isEqualTo("ok\n");
        }
    }

    @Test
    void chunkedSendsThePatternWithoutContentLength() throws Exception {
        int size = 200_000;
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response chunked = connection.get("/chunked?size=" + size).read();

            assertThat(chunked.status()).isEqualTo(200);
            assertThat(chunked.header("transfer-encoding")).isEqualTo("chunked");
            assertThat(chunked.header("content-length")).isNull();
            assertThat(chunked.body()).isEqualTo(Patterns.expected(0, size));
            assertThat(connection.get("/health").read().status())
                    .as("the connection stays usable after the last chunk")
                    .isEqualTo(200);
        }
    }

    @Test
    void chunkedToAnHttp10ClientIsDelimitedByClosing() throws Exception {
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response response = connection
                    .send("GET /chunked?size=1000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").read();

            assertThat(response.header("transfer-encoding")).as("HTTP/1.0 has no chunked coding").isNull();
            assertThat(response.header("connection")).isEqualTo("close");
            assertThat(response.body()).isEqualTo(Patterns.expected(0, 1000));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/download", "/download?size=", "/download?size=-1", "/download?size=lots",
            "/chunked?size=1e3"})
    void aMissingOrBadSizeIsABadRequest(String path) throws Exception {
        assertThat(backend.getText(path).statusCode()).isEqualTo(400);
    }
}
