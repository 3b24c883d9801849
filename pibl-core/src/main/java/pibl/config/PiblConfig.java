package pibl.config;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything PIBL needs to run, immutable. {@code pibl-app} builds it from {@code pibl.yaml} and
 * the command line; tests build it in code. {@code pibl-core} never reads YAML or flags.
 *
 * <p>Where requests go: {@code pools:} (named sets of backends) and {@code routes:} (which requests go to which pool,
 * first match wins). Without {@code pools:}, the top-level {@code backends:} (with {@code health-check:} and
 * {@code balance:}) is one pool named {@value PoolConfig#DEFAULT}, and without {@code routes:} one route takes
 * every request to it: {@link #poolsInForce()} and {@link #routesInForce()} say what is in force either way.
 *
 * @param bind           address the public listener binds to
 * @param port           public port; 0 picks an ephemeral one (tests)
 * @param backends       the shorthand pool's backends; empty when {@code pools} are given
 * @param tls            the TLS listener; {@link TlsConfig#OFF} when the file has no {@code tls:} block
 * @param http2          HTTP/2 towards clients (h2c by prior knowledge on the cleartext port)
 * @param balance        how requests are spread over {@code backends}
 * @param pools          the named pools; empty for the {@code backends:} shorthand
 * @param routes         first match wins; empty: every request to the one pool of the shorthand
 * @param trustedProxies peers whose {@code X-Forwarded-For} names the client (for {@code allow}, {@code deny} and
 *                       rate limits); empty: the peer is the client
 * @param cluster        the fleet this node is one of; {@link ClusterConfig#OFF} when alone
 */
public record PiblConfig(String bind, int port, List<BackendConfig> backends, TimeoutConfig timeouts,
                         LimitConfig limits, LogConfig log, CacheConfig cache, HealthCheckConfig healthCheck,
                         AdminConfig admin, TlsConfig tls, Http2Config http2, BalanceConfig balance,
                         List<PoolConfig> pools, List<RouteConfig> routes, List<Cidr> trustedProxies,
                         ClusterConfig cluster) {

    public PiblConfig {
        cluster = cluster == null ? ClusterConfig.OFF : cluster;
        backends = backends == null ? List.of() : List.copyOf(backends);
        pools = pools == null ? List.of() : List.copyOf(pools);
        routes = routes == null ? List.of() : List.copyOf(routes);
        trustedProxies = trustedProxies == null ? List.of() : List.copyOf(trustedProxies);
    }

    /** Not in a fleet. */
    public PiblConfig(String bind, int port, List<BackendConfig> backends, TimeoutConfig timeouts,
                      LimitConfig limits, LogConfig log, CacheConfig cache, HealthCheckConfig healthCheck,
                      AdminConfig admin, TlsConfig tls, Http2Config http2, BalanceConfig balance,
                      List<PoolConfig> pools, List<RouteConfig> routes, List<Cidr> trustedProxies) {
        this(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, tls, http2, balance, pools,
                routes, trustedProxies, ClusterConfig.OFF);
    }

    /** The {@code backends:} shorthand: no pools, routes or trusted proxies. */
    public PiblConfig(String bind, int port, List<BackendConfig> backends, TimeoutConfig timeouts, LimitConfig limits,
                      LogConfig log, CacheConfig cache, HealthCheckConfig healthCheck, AdminConfig admin,
                      TlsConfig tls, Http2Config http2, BalanceConfig balance) {
        this(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, tls, http2, balance, List.of(),
                List.of(), List.of());
    }

    /** Without TLS, {@code http2} and {@code balance} at their defaults. */
    public PiblConfig(String bind, int port, List<BackendConfig> backends, TimeoutConfig timeouts, LimitConfig limits,
                      LogConfig log, CacheConfig cache, HealthCheckConfig healthCheck, AdminConfig admin) {
        this(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, TlsConfig.OFF,
                Http2Config.defaults(), BalanceConfig.defaults());
    }

    /** The defaults of every section, port 8080, and the given backends. */
    public static PiblConfig defaults(List<BackendConfig> backends) {
        return new PiblConfig("0.0.0.0", 8080, backends, TimeoutConfig.defaults(), LimitConfig.defaults(),
                LogConfig.defaults(), CacheConfig.defaults(), HealthCheckConfig.defaults(), AdminConfig.defaults());
    }

    /** {@code pools}, or the one pool {@value PoolConfig#DEFAULT} of the {@code backends:} shorthand. */
    public List<PoolConfig> poolsInForce() {
        return pools.isEmpty() ? List.of(new PoolConfig(PoolConfig.DEFAULT, backends, healthCheck, balance)) : pools;
    }

    /** {@code routes}, or one route taking every request to the shorthand's pool. */
    public List<RouteConfig> routesInForce() {
        return routes.isEmpty() && pools.isEmpty() ? List.of(RouteConfig.catchAll(PoolConfig.DEFAULT)) : routes;
    }

    /**
     * Checks every value; throws {@link ConfigException} naming the first bad key.
     *
     * @return this, for chaining
     */
    public PiblConfig validate() {
        if (bind == null || bind.isBlank()) {
            throw new ConfigException("bind", "must not be empty");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException("port", "must be between 0 and 65535 (0 = any free port), got " + port);
        }
        if (!pools.isEmpty() && !backends.isEmpty()) {
            throw new ConfigException("backends", "cannot be used together with pools: list these backends in a "
                    + "pool of their own and route to it");
        }
        if (pools.isEmpty()) {
            if (backends.isEmpty()) {
                throw new ConfigException("backends", "must list at least one backend as host:port");
            }
            for (int i = 0; i < backends.size(); i++) {
                backends.get(i).validate("backends[" + i + "]");
            }
        }
        require("timeouts", timeouts).validate();
        require("limits", limits).validate();
        require("log", log).validate();
        require("cache", cache).validate();
        require("health-check", healthCheck).validate("");
        require("admin", admin).validate();
        if (admin.enabled() && admin.port() != 0 && admin.port() == port) {
            throw new ConfigException("admin.port", "must differ from the public port " + port);
        }
        require("http2", http2).validate();
        require("tls", tls).validate();
        require("balance", balance).validate("");
        if (tls.enabled() && tls.port() != 0 && (tls.port() == port || admin.enabled() && tls.port() == admin.port())) {
            throw new ConfigException("tls.port", "must differ from the public and admin ports, got " + tls.port());
        }
        validateRouting();
        require("cluster", cluster).validate();
        if (cluster.enabled() && !cache.enabled()) {
            throw new ConfigException("cluster", "needs the cache (cache.enabled: true): a fleet shares its cache");
        }
        return this;
    }

    /** Pools with unique names; routes naming one each, none of them shadowed by an earlier one. */
    private void validateRouting() {
        Set<String> names = new LinkedHashSet<>();
        for (PoolConfig p : poolsInForce()) {
            p.validate();
            if (!names.add(p.name())) {
                throw new ConfigException("pools." + p.name(), "appears twice");
            }
        }
        List<RouteConfig> in = routesInForce();
        if (in.isEmpty()) {
            throw new ConfigException("routes", "must list at least one route when pools: are given (a route "
                    + "with no host or path takes every request: - { pool: NAME })");
        }
        RouteMatch[] matches = new RouteMatch[in.size()];
        for (int i = 0; i < in.size(); i++) {
            String key = "routes[" + i + "]";
            in.get(i).validate(key, names, cache);
            matches[i] = in.get(i).match(key);
            for (int j = 0; j < i; j++) {
                if (matches[j].covers(matches[i])) {
                    throw new ConfigException(key, "can never match: routes[" + j + "] (" + matches[j].label()
                            + ") comes first and takes every request this one would (" + matches[i].label() + ")");
                }
            }
        }
    }

    private static <T> T require(String key, T section) {
        if (section == null) {
            throw new ConfigException(key, "section is missing");
        }
        return section;
    }

    public PiblConfig withBind(String newBind) {
        return new PiblConfig(newBind, port, backends, timeouts, limits, log, cache, healthCheck, admin, tls, http2,
                balance, pools, routes, trustedProxies, cluster);
    }

    public PiblConfig withPort(int newPort) {
        return new PiblConfig(bind, newPort, backends, timeouts, limits, log, cache, healthCheck, admin, tls, http2,
                balance, pools, routes, trustedProxies, cluster);
    }

    public PiblConfig withBackends(List<BackendConfig> newBackends) {
        return new PiblConfig(bind, port, newBackends, timeouts, limits, log, cache, healthCheck, admin, tls, http2,
                balance, pools, routes, trustedProxies, cluster);
    }

    public PiblConfig withTimeouts(TimeoutConfig newTimeouts) {
        return new PiblConfig(bind, port, backends, newTimeouts, limits, log, cache, healthCheck, admin, tls, http2,
                balance, pools, routes, trustedProxies, cluster);
    }

    public PiblConfig withLimits(LimitConfig newLimits) {
        return new PiblConfig(bind, port, backends, timeouts, newLimits, log, cache, healthCheck, admin, tls, http2,
                balance, pools, routes, trustedProxies, cluster);
    }

    public PiblConfig withLog(LogConfig newLog) {
        return new PiblConfig(bind, port, backends, timeouts, limits, newLog, cache, healthCheck, admin, tls, http2,
                balance, pools, routes, trustedProxies, cluster);
    }

    public PiblConfig withCache(CacheConfig newCache) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, newCache, healthCheck, admin, tls, http2,
                balance, pools, routes, trustedProxies, cluster);
    }

    public PiblConfig withHealthCheck(HealthCheckConfig newHealthCheck) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, newHealthCheck, admin, tls, http2,
                balance, pools, routes, trustedProxies, cluster);
    }

    public PiblConfig withAdmin(AdminConfig newAdmin) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, healthCheck, newAdmin, tls, http2,
                balance, pools, routes, trustedProxies, cluster);
    }

    public PiblConfig withHttp2(Http2Config newHttp2) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, tls, newHttp2,
                balance, pools, routes, trustedProxies, cluster);
    }

    public PiblConfig withTls(TlsConfig newTls) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, newTls, http2,
                balance, pools, routes, trustedProxies, cluster);
    }

    public PiblConfig withBalance(BalanceConfig newBalance) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, tls, http2,
                newBalance, pools, routes, trustedProxies, cluster);
    }

    public PiblConfig withPools(List<PoolConfig> newPools) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, tls, http2,
                balance, newPools, routes, trustedProxies, cluster);
    }

    public PiblConfig withRoutes(List<RouteConfig> newRoutes) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, tls, http2,
                balance, pools, newRoutes, trustedProxies, cluster);
    }

    public PiblConfig withTrustedProxies(List<Cidr> newTrustedProxies) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, tls, http2,
                balance, pools, routes, newTrustedProxies, cluster);
    }

    public PiblConfig withCluster(ClusterConfig newCluster) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, tls, http2,
                balance, pools, routes, trustedProxies, newCluster);
    }
}
