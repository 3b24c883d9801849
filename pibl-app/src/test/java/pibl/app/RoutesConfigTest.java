package pibl.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
import pibl.config.CacheConfig;
import pibl.config.Cidr;
import pibl.config.HealthCheckConfig;
import pibl.config.PiblConfig;
import pibl.config.PoolConfig;
import pibl.config.RouteConfig;

/** {@code pools:}, {@code routes:} and {@code trusted-proxies:} as {@link ConfigLoader} reads them (issue 14). */
class RoutesConfigTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("pibl.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    /** The issue's own example, key for key. */
    private static final String ISSUE_EXAMPLE = """
            health-check: { interval: 3s }
            pools:
              shop:
                balance: least-request
                backends: [127.0.0.1:9001, 127.0.0.1:9002]
              static:
                backends: [{ address: 127.0.0.1:9003, weight: 2 }]
                health-check: { path: /healthz }
              sessions:
                balance: hash
                hash: { key: "cookie:SESSION", bounded-load: 1.25 }
                backends: [127.0.0.1:9001, 127.0.0.1:9002, 127.0.0.1:9003]
            routes:
              - { host: "shop.example", path: /static/, pool: static, cache: { ttl: 1h } }
              - { host: "*.shop.example", pool: shop, headers: { request-set: { X-Site: shop }, response-remove: [Server] } }
              - { path: /api/, pool: sessions, cache: { enabled: false }, rate-limit: { per-client: 50/s, burst: 100 } }
              - { path: /admin, methods: [get, POST], pool: shop, allow: [10.0.0.0/8, "::1"], deny: [10.6.6.0/24] }
              - { pool: shop }
            trusted-proxies: [127.0.0.1, 10.0.0.0/8]
            """;

    @Test
    void theIssuesExampleReachesItsRecords() throws IOException {
        PiblConfig c = ConfigLoader.load(write(ISSUE_EXAMPLE)).config();

        HealthCheckConfig top = HealthCheckConfig.defaults();
        top = new HealthCheckConfig(top.enabled(), top.path(), Duration.ofSeconds(3), top.timeout(), top.fall(),
                top.rise(), top.passiveFailures(), top.passiveCooldown());
        HealthCheckConfig healthz = new HealthCheckConfig(top.enabled(), "/healthz", top.interval(), top.timeout(),
                top.fall(), top.rise(), top.passiveFailures(), top.passiveCooldown());
        assertThat(c.backends()).as("no shorthand").isEmpty();
        assertThat(c.pools()).containsExactly(
                new PoolConfig("shop", List.of(new BackendConfig("127.0.0.1", 9001), new BackendConfig("127.0.0.1", 9002)),
                        top, BalanceConfig.defaults().withPolicy(BalanceConfig.Policy.LEAST_REQUEST)),
                new PoolConfig("static", List.of(new BackendConfig("127.0.0.1", 9003, 2)),
                        healthz, BalanceConfig.defaults()),
                new PoolConfig("sessions", List.of(new BackendConfig("127.0.0.1", 9001),
                        new BackendConfig("127.0.0.1", 9002), new BackendConfig("127.0.0.1", 9003)), top,
                        new BalanceConfig(BalanceConfig.Policy.HASH,
                                new BalanceConfig.HashKey(BalanceConfig.HashKey.Source.COOKIE, "SESSION"), 1.25,
                                BalanceConfig.defaults().slowStart())));
        assertThat(c.poolsInForce()).isEqualTo(c.pools());
        assertThat(c.routes()).containsExactly(
                RouteConfig.catchAll("static").withHost("shop.example").withPath("/static/")
                        .withCache(new RouteConfig.CacheOverride(null, Duration.ofHours(1), null)),
                RouteConfig.catchAll("shop").withHost("*.shop.example").withHeaders(new RouteConfig.Headers(
                        Map.of("X-Site", "shop"), List.of(), Map.of(), List.of("Server"))),
                RouteConfig.catchAll("sessions").withPath("/api/")
                        .withCache(new RouteConfig.CacheOverride(false, null, null))
                        .withRateLimit(new RouteConfig.RateLimit(50, Duration.ofSeconds(1), 100)),
                RouteConfig.catchAll("shop").withPath("/admin").withMethods(List.of("get", "POST"))
                        .withAllow(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("::1/128")))
                        .withDeny(List.of(Cidr.parse("10.6.6.0/24"))),
                RouteConfig.catchAll("shop"));
        assertThat(c.routesInForce()).isEqualTo(c.routes());
        assertThat(c.trustedProxies()).containsExactly(Cidr.parse("127.0.0.1/32"), Cidr.parse("10.0.0.0/8"));
        assertThat(c.routes().get(3).label()).as("methods upper-cased, in the order written").isEqualTo("/admin[GET,POST]");
    }

    /** The commented example in the shipped pibl.yaml, uncommented in place of its backends: list, is valid. */
    @Test
    void theCommentedExampleInTheShippedPiblYamlIsValid() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("..", "pibl.yaml"));
        int from = lines.indexOf("#pools:");
        int to = lines.indexOf("#trusted-proxies: [127.0.0.1]");
        assertThat(from).as("the example is there").isPositive();
        StringBuilder yaml = new StringBuilder();
        for (String line : lines.subList(from, to + 1)) {
            boolean commented = line.startsWith("#") && (line.length() > 1 && line.charAt(1) != ' '
                    || line.startsWith("#  "));
            yaml.append(commented ? line.substring(1) : line).append('\n');
        }

        PiblConfig c = ConfigLoader.load(write(yaml.toString())).config();

        assertThat(c.pools()).extracting(PoolConfig::name).containsExactly("shop", "static");
        assertThat(c.routes()).hasSize(4);
        assertThat(c.routes().get(2).rateLimit()).isEqualTo(new RouteConfig.RateLimit(50, Duration.ofSeconds(1), 100));
        assertThat(c.trustedProxies()).containsExactly(Cidr.parse("127.0.0.1"));
    }

    @Test
    void theBackendsShorthandIsOnePoolNamedDefaultWithACatchAllRoute() throws IOException {
        PiblConfig c = ConfigLoader.load(write("backends: [127.0.0.1:9001]\nbalance: ewma\n")).config();

        assertThat(c.pools()).isEmpty();
        assertThat(c.routes()).isEmpty();
        assertThat(c.trustedProxies()).isEmpty();
        assertThat(c.poolsInForce()).containsExactly(new PoolConfig("default",
                List.of(new BackendConfig("127.0.0.1", 9001)), HealthCheckConfig.defaults(),
                BalanceConfig.defaults().withPolicy(BalanceConfig.Policy.EWMA)));
        assertThat(c.routesInForce()).containsExactly(RouteConfig.catchAll("default"));
        assertThat(c.routesInForce().get(0).label()).isEqualTo("/");
    }

    @Test
    void routesMayNameTheShorthandPool() throws IOException {
        PiblConfig c = ConfigLoader.load(write("""
                backends: [127.0.0.1:9001]
                routes:
                  - { path: /api, pool: default, rate-limit: { per-client: 600/m } }
                  - { pool: default }
                """)).config();

        assertThat(c.routesInForce()).hasSize(2);
        assertThat(c.routesInForce().get(0).rateLimit()).as("burst defaults to the rate's count")
                .isEqualTo(new RouteConfig.RateLimit(600, Duration.ofMinutes(1), 600));
    }

    @Test
    void aRouteCacheOverrideChangesOnlyItsKeys() {
        CacheConfig base = CacheConfig.defaults();

        CacheConfig hour = new RouteConfig.CacheOverride(null, Duration.ofHours(1), CacheConfig.TtlMode.OVERRIDE)
                .applyTo(base);

        assertThat(hour.ttl()).isEqualTo(Duration.ofHours(1));
        assertThat(hour.ttlMode()).isEqualTo(CacheConfig.TtlMode.OVERRIDE);
        assertThat(hour.withTtl(base.ttl()).withMaxEntries(0)).as("nothing else")
                .isEqualTo(new CacheConfig(true, base.directory(), base.ttl(), CacheConfig.TtlMode.OVERRIDE,
                        base.maxSize(), base.maxObjectSize(), base.memorySize(), base.storeSetCookie(),
                        base.staleIfError()));
        assertThat(RouteConfig.CacheOverride.NONE.applyTo(base)).isSameAs(base);
        assertThat(new RouteConfig.CacheOverride(false, null, null).applyTo(base).enabled()).isFalse();
    }

    private static final String POOL = "pools:\n  shop:\n    backends: [127.0.0.1:9001]\n";
    private static final String ROUTE = "routes:\n  - { pool: shop }\n";

    static Stream<Arguments> badFiles() {
        return Stream.of(
                // name, yaml, key, line, problem
                bad("unknown pool in a route", POOL + "routes:\n  - { path: /a, pool: shoop }\n",
                        "routes[0].pool", 5, "no pool is named shoop (there are: shop)"),
                bad("route without a pool", POOL + "routes:\n  - { path: /a }\n", "routes[0].pool", 5,
                        "is required"),
                bad("unknown shorthand pool", "backends: [127.0.0.1:9001]\nroutes:\n  - { pool: shop }\n",
                        "routes[0].pool", 3, "no pool is named shop (there are: default)"),
                bad("duplicate pool name", POOL + "  shop:\n    backends: [127.0.0.1:9002]\n" + ROUTE,
                        "pools.shop", 4, "appears twice, first on line 2"),
                bad("duplicate key in a route", POOL + "routes:\n  - pool: shop\n    pool: shop\n",
                        "routes[0].pool", 6, "appears twice, first on line 5"),
                bad("pool without backends", "pools:\n  shop: {}\n" + ROUTE, "pools.shop.backends", 2,
                        "must list at least one backend"),
                bad("pool with an empty list", "pools:\n  shop:\n    backends: []\n" + ROUTE,
                        "pools.shop.backends", 3, "must list at least one backend"),
                bad("pool name with a space", "pools:\n  'my shop':\n    backends: [127.0.0.1:1]\n"
                        + "routes:\n  - { pool: my shop }\n", "pools.my shop", 2, "1 to 64 letters, digits"),
                bad("bad backend in a pool", "pools:\n  shop:\n    backends: [localhost]\n" + ROUTE,
                        "pools.shop.backends[0]", 3, "expected host:port, got 'localhost'"),
                bad("bad weight in a pool", "pools:\n  shop:\n    backends: [{ address: a:1, weight: 0 }]\n" + ROUTE,
                        "pools.shop.backends[0].weight", 3, "must be between 1 and 1000, got 0"),
                bad("bad health check in a pool", POOL + "    health-check: { interval: -1s }\n" + ROUTE,
                        "pools.shop.health-check.interval", 4, "must be a positive duration, got -1s"),
                bad("bad health path in a pool", POOL + "    health-check:\n      path: ping\n" + ROUTE,
                        "pools.shop.health-check.path", 5, "must start with /, got ping"),
                bad("bad balance in a pool", POOL + "    balance: fastest\n" + ROUTE, "pools.shop.balance", 4,
                        "must be one of round-robin, weighted, least-request, ewma, hash, got 'fastest'"),
                bad("bad hash key in a pool", POOL + "    hash: { key: path }\n" + ROUTE, "pools.shop.hash.key", 4,
                        "must be uri, header:NAME, cookie:NAME or client-ip, got path"),
                bad("bad slow start in a pool", POOL + "    slow-start: 2h\n" + ROUTE, "pools.shop.slow-start", 4,
                        "must be between 0s (off) and 1h, got 2h"),
                bad("unknown key in a pool", POOL + "    backend: [127.0.0.1:1]\n" + ROUTE, "pools.shop.backend", 4,
                        "unknown key, expected one of: backends, balance, hash, health-check, slow-start"),
                bad("backends and pools together", "backends: [127.0.0.1:9001]\n" + POOL + ROUTE, "backends", 1,
                        "cannot be used together with pools"),
                bad("pools without routes", POOL, "routes", 0, "must list at least one route when pools: are given"),
                bad("pools a list", "pools: [shop]\n" + ROUTE, "pools", 1, "expected a section of keys"),
                bad("unknown key in a route", POOL + "routes:\n  - { pool: shop, hots: a }\n", "routes[0].hots", 5,
                        "unknown key, expected one of: allow, cache, deny, headers, host, methods, path, pool, "
                                + "rate-limit"),
                bad("shadowed route", POOL + "routes:\n  - { path: /api, pool: shop }\n"
                        + "  - { path: /api/v1/, pool: shop }\n", "routes[1]", 6,
                        "can never match: routes[0] (/api) comes first and takes every request this one would "
                                + "(/api/v1)"),
                bad("route after the catch-all", POOL + "routes:\n  - { pool: shop }\n"
                        + "  - { host: a.example, pool: shop }\n", "routes[1]", 6, "routes[0] (/) comes first"),
                bad("exact host after its wildcard", POOL + "routes:\n  - { host: '*.shop.example', pool: shop }\n"
                        + "  - { host: a.shop.example, path: /x, methods: [GET], pool: shop }\n", "routes[1]", 6,
                        "routes[0] (*.shop.example/) comes first"),
                bad("same route twice", POOL + "routes:\n  - { path: /a/, pool: shop }\n  - { path: /a, pool: shop }\n"
                        + ROUTE.substring(8), "routes[1]", 6, "can never match"),
                bad("host with a port", POOL + "routes:\n  - { host: 'shop.example:8080', pool: shop }\n",
                        "routes[0].host", 5, "must be a host name (shop.example) or *. and a domain"),
                bad("wildcard inside a host", POOL + "routes:\n  - { host: 'a.*.example', pool: shop }\n",
                        "routes[0].host", 5, "got a.*.example"),
                bad("bare wildcard host", POOL + "routes:\n  - { host: '*', pool: shop }\n", "routes[0].host", 5,
                        "got *"),
                bad("path without a slash", POOL + "routes:\n  - { path: api, pool: shop }\n", "routes[0].path", 5,
                        "must start with / and be a plain path (no query, no dot segments, no //), got api"),
                bad("path with a query", POOL + "routes:\n  - { path: '/a?b', pool: shop }\n", "routes[0].path", 5,
                        "no query"),
                bad("path with a dot segment", POOL + "routes:\n  - { path: /a/../b, pool: shop }\n",
                        "routes[0].path", 5, "no dot segments"),
                bad("method that is no token", POOL + "routes:\n  - { methods: ['GE T'], pool: shop }\n",
                        "routes[0].methods", 5, "must be method names such as GET, got GE T"),
                bad("network with a prefix too long", POOL + "routes:\n  - { allow: [10.0.0.0/33], pool: shop }\n",
                        "routes[0].allow[0]", 5, "prefix length must be 0 to 32, got 10.0.0.0/33"),
                bad("network with host bits", POOL + "routes:\n  - { deny: [10.1.2.3/8], pool: shop }\n",
                        "routes[0].deny[0]", 5, "has bits set past its prefix length, got 10.1.2.3/8 (the network is "
                                + "10.0.0.0/8)"),
                bad("short IPv4 address", POOL + "routes:\n  - { deny: [10.1], pool: shop }\n",
                        "routes[0].deny[0]", 5, "must be an IPv4 or IPv6 address or network"),
                bad("a name for an address", POOL + ROUTE + "trusted-proxies: [localhost]\n", "trusted-proxies[0]", 6,
                        "must be an IPv4 or IPv6 address or network such as 10.0.0.0/8 or 2001:db8::/32, got localhost"),
                bad("IPv6 with two gaps", POOL + ROUTE + "trusted-proxies: ['1::2::3']\n", "trusted-proxies[0]", 6,
                        "got 1::2::3"),
                bad("rate without a unit", POOL + "routes:\n  - { pool: shop, rate-limit: { per-client: 50 } }\n",
                        "routes[0].rate-limit.per-client", 5, "must be a rate such as 50/s, 600/m or 1000/h, got 50"),
                bad("rate with an unknown unit", POOL + "routes:\n  - pool: shop\n    rate-limit:\n"
                        + "      per-client: 50/sec\n", "routes[0].rate-limit.per-client", 7, "got 50/sec"),
                bad("rate of zero", POOL + "routes:\n  - { pool: shop, rate-limit: { per-client: 0/s } }\n",
                        "routes[0].rate-limit.per-client", 5, "must be between 1 and 1000000"),
                bad("rate limit without a rate", POOL + "routes:\n  - { pool: shop, rate-limit: { burst: 5 } }\n",
                        "routes[0].rate-limit.per-client", 5, "is required"),
                bad("burst below one", POOL + "routes:\n  - pool: shop\n    rate-limit: { per-client: 5/s, burst: 0 }\n",
                        "routes[0].rate-limit.burst", 6, "must be between 1 and 1000000, got 0"),
                bad("negative route ttl", POOL + "routes:\n  - { pool: shop, cache: { ttl: -1s } }\n",
                        "routes[0].cache.ttl", 5, "must be zero or a positive number of seconds, got -1s"),
                bad("unknown route ttl-mode", POOL + "routes:\n  - { pool: shop, cache: { ttl-mode: always } }\n",
                        "routes[0].cache.ttl-mode", 5, "must be one of default, override, cap, got 'always'"),
                bad("unknown route cache key", POOL + "routes:\n  - { pool: shop, cache: { max-size: 1g } }\n",
                        "routes[0].cache.max-size", 5, "unknown key, expected one of: enabled, ttl, ttl-mode"),
                bad("route cache on while the cache is off", POOL + "cache: { enabled: false }\n"
                        + "routes:\n  - { pool: shop, cache: { enabled: true } }\n", "routes[0].cache.enabled", 6,
                        "cannot turn the cache on for one route while cache.enabled is false"),
                bad("setting a framing field", POOL + "routes:\n  - pool: shop\n    headers:\n"
                        + "      request-set: { Transfer-Encoding: chunked }\n",
                        "routes[0].headers.request-set", 7,
                        "Transfer-Encoding: PIBL sets it for each hop (it frames the message or describes the "
                                + "connection)"),
                bad("removing a hop-by-hop field", POOL + "routes:\n  - pool: shop\n    headers:\n"
                        + "      response-remove: [Server, Connection]\n", "routes[0].headers.response-remove[1]", 7,
                        "Connection: PIBL sets it for each hop"),
                bad("removing Host", POOL + "routes:\n  - { pool: shop, headers: { request-remove: [host] } }\n",
                        "routes[0].headers.request-remove[0]", 5, "a backend needs Host"),
                bad("a field name with a space", POOL + "routes:\n  - pool: shop\n    headers:\n"
                        + "      response-set: { 'X A': b }\n", "routes[0].headers.response-set", 7,
                        "'X A' is not a header field name"),
                bad("unknown headers key", POOL + "routes:\n  - { pool: shop, headers: { set: { a: b } } }\n",
                        "routes[0].headers.set", 5,
                        "unknown key, expected one of: request-remove, request-set, response-remove, response-set"));
    }

    private static Arguments bad(String name, String yaml, String key, int line, String problem) {
        return Arguments.of(name, yaml, key, line, problem);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void aBadRouteOrPoolIsOneErrorNamingFileLineAndKey(String name, String yaml, String key, int line,
                                                        String problem) throws IOException {
        Path file = write(yaml);

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(file));

        assertThat(e).as("%s must be rejected", name).isNotNull();
        assertThat(e.key()).isEqualTo(key);
        assertThat(e.line()).as("line of %s in%n%s", key, yaml).isEqualTo(line);
        assertThat(e.problem()).contains(problem);
        assertThat(e.getMessage()).as("one line for stderr").doesNotContain("\n")
                .startsWith(file + ": " + (line > 0 ? "line " + line + ": " : "") + key + ": ");
    }

    @Test
    void theBackendFlagWithPoolsInTheFileIsTheFlagsError() throws IOException {
        Path file = write(POOL + ROUTE);
        FlagOverride flag = new FlagOverride("backends", "--backend", "127.0.0.1:9009",
                c -> c.withBackends(List.of(BackendConfig.parse("127.0.0.1:9009"))));

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(file, List.of(flag)));

        assertThat(e.getMessage()).startsWith("--backend: cannot be used together with pools");
    }
}
