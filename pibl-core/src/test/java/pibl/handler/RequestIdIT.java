package pibl.handler;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.config.LogConfig;
import pibl.server.ProxyServer;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One request followed from the client through PIBL to the backend, over real sockets: its id and its trace are
 * the same in the backend's request, the client's response and the access line.
 */
@ExtendWith(NoLeaks.class)
class RequestIdIT {
    private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private TestBackend backend;
    private ProxyServer proxy;

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        backend.close();
    }

    private void start(LogConfig.TraceContext mode) throws Exception {
        backend = TestBackend.start("b1");
        proxy = ProxyFixture.start(List.of(backend.address()),
                c -> c.withLog(new LogConfig(c.log().file(), c.log().format(), mode)));
    }

    @Test
    void theClientsIdAndTraceReachTheBackendTheResponseAndTheLog() throws Exception {
        start(LogConfig.TraceContext.PROPAGATE);
        try (AccessLines access = new AccessLines(); RawHttp http = new RawHttp(proxy.port())) {
            RawHttp.Response r = http.get("/a", "X-Request-Id: order-42",
                    "traceparent: 00-" + TRACE + "-00f067aa0ba902b7-01", "tracestate: vendor=1");
            assertThat(r.header("X-Request-Id")).as("returned to the client").isEqualTo("order-42");
            TestBackend.Received seen = backend.received().get(0);
            assertThat(seen.headers().get("X-Request-Id")).isEqualTo("order-42");
            String parent = seen.headers().get("traceparent");
            assertThat(parent).as("the same trace, PIBL's span as the parent")
                    .matches("00-" + TRACE + "-[0-9a-f]{16}-01").doesNotContain("00f067aa0ba902b7");
            assertThat(seen.headers().get("tracestate")).isEqualTo("vendor=1");
            assertThat(access.only()).endsWith(" order-42 " + TRACE + " route=/ pool=default");

            RawHttp.Response second = http.get("/b", "X-Request-Id: has space");
            assertThat(second.header("X-Request-Id")).as("a malformed id is replaced").matches("[0-9a-f]{32}");
            assertThat(backend.received().get(1).headers().get("X-Request-Id")).isEqualTo(second.header("X-Request-Id"));
            assertThat(backend.received().get(1).headers().contains("traceparent"))
                    .as("no trace comes, none is made by default").isFalse();
        }
    }

    @Test
    void generateStartsATraceForARequestWithoutOne() throws Exception {
        start(LogConfig.TraceContext.GENERATE);
        try (AccessLines access = new AccessLines(); RawHttp http = new RawHttp(proxy.port())) {
            RawHttp.Response r = http.get("/a");
            String parent = backend.received().get(0).headers().get("traceparent");
            assertThat(parent).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00");
            String traceId = parent.substring(3, 35);
            assertThat(access.only()).endsWith(" " + r.header("X-Request-Id") + " " + traceId + " route=/ pool=default");
        }
    }
}
