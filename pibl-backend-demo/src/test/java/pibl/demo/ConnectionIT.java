package pibl.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

class ConnectionIT {

    @RegisterExtension
    static final RunningBackend backend = new RunningBackend("it-connection");

    @Test
    void keepAliveServesSeveralRequestsOnOneConnection() throws Exception {
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response first = connection.get("/health").read();
            RawConnection.Response second = connection.get("/cache/none").read();

            assertThat(first.status()).isEqualTo(200);
            assertThat(first.header("connection")).isNull();
            assertThat(second.status()).as("the second request was answered on the same socket").isEqualTo(200);
            assertThat(second.text()).contains("it-connection /cache/none");
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (RawConnection connection = backend.connect()) {
            connection.send("GET /cache/none?delay=300 HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "HEAD /download?size=100 HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET /status/404 HTTP/1.1\r\nHost: t\r\n\r\n");

            RawConnection.Response slow = connection.read();
            RawConnection.Response head = connection.read(true);
            RawConnection.Response health = connection.read();
            RawConnection.Response missing = connection.read();

            assertThat(slow.text())
                    .as("the delayed first request is answered first although later ones were ready sooner")
                    .contains("/cache/none");
            assertThat(head.header("content-length")).isEqualTo("100");
            assertThat(health.text()).isEqualTo("ok\n");
            assertThat(missing.status()).isEqualTo(404);
        }
    }

    @Test
    void http10WithoutKeepAliveIsClosedAfterTheResponse() throws Exception {
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response response = connection.send("GET /health HTTP/1.0\r\n\r\n").read();

            assertThat(response.text()).isEqualTo("ok\n");
            assertThat(response.header("connection")).isEqualTo("close");
            assertThat(connection.closedByServer()).isTrue();
        }
    }

    @Test
    void http10WithKeepAliveStaysOpen() throws Exception {
        try (RawConnection connection = backend.connect()) {
            String request = "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
            RawConnection.Response first = connection.send(request).read();
            RawConnection.Response second = connection.send(request).read();

            assertThat(first.header("connection")).isEqualTo("keep-alive");
            assertThat(second.text()).isEqualTo("ok\n");
        }
    }

    @Test
    void connectionCloseFromTheClientIsHonoured() throws Exception {
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response response = connection
                    .send("GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").read();

            assertThat(response.header("connection")).isEqualTo("close");
            assertThat(connection.closedByServer()).isTrue();
        }
    }

    @Test
    void closePathAnswersThenClosesAndIgnoresPipelinedRequests() throws Exception {
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response bye = connection.send("GET /close HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET /health HTTP/1.1\r\nHost: t\r\n\r\n").read();

            assertThat(bye.status()).isEqualTo(200);
            assertThat(bye.header("connection")).isEqualTo("close");
            assertThat(connection.closedByServer())
                    .as("nothing follows the /close response, not even the pipelined /health")
                    .isTrue();
        }
    }

    @Test
    void aMalformedRequestGetsA400AndTheConnectionCloses() throws Exception {
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response response = connection
                    .send("GET /health HTTP/1.1\r\nHost: t\r\nContent-Length: nope\r\n\r\n").read();

            assertThat(response.status()).isEqualTo(400);
            assertThat(connection.closedByServer()).isTrue();
        }
    }
}
