package pibl.route;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.config.Cidr;
import pibl.config.PiblConfig;
import pibl.config.PoolConfig;
import pibl.config.RouteConfig;
import pibl.handler.AccessLines;
import pibl.server.ProxyServer;
import pibl.testing.Closer;
import pibl.testing.H2Client;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;
import pibl.testing.TestClock;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Routes and pools over real sockets: requests split by host and path to pools of their own, each route with its
 * cache rules, header rewrites, address lists and rate limit; PIBL's own 404 when no route takes a request.
 */
@ExtendWith(NoLeaks.class)
class RoutingIT {
    @TempDir
    Path dir;

    private final Closer closer = new Closer();
    private final TestClock clock = new TestClock();

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
    }

    private TestBackend backend(String name) throws InterruptedException {
        return closer.track(TestBackend.start(name));
    }

    private ProxyServer start(PiblConfig config) throws Exception {
        return closer.track(new ProxyServer(config, clock).start());
    }

    /** The fixture's settings (cache off, no admin, loopback), with these pools and routes. */
    private static PiblConfig routed(List<PoolConfig> pools, RouteConfig... routes) {
        return Routes.config(ProxyFixture.config(List.of("127.0.0.1:1")), pools, routes);
    }

    private PiblConfig cached(PiblConfig config, Duration ttl) {
        return ProxyFixture.withCache(config, dir.resolve("cache"), ttl);
    }

    /** One request on a fresh connection, with its own Host. */
    static RawHttp.Response get(ProxyServer proxy, String host, String path, String... headers) throws IOException {
        try (RawHttp http = new RawHttp(proxy.port(), 5000)) {
            return send(http, host, path, headers);
        }
    }

    static RawHttp.Response send(RawHttp http, String host, String path, String... headers) throws IOException {
        StringBuilder b = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: ").append(host)
                .append("\r\n");
        for (String h : headers) {
            b.append(h).append("\r\n");
        }
        http.send(b.append("\r\n").toString());
        return http.read(false);
    }

    /** The access lines once there are {@code n} (they are written as each response's last part goes out). */
    static List<String> awaitLines(AccessLines log, int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (log.lines().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return log.lines();
    }

    static PoolConfig pool(String name, TestBackend... backends) {
        return Routes.pool(name, java.util.Arrays.stream(backends).map(TestBackend::address).toArray(String[]::new));
    }

    @Test
    void requestsGoByHostAndPathToTheirPoolEachRouteWithItsOwnCacheRules() throws Exception {
        TestBackend statics = backend("static");
        TestBackend api = backend("api");
        TestBackend shop = backend("shop");
        api.behave((ctx, req, b) -> {
            req.release();
            FullHttpResponse r = b.named(HttpResponseStatus.OK, "api");
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "max-age=600"); // storable, but the route says no
            ctx.writeAndFlush(r);
        });
        // cache.ttl 0: only responses that say how long they keep are stored, except on the static route (1 h).
        ProxyServer proxy = start(cached(routed(List.of(pool("static", statics), pool("api", api), pool("shop", shop)),
                RouteConfig.catchAll("static").withHost("shop.example").withPath("/static/")
                        .withCache(new RouteConfig.CacheOverride(null, Duration.ofHours(1), null)),
                RouteConfig.catchAll("api").withPath("/api/").withCache(new RouteConfig.CacheOverride(false, null, null)),
                RouteConfig.catchAll("shop")), Duration.ZERO));

        RawHttp.Response first = get(proxy, "shop.example", "/static/app.css");
        RawHttp.Response second = get(proxy, "shop.example", "/static/app.css");
        assertThat(first.bodyText()).isEqualTo("static");
        assertThat(first.header("X-Cache")).isEqualTo("MISS");
        assertThat(second.header("X-Cache")).as("stored for the route's ttl, though cache.ttl is 0").isEqualTo("HIT");
        assertThat(get(proxy, "SHOP.Example.:8080", "/static/../static/app.css").bodyText())
                .as("host case, port, trailing dot and dot segments do not change the route").isEqualTo("static");
        clock.advance(Duration.ofMinutes(59));
        assertThat(get(proxy, "shop.example", "/static/app.css").header("X-Cache")).isEqualTo("HIT");
        clock.advance(Duration.ofMinutes(2));
        assertThat(get(proxy, "shop.example", "/static/app.css").header("X-Cache"))
                .as("an hour later the route's ttl is over").isEqualTo("MISS");
        assertThat(statics.requestCount()).isEqualTo(3);

        assertThat(get(proxy, "shop.example", "/api/cart").header("X-Cache")).isEqualTo("BYPASS");
        assertThat(get(proxy, "other.example", "/api/cart").header("X-Cache"))
                .as("cache: { enabled: false } whatever the backend says").isEqualTo("BYPASS");
        assertThat(api.requestCount()).isEqualTo(2);

        RawHttp.Response other = get(proxy, "shop.example", "/staticfoo");
        assertThat(other.bodyText()).as("a path prefix on segment boundaries only").isEqualTo("shop");
        assertThat(get(proxy, "shop.example", "/staticfoo").header("X-Cache"))
                .as("cache: as it is: ttl 0 and nothing said, not stored").isEqualTo("MISS");
        assertThat(shop.requestCount()).isEqualTo(2);
        assertThat(get(proxy, "www.shop.example", "/static/app.css").bodyText())
                .as("the static route is for shop.example only").isEqualTo("shop");

        Router router = proxy.router();
        assertThat(router.routes()).extracting(r -> r.stats().matches()).containsExactly(5L, 2L, 3L);
    }

    @Test
    void headerRewritesReachTheBackendAndTheClientAndAHitToo() throws Exception {
        TestBackend origin = backend("origin");
        origin.behave((ctx, req, b) -> {
            req.release();
            FullHttpResponse r = b.named(HttpResponseStatus.OK, "page");
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "max-age=60").set(HttpHeaderNames.SERVER, "origin/1.0")
                    .set(HttpHeaderNames.VARY, "X-Site");
            ctx.writeAndFlush(r);
        });
        RouteConfig rewriting = RouteConfig.catchAll("shop").withHeaders(new RouteConfig.Headers(
                Map.of("X-Site", "shop", "Host", "backend.internal"), List.of("X-Drop", "X-Forwarded-For"),
                Map.of("X-Frame-Options", "DENY"), List.of("Server")));
        PiblConfig config = cached(routed(List.of(pool("shop", origin)), rewriting), Duration.ZERO);
        ProxyServer proxy = start(config);

        RawHttp.Response miss = get(proxy, "shop.example", "/page", "X-Drop: 1", "X-Site: spoofed",
                "X-Forwarded-For: 6.6.6.6");
        TestBackend.Received seen = origin.received().get(0);
        assertThat(seen.headers().get("X-Site")).as("request-set replaces what the client sent").isEqualTo("shop");
        assertThat(seen.headers().get("Host")).isEqualTo("backend.internal");
        assertThat(seen.headers().contains("X-Drop")).isFalse();
        assertThat(seen.headers().contains("X-Forwarded-For"))
                .as("removed after PIBL's own hop rules appended to it").isFalse();
        assertThat(seen.headers().get("X-Forwarded-Host")).as("PIBL's rules saw the client's Host")
                .isEqualTo("shop.example");
        assertThat(miss.header("X-Frame-Options")).isEqualTo("DENY");
        assertThat(miss.header("Server")).isNull();
        assertThat(miss.header("X-Cache")).isEqualTo("MISS");

        RawHttp.Response hit = get(proxy, "shop.example", "/page", "X-Site: spoofed");
        assertThat(hit.header("X-Cache")).as("Vary: X-Site is matched on what the client sent, not the rewrite")
                .isEqualTo("HIT");
        assertThat(hit.header("X-Frame-Options")).as("applied when a hit is served").isEqualTo("DENY");
        assertThat(hit.header("Server")).isNull();

        proxy.reload(config.withRoutes(List.of(RouteConfig.catchAll("shop"))));
        RawHttp.Response plain = get(proxy, "shop.example", "/page", "X-Site: spoofed");
        assertThat(plain.header("X-Cache")).isEqualTo("HIT");
        assertThat(plain.header("Server")).as("the cache holds the backend's answer").isEqualTo("origin/1.0");
        assertThat(plain.header("X-Frame-Options")).isNull();
        assertThat(origin.requestCount()).isEqualTo(1);
    }

    @Test
    void aRoutesResponseFieldsAreOnPiblsOwnErrorsToo() throws Exception {
        TestBackend gone = backend("gone");
        gone.close(); // its port now refuses connections
        ProxyServer proxy = start(routed(List.of(pool("shop", gone)), RouteConfig.catchAll("shop").withHeaders(
                new RouteConfig.Headers(Map.of(), List.of(), Map.of("Strict-Transport-Security", "max-age=60"),
                        List.of()))));

        RawHttp.Response failed = get(proxy, "a", "/");

        assertThat(failed.status()).isEqualTo(502);
        assertThat(failed.header("Strict-Transport-Security")).isEqualTo("max-age=60");
    }

    @Test
    void addressListsAnswer403WithDenyWinning() throws Exception {
        TestBackend origin = backend("origin");
        ProxyServer proxy = start(routed(List.of(pool("shop", origin)),
                RouteConfig.catchAll("shop").withPath("/internal").withAllow(List.of(Cidr.parse("10.0.0.0/8"))),
                RouteConfig.catchAll("shop").withPath("/blocked").withAllow(List.of(Cidr.parse("127.0.0.0/8")))
                        .withDeny(List.of(Cidr.parse("127.0.0.1"))),
                RouteConfig.catchAll("shop").withPath("/mine").withAllow(List.of(Cidr.parse("::1"),
                        Cidr.parse("127.0.0.1"))),
                RouteConfig.catchAll("shop")));

        RawHttp.Response internal = get(proxy, "a", "/internal/x");
        assertThat(internal.status()).as("127.0.0.1 is not in 10.0.0.0/8").isEqualTo(403);
        assertThat(internal.bodyText()).isEqualTo("403 Forbidden\n");
        assertThat(get(proxy, "a", "/blocked").status()).as("deny wins over allow").isEqualTo(403);
        assertThat(get(proxy, "a", "/mine").status()).isEqualTo(200);
        assertThat(get(proxy, "a", "/").status()).isEqualTo(200);
        assertThat(origin.requestCount()).as("refused requests never reach a backend").isEqualTo(2);
        assertThat(proxy.router().routes()).extracting(r -> r.stats().denials()).containsExactly(1L, 1L, 0L, 0L);
    }

    @Test
    void aClientOverItsRateGets429WithRetryAfterThenIsServedAgain() throws Exception {
        TestBackend origin = backend("origin");
        ProxyServer proxy = start(routed(List.of(pool("shop", origin)),
                RouteConfig.catchAll("shop").withPath("/api")
                        .withRateLimit(new RouteConfig.RateLimit(10, Duration.ofSeconds(1), 2)),
                RouteConfig.catchAll("shop")));

        try (RawHttp http = new RawHttp(proxy.port(), 5000)) {
            assertThat(send(http, "a", "/api/1").status()).isEqualTo(200);
            assertThat(send(http, "a", "/api/2").status()).isEqualTo(200);
            RawHttp.Response limited = send(http, "a", "/api/3");
            assertThat(limited.status()).as("burst 2: the third at once waits").isEqualTo(429);
            assertThat(limited.header("Retry-After")).as("100 ms, rounded up to a second").isEqualTo("1");
            assertThat(send(http, "a", "/other").status()).as("other routes are not limited").isEqualTo(200);
            long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            int status;
            do {
                Thread.sleep(20);
                status = send(http, "a", "/api/4").status();
            } while (status == 429 && System.nanoTime() < deadline);
            assertThat(status).as("a token comes back every 100 ms").isEqualTo(200);
        }
        Route api = proxy.router().routes().get(0);
        assertThat(api.stats().rateLimits()).isPositive();
        assertThat(origin.received()).extracting(TestBackend.Received::uri).doesNotContain("/api/3");
    }

    @Test
    void aRequestNoRouteTakesIsPibls404() throws Exception {
        TestBackend origin = backend("origin");
        ProxyServer proxy = start(routed(List.of(pool("shop", origin)),
                RouteConfig.catchAll("shop").withHost("shop.example")));

        List<String> lines;
        try (AccessLines log = new AccessLines(); RawHttp http = new RawHttp(proxy.port(), 5000)) {
            RawHttp.Response none = send(http, "other.example", "/x");
            assertThat(none.status()).isEqualTo(404);
            assertThat(none.bodyText()).isEqualTo("404 Not Found\n");
            assertThat(send(http, "shop.example", "/x").status()).as("the connection goes on").isEqualTo(200);
            lines = awaitLines(log, 2);
        }
        assertThat(origin.requestCount()).isEqualTo(1);
        assertThat(proxy.router().noRoute()).isEqualTo(1);
        assertThat(lines.get(0)).contains("\"GET /x HTTP/1.1\" 404 ").endsWith(" route=- pool=-");
        assertThat(lines.get(1)).contains("\"GET /x HTTP/1.1\" 200 ").endsWith(" route=shop.example/ pool=shop");
    }

    @Test
    void eachHttp2StreamIsRoutedByItsAuthority() throws Exception {
        TestBackend shop = backend("shop");
        TestBackend api = backend("api");
        ProxyServer proxy = start(routed(List.of(pool("shop", shop), pool("api", api)),
                RouteConfig.catchAll("api").withHost("api.example"),
                RouteConfig.catchAll("shop").withHost("*.shop.example").withHeaders(new RouteConfig.Headers(
                        Map.of(), List.of(), Map.of("X-Route", "shop"), List.of()))));

        try (H2Client h2 = H2Client.connect(proxy.port())) {
            FullHttpResponse toShop = h2.get("/a", h -> h.authority("www.shop.example")).get(5, TimeUnit.SECONDS);
            FullHttpResponse toApi = h2.get("/a", h -> h.authority("API.example:8080")).get(5, TimeUnit.SECONDS);
            FullHttpResponse none = h2.get("/a", h -> h.authority("other.example")).get(5, TimeUnit.SECONDS);
            try {
                assertThat(toShop.headers().get("X-Backend")).isEqualTo("shop");
                assertThat(toShop.headers().get("X-Route")).as("the route's response-set on a stream").isEqualTo("shop");
                assertThat(toApi.headers().get("X-Backend")).isEqualTo("api");
                assertThat(none.status().code()).isEqualTo(404);
            } finally {
                toShop.release();
                toApi.release();
                none.release();
            }
        }
    }

    @Test
    void xForwardedForNamesTheClientOnlyFromATrustedProxy() throws Exception {
        TestBackend origin = backend("origin");
        PiblConfig base = routed(List.of(pool("shop", origin)),
                RouteConfig.catchAll("shop").withAllow(List.of(Cidr.parse("192.0.2.0/24"))));
        ProxyServer proxy = start(base.withTrustedProxies(List.of(Cidr.parse("127.0.0.1"))));

        assertThat(get(proxy, "a", "/", "X-Forwarded-For: 192.0.2.7").status())
                .as("the trusted peer says the client is 192.0.2.7").isEqualTo(200);
        assertThat(get(proxy, "a", "/").status()).as("no X-Forwarded-For: the peer is the client").isEqualTo(403);
        assertThat(get(proxy, "a", "/", "X-Forwarded-For: 192.0.2.7, 203.0.113.5").status())
                .as("the rightmost untrusted hop is the client; what it claims to its left does not count")
                .isEqualTo(403);
        assertThat(get(proxy, "a", "/", "X-Forwarded-For: 203.0.113.5", "X-Forwarded-For: 192.0.2.7").status())
                .as("two lines are one list").isEqualTo(200);

        proxy.reload(base);
        assertThat(get(proxy, "a", "/", "X-Forwarded-For: 192.0.2.7").status())
                .as("without trusted-proxies the header is the client's own claim").isEqualTo(403);
    }

    @Test
    void theAccessLineShowsTheClientATrustedProxyNamesWhileTheBackendSeesTheHopAdded() throws Exception {
        TestBackend origin = backend("origin");
        ProxyServer proxy = start(routed(List.of(pool("shop", origin)), RouteConfig.catchAll("shop"))
                .withTrustedProxies(List.of(Cidr.parse("127.0.0.0/8"))));

        List<String> lines;
        try (AccessLines log = new AccessLines()) {
            assertThat(get(proxy, "a", "/t", "X-Forwarded-For: 192.0.2.7").status()).isEqualTo(200);
            assertThat(get(proxy, "a", "/u").status()).isEqualTo(200);
            lines = awaitLines(log, 2);
        }
        assertThat(lines.get(0)).as("the client the trusted peer names, as allow:, deny: and rate limits see it")
                .contains(" 192.0.2.7 \"GET /t HTTP/1.1\" 200 ");
        assertThat(lines.get(1)).as("no X-Forwarded-For: the peer").contains(" 127.0.0.1 \"GET /u HTTP/1.1\" 200 ");
        assertThat(origin.received().get(0).headers().get("X-Forwarded-For"))
                .as("the backend still gets the hop PIBL saw appended").isEqualTo("192.0.2.7, 127.0.0.1");
    }
}
