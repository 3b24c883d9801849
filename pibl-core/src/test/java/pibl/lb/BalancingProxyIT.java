package pibl.lb;

import org.junit.jupiter.api.extension.ExtendWith;
import pibl.testing.NoLeaks;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import pibl.config.BackendConfig;
import pibl.config.HealthCheckConfig;
import pibl.server.ProxyServer;
import pibl.testing.Closer;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Weights and active and passive health end to end through a real {@link ProxyServer}.
 */
@ExtendWith(NoLeaks.class)
class BalancingProxyIT {
    private final Closer closer = new Closer();

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
    }

    private <T extends AutoCloseable> T track(T c) {
        return closer.track(c);
    }

    /** Backends answer their name, and /health with 200 unless {@code sick}. */
    private TestBackend backend(String name, boolean[] sick) throws InterruptedException {
        return track(TestBackend.start(name)).behave((ctx, req, b) -> {
            boolean health = req.uri().equals("/health");
            req.release();
            ctx.writeAndFlush(b.named(health && sick[0] ? HttpResponseStatus.INTERNAL_SERVER_ERROR
                    : HttpResponseStatus.OK, b.name()));
        });
    }

    private ProxyServer proxy(List<BackendConfig> backends) throws Exception {
        return proxy(backends, true);
    }

    /** With active checks every 100 ms, or none ({@code checks} false: no connection but the requests'). */
    private ProxyServer proxy(List<BackendConfig> backends, boolean checks) throws Exception {
        HealthCheckConfig fast = new HealthCheckConfig(checks, "/health", Duration.ofMillis(100),
                Duration.ofMillis(150), 2, 2, 3, Duration.ofSeconds(10));
        return track(ProxyFixture.start(List.of("127.0.0.1:1"), c -> c.withBackends(backends).withHealthCheck(fast)));
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

    @Test
    void weightsInterleaveThroughTheProxy() throws Exception {
        boolean[] healthy = {false};
        TestBackend a = backend("a", healthy);
        TestBackend b = backend("b", healthy);
        TestBackend c = backend("c", healthy);
        ProxyServer proxy = proxy(List.of(new BackendConfig("127.0.0.1", a.port(), 5),
                new BackendConfig("127.0.0.1", b.port(), 1), new BackendConfig("127.0.0.1", c.port(), 1)));
        List<String> order = new ArrayList<>();
        Map<String, Integer> counts = new HashMap<>();
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (int i = 0; i < 70; i++) {
                String name = http.get("/w/" + i).header("X-Backend");
                order.add(name);
                counts.merge(name, 1, Integer::sum);
            }
        }
        assertThat(order.subList(0, 7)).containsExactly("a", "a", "b", "a", "c", "a", "a");
        assertThat(counts).containsOnly(Map.entry("a", 50), Map.entry("b", 10), Map.entry("c", 10));
    }

    @Test
    void aBackendFailingItsChecksLeavesAndRejoinsTheRotation() throws Exception {
        boolean[] sick = {true};
        boolean[] healthy = {false};
        TestBackend good = backend("good", healthy);
        TestBackend ill = backend("ill", sick);
        ProxyServer proxy = proxy(List.of(BackendConfig.parse(good.address()), BackendConfig.parse(ill.address())));
        Backend illBackend = proxy.balancer().backends().get(1);
        await("the sick backend is out", illBackend::isActivelyDown);
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (int i = 0; i < 6; i++) {
                assertThat(http.get("/h/" + i).header("X-Backend")).isEqualTo("good");
            }
            sick[0] = false;
            await("the backend is back", () -> !illBackend.isActivelyDown());
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                seen.add(http.get("/h2/" + i).header("X-Backend"));
            }
            assertThat(seen).contains("good", "ill");
        }
    }

    /*
     * This used to be everyBackendOutGives503AtOnce: with both backends failing their checks, the request got 503
     * without reaching either. Issue 12: a pool with every backend out of rotation is in panic (Envoy's rule, which
     * covers failed active checks too): requests go to all of them in turn, so backends whose health page is broken
     * but that serve requests are still used, and the pool comes back to normal when a check passes again.
     */
    @Test
    void everyBackendFailingItsChecksIsStillSentRequestsInTurn() throws Exception {
        boolean[] sick = {true};
        TestBackend b1 = backend("b1", sick);
        TestBackend b2 = backend("b2", sick);
        ProxyServer proxy = proxy(List.of(BackendConfig.parse(b1.address()), BackendConfig.parse(b2.address())));
        await("both are out", () -> proxy.balancer().backends().stream().allMatch(Backend::isActivelyDown));
        List<String> seen = new ArrayList<>();
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (int i = 0; i < 6; i++) {
                RawHttp.Response r = http.get("/x/" + i);
                assertThat(r.status()).as("served in panic, not 503").isEqualTo(200);
                seen.add(r.header("X-Backend"));
            }
            assertThat(seen).as("in turn, not always the first").containsExactly("b1", "b2", "b1", "b2", "b1", "b2");
            assertThat(proxy.balancer().inPanic()).isTrue();
            assertThat(proxy.balancer().panic().requests()).isEqualTo(6);
            assertThat(proxy.balancer().backends()).as("a served request does not overrule the checks")
                    .allMatch(Backend::isActivelyDown);

            sick[0] = false;
            await("the checks pass again",
                    () -> proxy.balancer().backends().stream().noneMatch(Backend::isActivelyDown));
            assertThat(http.get("/y").status()).isEqualTo(200);
            assertThat(proxy.balancer().inPanic()).isFalse();
            assertThat(proxy.balancer().panic().requests()).as("nothing more counted out of panic").isEqualTo(6);
        }
    }

    @Test
    void aReloadClosesTheIdleConnectionsOfTheBackendsItRemoves() throws Exception {
        boolean[] healthy = {false};
        TestBackend a = backend("a", healthy);
        TestBackend b = backend("b", healthy);
        // No active checks: their connections, opened and closed every 100 ms, would make b's count race.
        ProxyServer proxy = proxy(List.of(BackendConfig.parse(a.address()), BackendConfig.parse(b.address())),
                false);
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (int i = 0; i < 4; i++) {
                assertThat(http.get("/warm/" + i).status()).isEqualTo(200);
            }
            await("a keeps a pooled connection from PIBL", () -> a.openConnections() >= 1);
            int toB = b.openConnections();

            proxy.reload(proxy.config().withBackends(List.of(BackendConfig.parse(b.address()))));

            await("the removed backend's idle connections are closed", () -> a.openConnections() == 0);
            assertThat(b.openConnections()).as("the kept backend's stay pooled").isEqualTo(toB);
            assertThat(http.get("/after").header("X-Backend")).isEqualTo("b");
        }
    }

    @Test
    void reloadKeepsTheBackendsAndTheirHealthAndAppliesNewWeights() throws Exception {
        boolean[] sick = {true};
        boolean[] healthy = {false};
        TestBackend a = backend("a", healthy);
        TestBackend b = backend("b", healthy);
        TestBackend ill = backend("ill", sick);
        ProxyServer proxy = proxy(List.of(BackendConfig.parse(a.address()), BackendConfig.parse(b.address()),
                BackendConfig.parse(ill.address())));
        List<Backend> before = proxy.balancer().backends();
        await("the sick backend is out", () -> before.get(2).isActivelyDown());
        try (RawHttp http = new RawHttp(proxy.port())) {
            int toA = 0;
            for (int i = 0; i < 4; i++) {
                toA += "a".equals(http.get("/before/" + i).header("X-Backend")) ? 1 : 0;
            }
            proxy.reload(proxy.config().withBackends(List.of(new BackendConfig("127.0.0.1", a.port(), 3),
                    new BackendConfig("127.0.0.1", b.port(), 1), BackendConfig.parse(ill.address()))));
            List<Backend> after = proxy.balancer().backends();
            assertThat(after).as("same addresses: same Backend objects").containsExactlyElementsOf(before);
            assertThat(after.get(0).requests()).as("counters survive the reload").isEqualTo(toA).isPositive();
            assertThat(after.get(2).health()).as("so does health").isEqualTo("down");
            List<String> order = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                order.add(http.get("/after/" + i).header("X-Backend"));
            }
            assertThat(order).containsExactly("a", "a", "b", "a", "a", "a", "b", "a");
            sick[0] = false;
            await("the new group's checker brings the kept backend back", () -> !after.get(2).isActivelyDown());
        }
    }

    @Test
    void aBackendKilledDuringASteadyStreamCostsNoClientRequestAndRejoinsWhenRestarted() throws Exception {
        pibl.testing.PortBackend a = track(pibl.testing.PortBackend.start("a", 0));
        pibl.testing.PortBackend b = track(pibl.testing.PortBackend.start("b", 0));
        ProxyServer proxy = proxy(List.of(BackendConfig.parse(a.address()), BackendConfig.parse(b.address())));
        java.util.Map<String, Integer> seen = new java.util.HashMap<>();
        int failed = 0;
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (int i = 0; i < 400; i++) {
                if (i == 100) {
                    a.stop(); // killed mid-stream: refused connections and dropped keep-alives from now on
                }
                if (i == 250) {
                    a.restart();
                    await("the restarted backend passes its checks and gets traffic again", () -> {
                        try {
                            return "a".equals(http.get("/probe").header("X-Backend"));
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                }
                RawHttp.Response r = http.get("/stream/" + i);
                if (r.status() != 200) {
                    failed++;
                }
                seen.merge(i < 100 ? "before" : i < 250 ? "down:" + r.header("X-Backend") : "after:" + r.header("X-Backend"),
                        1, Integer::sum);
            }
        }
        assertThat(failed).as("GETs are retried on the other backend: the client never sees the death").isZero();
        assertThat(seen).as("while a is down, b takes everything").containsEntry("down:b", 150);
        assertThat(seen.getOrDefault("after:a", 0)).as("after the restart, a is back in round robin (about half)")
                .isBetween(60, 90);
    }
}
