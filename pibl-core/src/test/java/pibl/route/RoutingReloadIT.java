package pibl.route;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.config.AdminConfig;
import pibl.config.Cidr;
import pibl.config.PiblConfig;
import pibl.config.PoolConfig;
import pibl.config.RouteConfig;
import pibl.lb.Backend;
import pibl.server.ProxyServer;
import pibl.testing.Closer;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.route.RoutingIT.get;
import static pibl.route.RoutingIT.pool;
import static pibl.route.RoutingIT.send;

/** SIGHUP's part of routing: pools and routes replaced under load, and what an operator sees of them. */
@ExtendWith(NoLeaks.class)
class RoutingReloadIT {
    private final Closer closer = new Closer();

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
    }

    private TestBackend backend(String name) throws InterruptedException {
        return closer.track(TestBackend.start(name));
    }

    private static PiblConfig routed(List<PoolConfig> pools, RouteConfig... routes) {
        return Routes.config(ProxyFixture.config(List.of("127.0.0.1:1")), pools, routes);
    }

    @Test
    void routesChangedUnderLoadFailNoRequestAndAKeptPoolKeepsItsBackends() throws Exception {
        TestBackend a = backend("a");
        TestBackend b = backend("b");
        TestBackend c = backend("c");
        PiblConfig one = routed(List.of(pool("a", a), pool("b", b)),
                RouteConfig.catchAll("a").withPath("/x"), RouteConfig.catchAll("b"));
        PiblConfig two = routed(List.of(pool("a", a), pool("c", c)),
                RouteConfig.catchAll("c").withPath("/x"), RouteConfig.catchAll("a"));
        ProxyServer proxy = closer.track(new ProxyServer(one).start());
        List<Backend> keptBefore = proxy.pools().get(0).balancer().backends();

        int clients = 4;
        long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        Map<String, AtomicInteger> byBackend = new ConcurrentHashMap<>();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> loops = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            loops.add(pool.submit(() -> {
                int n = 0;
                try (RawHttp http = new RawHttp(proxy.port(), 5000)) {
                    while (System.nanoTime() < end && n < 20_000) {
                        String path = n++ % 2 == 0 ? "/x" : "/y";
                        RawHttp.Response r = send(http, "shop.example", path);
                        if (r.status() != 200) {
                            failures.add(path + " " + r.status() + " " + r.bodyText());
                        } else {
                            byBackend.computeIfAbsent(r.header("X-Backend"), k -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                } catch (IOException e) {
                    failures.add(e.toString());
                }
                return null;
            }));
        }
        int reloads = 0;
        try {
            while (System.nanoTime() < end) {
                proxy.reload(reloads++ % 2 == 0 ? two : one);
                Thread.sleep(50);
            }
            for (Future<?> f : loops) {
                f.get(10, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(failures).as("no request failed over %d reloads", reloads).isEmpty();
        assertThat(reloads).isGreaterThan(10);
        assertThat(byBackend.keySet()).as("every pool served in its turn").containsExactlyInAnyOrder("a", "b", "c");
        assertThat(proxy.pools().get(0).name()).isEqualTo("a");
        assertThat(proxy.pools().get(0).balancer().backends()).as("pool a kept its name: its Backend objects stay")
                .containsExactlyElementsOf(keptBefore);
        assertThat(keptBefore.get(0).requests()).as("with their counters")
                .isEqualTo(a.requestCount()).isPositive();
    }

    @Test
    void anExchangeRoutedBeforeAReloadFinishesOnThePoolItStartedOn() throws Exception {
        TestBackend slow = backend("slow");
        TestBackend fresh = backend("fresh");
        CompletableFuture<Void> arrived = new CompletableFuture<>();
        slow.behave((ctx, req, b) -> {
            req.release();
            arrived.complete(null);
            ctx.executor().schedule(() -> ctx.writeAndFlush(b.named(io.netty.handler.codec.http.HttpResponseStatus.OK,
                    "slow")), 300, TimeUnit.MILLISECONDS);
        });
        PiblConfig before = routed(List.of(pool("old", slow)), RouteConfig.catchAll("old"));
        PiblConfig after = routed(List.of(pool("new", fresh)), RouteConfig.catchAll("new"));
        ProxyServer proxy = closer.track(new ProxyServer(before).start());

        CompletableFuture<RawHttp.Response> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return get(proxy, "a", "/");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        arrived.get(5, TimeUnit.SECONDS);
        proxy.reload(after);

        assertThat(get(proxy, "a", "/").bodyText()).as("a new exchange takes the new route").isEqualTo("fresh");
        assertThat(inFlight.get(5, TimeUnit.SECONDS).bodyText()).as("the one under way finishes where it started")
                .isEqualTo("slow");
        assertThat(proxy.pools()).extracting(Pool::name).containsExactly("new");
    }

    @Test
    void statusMetricsAndThePageShowPoolsAndRoutes() throws Exception {
        TestBackend a = backend("a");
        TestBackend b = backend("b");
        PiblConfig config = routed(List.of(pool("shop", a), pool("api", b)),
                RouteConfig.catchAll("api").withPath("/api")
                        .withRateLimit(new RouteConfig.RateLimit(1, Duration.ofMinutes(1), 1)),
                RouteConfig.catchAll("shop").withPath("/admin").withDeny(List.of(Cidr.parse("127.0.0.0/8"))),
                RouteConfig.catchAll("shop").withHost("shop.example"))
                .withAdmin(new AdminConfig(true, "127.0.0.1", 0));
        ProxyServer proxy = closer.track(new ProxyServer(config).start());
        get(proxy, "x", "/api/1");
        get(proxy, "x", "/api/2"); // 429
        get(proxy, "x", "/admin"); // 403
        get(proxy, "shop.example", "/");
        get(proxy, "other.example", "/"); // 404

        JsonNode status;
        String metrics;
        String page;
        try (RawHttp admin = new RawHttp(proxy.adminPort(), 5000)) {
            status = new ObjectMapper().readTree(admin.get("/status").body());
            metrics = admin.get("/metrics").bodyText();
            page = admin.get("/").bodyText();
        }

        JsonNode pools = status.get("pools");
        assertThat(pools).hasSize(2);
        assertThat(pools.get(0).get("name").asText()).isEqualTo("shop");
        assertThat(pools.get(0).get("balance").asText()).as("the default policy").isEqualTo("round robin");
        assertThat(pools.get(0).get("slowStartSeconds").asLong()).as("the default slow-start").isEqualTo(30);
        assertThat(pools.get(0).get("backends").get(0).asText()).isEqualTo(a.address());
        assertThat(pools.get(0).get("requests").asLong()).isEqualTo(1);
        assertThat(pools.get(0).get("health").get("up").asInt()).isEqualTo(1);
        assertThat(pools.get(1).get("requests").asLong()).isEqualTo(1);
        assertThat(pools.get(1).get("latencyMs").get("p50").isNumber()).isTrue();
        JsonNode routes = status.get("routes");
        assertThat(routes).hasSize(3);
        assertThat(routes.get(0).get("route").asText()).isEqualTo("/api");
        assertThat(routes.get(0).get("pool").asText()).isEqualTo("api");
        assertThat(routes.get(0).get("matches").asLong()).isEqualTo(2);
        assertThat(routes.get(0).get("rateLimited").asLong()).isEqualTo(1);
        assertThat(routes.get(1).get("denied").asLong()).isEqualTo(1);
        assertThat(routes.get(2).get("matches").asLong()).isEqualTo(1);
        assertThat(status.get("noRoute").asLong()).isEqualTo(1);
        assertThat(status.get("backends").get(1).get("pool").asText()).isEqualTo("api");

        assertThat(metrics).contains("pibl_backend_requests_total{backend=\"" + a.address() + "\",pool=\"shop\"} 1.0")
                .contains("pibl_route_requests_total{pool=\"api\",route=\"/api\"} 2.0")
                .contains("pibl_route_rate_limited_total{pool=\"api\",route=\"/api\"} 1.0")
                .contains("pibl_route_denied_total{pool=\"shop\",route=\"/admin\"} 1.0")
                .contains("pibl_requests_no_route_total 1.0")
                .contains("pibl_pool_panic{pool=\"api\"} 0.0")
                .contains("pibl_pool_info{balance=\"round robin\",pool=\"api\"} 1")
                .contains("pibl_backend_response_seconds_count{backend=\"" + b.address() + "\",pool=\"api\"} 1");
        assertThat(page).contains("<h2>Pools</h2>").contains("<td>round robin, slow start 30 s</td>")
                .contains("<h2>Routes</h2>").contains("<td>shop.example/</td>")
                .contains("No route (404): 1");

        proxy.reload(config.withRoutes(List.of(RouteConfig.catchAll("api"))));
        String after;
        try (RawHttp admin = new RawHttp(proxy.adminPort(), 5000)) {
            after = admin.get("/metrics").bodyText();
        }
        assertThat(after).as("a route gone is gone from the scrape").doesNotContain("route=\"/api\"")
                .contains("pibl_route_requests_total{pool=\"api\",route=\"/\"} 0.0");
    }
}
