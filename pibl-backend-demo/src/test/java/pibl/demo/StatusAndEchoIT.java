package pibl.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

class StatusAndEchoIT {

    @RegisterExtension
    static final RunningBackend backend = new RunningBackend("it-status");

    @ParameterizedTest(name = "/status/{0}")
    @ValueSource(ints = {200, 301, 404, 418, 500, 503})
    void statusAnswersThatStatusWithASmallBody(int code) throws Exception {
        HttpResponse<String> response = backend.getText("/status/" + code);

        assertThat(response.statusCode()).isEqualTo(code);
        assertThat(response.headers().firstValue("x-backend")).hasValue("it-status");
        assertThat(response.body()).startsWith(code + " ").contains("it-status");
    }

    @ParameterizedTest(name = "/status/{0}")
    @ValueSource(ints = {204, 304})
    void bodilessStatusesHaveNoBody(int code) throws Exception {
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response response = connection.get("/status/" + code).read();

            assertThat(response.status()).isEqualTo(code);
            assertThat(response.header("content-length")).isNull();
            assertThat(connection.get("/health").read().text())
                    .as("no body bytes were sent after the %d", code)
                    .isEqualTo("ok\n");
        }
    }

    @ParameterizedTest(name = "/status/{0}")
    @ValueSource(strings = {"99", "600", "abc", "1000"})
    void statusOutsideTheUsableRangeIsABadRequest(String code) throws Exception {
        assertThat(backend.getText("/status/" + code).statusCode()).isEqualTo(400);
    }

    @Test
    void echoReturnsThePostedBodyAndItsType() throws Exception {
        HttpResponse<String> response = RunningBackend.CLIENT.send(backend.request("/echo")
                        .header("Content-Type", "application/x-demo; charset=utf-8")
                        .POST(HttpRequest.BodyPublishers.ofString("hello, backend ✓")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("hello, backend ✓");
        assertThat(response.headers().firstValue("content-type")).hasValue("application/x-demo; charset=utf-8");
        assertThat(response.headers().firstValue("cache-control")).hasValue("no-store");
    }

    @Test
    void echoAcceptsPutAndLargeChunkedBodies() throws Exception {
        byte[] body = Patterns.expected(3, 3 * 1024 * 1024);
        HttpResponse<byte[]> response = RunningBackend.CLIENT.send(backend.request("/echo")
                        .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body)))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(body);
    }

    @Test
    void echoRefusesBodiesOverTenMebibytes() throws Exception {
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response response = connection.send("POST /echo HTTP/1.1\r\nHost: t\r\n"
                    + "Content-Length: " + (10 * 1024 * 1024 + 1) + "\r\n\r\n").read();

            assertThat(response.status()).isEqualTo(413);
        }
    }
}
