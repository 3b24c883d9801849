package pibl.route;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pibl.cache.CacheKey;
import pibl.config.CacheConfig;
import pibl.config.PiblConfig;
import pibl.config.PoolConfig;
import pibl.config.RouteConfig;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The router: first match wins, over the request's host and path as a backend would read them (case, port, dot
 * segments, percent-escapes); the route's pool and cache settings; what a reload carries over.
 */
class RouterTest {
    private static final List<PoolConfig> POOLS = List.of(Routes.pool("shop", "127.0.0.1:9001"),
            Routes.pool("static", "127.0.0.1:9002"), Routes.pool("sessions", "127.0.0.1:9003"),
            Routes.pool("admin", "127.0.0.1:9004"));

    /** The routes, and an admin route after the API one. */
    private static final RouteConfig[] ROUTES = {
            RouteConfig.catchAll("static").withHost("shop.example").withPath("/static/")
                    .withCache(new RouteConfig.CacheOverride(null, Duration.ofHours(1), null)),
            RouteConfig.catchAll("shop").withHost("*.shop.example"),
            RouteConfig.catchAll("sessions").withPath("/api/").withCache(new RouteConfig.CacheOverride(false, null, null)),
            RouteConfig.catchAll("admin").withPath("/admin").withMethods(List.of("GET", "HEAD")),
    };

    private final Router router = Routes.router(POOLS, ROUTES);

    @ParameterizedTest(name = "{0} {2} Host: {1} -> {3}")
    @CsvSource(nullValues = "~", value = {
            "GET,  shop.example,          /static/app.css,          static",
            "GET,  SHOP.Example:8080,     /static/app.css,          static",
            "GET,  shop.example.,         /static/app.css,          static",
            "GET,  shop.example,          /static,                  static",
            "GET,  shop.example,          /static?v=1,              static",
            "GET,  shop.example,          /staticfoo,               ~",
            "GET,  shop.example,          /static/../api/x,         sessions",
            "GET,  shop.example,          /static/%2e%2e/api/x,     sessions",
            "GET,  shop.example,          /%73tatic/a.css,          static",
            "GET,  shop.example,          //static//a.css,          static",
            "GET,  shop.example,          /a/./../static/a.css,     static",
            "GET,  www.shop.example,      /static/app.css,          shop",
            "GET,  www.shop.example:443,  /api/cart,                shop",
            "POST, other.example,         /api/cart,                sessions",
            "GET,  other.example,         /api,                     sessions",
            "GET,  other.example,         /admin/users,             admin",
            "GET,  other.example,         /static/%2e%2e/admin,     admin",
            "POST, other.example,         /admin/users,             ~",
            "GET,  other.example,         /,                        ~",
            "GET,  ~,                     /api/x,                   sessions",
            "GET,  ~,                     /x,                       ~",
            "OPTIONS, other.example,      *,                        ~",
    })
    void theFirstRouteThatMatchesTakesTheRequest(String method, String host, String uri, String pool) {
        Route route = router.match(host, uri, method);

        assertThat(route == null ? null : route.pool().name()).isEqualTo(pool);
    }

    @Test
    void eachRouteGoesToItsPoolsBalancer() {
        Route api = router.match("a", "/api/x", "GET");

        assertThat(api.pool().balancer().backends()).extracting(b -> b.label()).containsExactly("127.0.0.1:9003");
        assertThat(api.label()).isEqualTo("/api");
    }

    @Test
    void aRoutesCacheSettingsAreCacheWithItsChanges() {
        CacheConfig base = CacheConfig.defaults();

        assertThat(router.match("shop.example", "/static/a", "GET").cache()).isEqualTo(
                new RouteConfig.CacheOverride(null, Duration.ofHours(1), null).applyTo(base));
        assertThat(router.match("a", "/api/x", "GET").cache().enabled()).isFalse();
        assertThat(router.match("www.shop.example", "/", "GET").cache()).isEqualTo(base);
    }

    @Test
    void theStoreAsksForAKeysSettingsByItsUrl() {
        assertThat(router.forKey(CacheKey.parse("http://shop.example/static/a.css")).ttl())
                .isEqualTo(Duration.ofHours(1));
        assertThat(router.forKey(CacheKey.of("https", "SHOP.example:443", "/static/a.css")).ttl())
                .as("the key's host is normalised; so is the router's").isEqualTo(Duration.ofHours(1));
        assertThat(router.forKey(CacheKey.parse("http://nowhere.example/x")))
                .as("no route: cache: itself").isEqualTo(CacheConfig.defaults());
    }

    @Test
    void theShorthandIsOneCatchAllRouteToThePoolNamedDefault() {
        PiblConfig shorthand = PiblConfig.defaults(List.of(pibl.config.BackendConfig.parse("127.0.0.1:9001")));
        Router r = Routes.router(shorthand, System::nanoTime);

        Route route = r.match(null, "/anything", "DELETE");
        assertThat(route.pool().name()).isEqualTo("default");
        assertThat(route.label()).isEqualTo("/");
        assertThat(route.readsClient()).isFalse();
        assertThat(route.rewritesRequest() || route.rewritesResponse()).isFalse();
    }

    @Test
    void aReloadKeepsTheCountersOfARouteWhoseLabelStaysAndItsBucketsWhenItsLimitStays() {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        RouteConfig limited = RouteConfig.catchAll("shop").withPath("/api")
                .withRateLimit(new RouteConfig.RateLimit(1, Duration.ofSeconds(1), 1));
        PiblConfig before = Routes.config(PiblConfig.defaults(List.of()), POOLS, limited,
                RouteConfig.catchAll("static"));
        Pools pools = Pools.create(before.poolsInForce());
        Router first = Router.create(before, pools, before.cache(), now::get);
        byte[] client = {(byte) 192, 0, 2, 7};
        Route api = first.match("a", "/api", "GET");
        api.counted(Route.Outcome.FORWARDED);
        assertThat(api.takeToken(client)).isZero();

        Pools nextPools = pools.reconfigure(before.poolsInForce());
        Router same = first.next(before, nextPools);
        Route again = same.match("a", "/api", "GET");
        assertThat(again.stats()).as("same label: same counters").isSameAs(api.stats());
        assertThat(again.takeToken(client)).as("same limit: the bucket this client emptied").isPositive();
        assertThat(again.pool()).as("the new generation's pool").isNotSameAs(api.pool());
        assertThat(again.pool().balancer().backends()).as("which kept its backends")
                .containsExactlyElementsOf(api.pool().balancer().backends());

        PiblConfig faster = Routes.config(PiblConfig.defaults(List.of()), POOLS,
                limited.withRateLimit(new RouteConfig.RateLimit(10, Duration.ofSeconds(1), 10)),
                RouteConfig.catchAll("static"));
        Route changed = same.next(faster, nextPools.reconfigure(faster.poolsInForce())).match("a", "/api", "GET");
        assertThat(changed.takeToken(client)).as("a new limit starts with full buckets").isZero();
        assertThat(changed.stats().matches()).isEqualTo(1);
    }

    @Test
    void noRouteIsCountedAcrossReloads() {
        PiblConfig c = Routes.config(PiblConfig.defaults(List.of()), POOLS, ROUTES);
        Pools pools = Pools.create(c.poolsInForce());
        Router r = Router.create(c, pools, c.cache(), System::nanoTime);
        r.countNoRoute();

        Router next = r.next(c, pools.reconfigure(c.poolsInForce()));
        next.countNoRoute();

        assertThat(next.noRoute()).isEqualTo(2);
    }
}
