package pibl.demo;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The programmatic API other modules' tests use: start, port, name, requestCount, close. */
class DemoBackendIT {

    @Test
    void startsOnAnEphemeralPortAndCountsRequests() throws Exception {
        try (DemoBackend backend = DemoBackend.start("127.0.0.1", 0, "api-1");
             RawConnection connection = new RawConnection(backend.port())) {
            assertThat(backend.port()).isPositive();
            assertThat(backend.name()).isEqualTo("api-1");
            assertThat(backend.requestCount()).isZero();

            RawConnection.Response response = connection.get("/health").read();
            connection.get("/status/500").read();
            connection.get("/nowhere").read();

            assertThat(response.header("x-backend")).isEqualTo("api-1");
            assertThat(backend.requestCount())
                    .as("counted as each request arrives, so visible once its response is")
                    .isEqualTo(3);
        }
    }

    @Test
    void closeEndsOpenConnectionsAndStopsListening() throws Exception {
        DemoBackend backend = DemoBackend.start("127.0.0.1", 0, "api-2");
        int port = backend.port();
        try (RawConnection idle = new RawConnection(port)) {
            idle.get("/health").read();

            backend.close();

            assertThat(idle.closedByServer()).as("kept-alive connections are closed too").isTrue();
            assertThatThrownBy(() -> new Socket("127.0.0.1", port).close())
                    .as("the listener is gone once close() returns")
                    .isInstanceOf(ConnectException.class);
            backend.close(); // a second close is harmless
        }
    }

    @Test
    void aPortInUseIsReportedAsIllegalState() throws Exception {
        try (DemoBackend first = DemoBackend.start("127.0.0.1", 0, "api-3")) {
            assertThatThrownBy(() -> DemoBackend.start("127.0.0.1", first.port(), "api-4"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot listen on 127.0.0.1:" + first.port());
        }
    }

    @Test
    void theAccessLogGetsOneLinePerRequest() throws IOException {
        List<String> lines = new CopyOnWriteArrayList<>();
        try (DemoBackend backend = DemoBackend.start("127.0.0.1", 0, "api-5", 1, lines::add);
             RawConnection connection = new RawConnection(backend.port())) {
            connection.get("/status/503").read();
            connection.send("HEAD /download?size=10 HTTP/1.1\r\nHost: t\r\n\r\n").read(true);
            connection.get("/health").read();
        }
        // close() has returned, so every response's log line has been written.
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).contains("api-5 127.0.0.1:", "\"GET /status/503 HTTP/1.1\" 503 ");
        assertThat(lines.get(1)).as("a HEAD sends no body bytes")
                .contains("\"HEAD /download?size=10 HTTP/1.1\" 200 0 ");
        assertThat(lines.get(2)).contains("\"GET /health HTTP/1.1\" 200 3 ");
    }
}
