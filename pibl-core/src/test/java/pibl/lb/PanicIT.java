package pibl.lb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.config.AdminConfig;
import pibl.config.BackendConfig;
import pibl.config.HealthCheckConfig;
import pibl.server.ProxyServer;
import pibl.testing.Closer;
import pibl.testing.LogCapture;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Issue 12, "one flaky backend must not become an outage", end to end: a real {@link ProxyServer} with its admin
 * listener, backends over loopback, and what {@code /status}, {@code /metrics} and the log say.
 */
@ExtendWith(NoLeaks.class)
class PanicIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Closer closer = new Closer();
    private final LogCapture log = new LogCapture("pibl.lb", Level.INFO);

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
        log.close();
    }

    private <T extends AutoCloseable> T track(T c) {
        return closer.track(c);
    }

    private ProxyServer proxy(List<String> backends, HealthCheckConfig health) throws Exception {
        return track(ProxyFixture.start(backends, c -> c.withHealthCheck(health)
                .withAdmin(new AdminConfig(true, "127.0.0.1", 0))));
    }

    private static JsonNode status(ProxyServer proxy) throws Exception {
        try (RawHttp admin = new RawHttp(proxy.adminPort())) {
            return JSON.readTree(admin.get("/status").bodyText());
        }
    }

    private static String metrics(ProxyServer proxy) throws Exception {
        try (RawHttp admin = new RawHttp(proxy.adminPort())) {
            return admin.get("/metrics").bodyText();
        }
    }

    private static String deadAddress() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    /** The issue's own case: it used to answer 503 for the next 10 s. */
    @Test
    void theOnlyBackendClosingThreeConnectionsIsServedOnTheNextRequest() throws Exception {
        AtomicInteger closes = new AtomicInteger(3);
        TestBackend flaky = track(TestBackend.start("flaky")).behave((ctx, req, b) -> {
            req.release();
            if (closes.getAndDecrement() > 0) {
                ctx.close(); // the connection closed before any response byte
            } else {
                ctx.writeAndFlush(b.named(HttpResponseStatus.OK, b.name()));
            }
        });
        HealthCheckConfig passiveOnly = new HealthCheckConfig(false, "/health", Duration.ofSeconds(2),
                Duration.ofSeconds(1), 3, 2, 3, Duration.ofSeconds(10));
        ProxyServer proxy = proxy(List.of(flaky.address()), passiveOnly);
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (int i = 0; i < 3; i++) {
                assertThat(http.get("/a/" + i).status()).as("closed before answering: a real failure").isEqualTo(502);
            }
            RawHttp.Response next = http.get("/b");
            assertThat(next.status()).as("the backend answers again: served, not 503").isEqualTo(200);
            assertThat(next.header("X-Backend")).isEqualTo("flaky");
        }
        JsonNode backend = status(proxy).get("backends").get(0);
        assertThat(backend.get("health").asText()).as("a pool's only backend is never cooled down").isEqualTo("up");
        assertThat(backend.get("errors").asLong()).as("its failures are still counted").isEqualTo(3);
        assertThat(status(proxy).get("upstream").get("panic").asBoolean()).isFalse();
        assertThat(log.about(flaky.address())).containsExactly(
                "WARN backend " + flaky.address() + " failing (3 consecutive failures: connection closed before a"
                        + " response); the only backend of its pool, so it stays in rotation",
                "INFO backend " + flaky.address() + " answering again after 3 consecutive failures");
    }

    @Test
    void aPoolOutOfRotationIsTriedInTurnCountedAndADeadOneGives502() throws Exception {
        boolean[] up = {true};
        TestBackend sick = track(TestBackend.start("sick")).behave((ctx, req, b) -> {
            boolean health = req.uri().equals("/health");
            req.release();
            if (!up[0]) {
                ctx.close();
                return;
            }
            ctx.writeAndFlush(b.named(health ? HttpResponseStatus.INTERNAL_SERVER_ERROR : HttpResponseStatus.OK,
                    b.name()));
        });
        String dead = deadAddress();
        HealthCheckConfig fast = new HealthCheckConfig(true, "/health", Duration.ofMillis(100), Duration.ofMillis(150),
                2, 2, 3, Duration.ofSeconds(10));
        ProxyServer proxy = proxy(List.of(dead, sick.address()), fast);
        await("both fail their checks", () -> proxy.balancer().backends().stream().allMatch(Backend::isActivelyDown));
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (int i = 0; i < 4; i++) {
                RawHttp.Response r = http.get("/p/" + i);
                assertThat(r.status()).as("the dead one is refused, the next one in turn serves: no 503")
                        .isEqualTo(200);
                assertThat(r.header("X-Backend")).isEqualTo("sick");
            }
            JsonNode upstream = status(proxy).get("upstream");
            assertThat(upstream.get("panic").asBoolean()).isTrue();
            assertThat(upstream.get("panicRequests").asLong())
                    .as("4 requests: 2 went to sick at once, 2 to dead first and then to sick").isEqualTo(6);
            assertThat(metrics(proxy)).contains("pibl_upstream_panic 1.0\n")
                    .contains("pibl_upstream_panic_requests_total 6.0\n");

            up[0] = false; // now nothing answers: a real failure, 502, never 503
            for (int i = 0; i < 2; i++) {
                assertThat(http.get("/q/" + i).status()).isEqualTo(502);
            }
        }
        assertThat(log.about("panic")).as("one line for the whole episode").containsExactly(
                "WARN every backend of the pool is out of rotation (" + dead + " down, " + sick.address()
                        + " down); sending to all of them in turn (panic)");
    }
}
