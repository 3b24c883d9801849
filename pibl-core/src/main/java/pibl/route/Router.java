package pibl.route;

import pibl.cache.CacheKey;
import pibl.cache.CacheRules;
import pibl.config.CacheConfig;
import pibl.config.Cidr;
import pibl.config.PiblConfig;
import pibl.config.RouteConfig;
import pibl.http.ForwardedFor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The routes of one configuration, in order: the one place a request is matched to a route (first match wins) and
 * so to a pool. Immutable; a reload builds the next one from the last ({@link #next}), so a route whose label stays
 * keeps its counters, and its clients' buckets when its {@code rate-limit:} is unchanged.
 *
 * <pre>
 * routes:
 *   - { host: "shop.example", path: /static/, pool: static }   GET /static/a.css  Host: SHOP.example:8080  → static
 *   - { host: "*.shop.example", pool: shop }                    GET /cart  Host: www.shop.example         → shop
 *   - { path: /api/, pool: sessions }                           GET /api/../api/v1  Host: other.example   → sessions
 *                                                               GET /x  Host: other.example               → none: 404
 * </pre>
 *
 * Host and path are normalised first ({@link RequestTarget}); the matching itself is {@link
 * pibl.config.RouteMatch}'s, the same the configuration checks shadowing with. The router also tells the cache the
 * settings of a key's route ({@link CacheRules}).
 */
public final class Router implements CacheRules {
    private final List<Route> routes;
    /** Whether any route looks at the host, or the path: the shorthand's one route looks at neither. */
    private final boolean readsHost;
    private final boolean readsPath;
    private final List<Cidr> trustedProxies;
    private final CacheConfig baseCache;
    private final Shared shared;

    /** What outlives a reload: the client buckets, the limiter ids, and the counters. */
    private static final class Shared {
        final ClientBuckets buckets;
        final AtomicInteger limiterIds = new AtomicInteger();
        final LongAdder noRoute = new LongAdder();

        Shared(ClientBuckets buckets) {
            this.buckets = buckets;
        }
    }

    private Router(List<Route> routes, List<Cidr> trustedProxies, CacheConfig baseCache, Shared shared) {
        this.routes = List.copyOf(routes);
        this.readsHost = routes.stream().anyMatch(r -> r.match().host() != null);
        this.readsPath = routes.stream().anyMatch(r -> !r.match().path().isEmpty());
        this.trustedProxies = trustedProxies;
        this.baseCache = baseCache;
        this.shared = shared;
    }

    /**
     * The routes of {@code config} (validated) over {@code pools}, with their cache settings on top of
     * {@code baseCache}: the cache in force, which a reload does not change.
     *
     * @param nanoTime the clock rate limits refill by
     */
    public static Router create(PiblConfig config, Pools pools, CacheConfig baseCache, LongSupplier nanoTime) {
        return build(config, pools, baseCache, new Shared(new ClientBuckets(ClientBuckets.MAX_CLIENTS, nanoTime)),
                Map.of());
    }

    /** The router of the next configuration: see the class comment for what carries over. */
    public Router next(PiblConfig config, Pools pools) {
        Map<String, Route> before = new HashMap<>();
        for (Route r : routes) {
            before.put(r.label(), r);
        }
        return build(config, pools, baseCache, shared, before);
    }

    private static Router build(PiblConfig config, Pools pools, CacheConfig baseCache, Shared shared,
                                Map<String, Route> before) {
        List<Route> routes = new ArrayList<>();
        for (RouteConfig c : config.routesInForce()) {
            Pool pool = pools.get(c.pool());
            if (pool == null) {
                throw new IllegalArgumentException("no pool " + c.pool() + " for route " + c.label());
            }
            Route old = before.get(c.label());
            RateLimiter limiter = null;
            if (c.rateLimit() != null) {
                limiter = old != null && old.limiter() != null && old.limiter().limit().equals(c.rateLimit())
                        ? old.limiter() : new RateLimiter(shared.buckets, shared.limiterIds.incrementAndGet(),
                        c.rateLimit());
            }
            routes.add(new Route(c, pool, c.cache().applyTo(baseCache), limiter,
                    old == null ? new RouteStats() : old.stats()));
        }
        return new Router(routes, config.trustedProxies(), baseCache, shared);
    }

    /**
     * The first route that takes the request, or null.
     *
     * @param hostHeader the request's {@code Host} (after the guard: an absolute-form target's authority)
     * @param uri        its origin-form target
     */
    public Route match(String hostHeader, String uri, String method) {
        String host = readsHost ? RequestTarget.host(hostHeader) : null;
        String path = readsPath ? RequestTarget.path(uri) : "/";
        for (Route r : routes) {
            if (r.match().matches(host, path, method)) {
                return r;
            }
        }
        return null;
    }

    /** The client's address for {@code allow:}, {@code deny:} and rate limits (see {@link ForwardedFor}). */
    /** Whether {@code trusted-proxies:} lists any: else {@link #client} is always the peer. */
    public boolean trustsProxies() {
        return !trustedProxies.isEmpty();
    }

    public byte[] client(byte[] peer, List<String> forwardedFor) {
        return ForwardedFor.client(peer, forwardedFor, trustedProxies);
    }

    /** In order. */
    public List<Route> routes() {
        return routes;
    }

    /** A request no route took (answered 404). */
    public void countNoRoute() {
        shared.noRoute.increment();
    }

    /** Requests no route took, since start. */
    public long noRoute() {
        return shared.noRoute.sum();
    }

    /** Client buckets held now (bounded by {@link ClientBuckets#MAX_CLIENTS}). */
    public long trackedClients() {
        return shared.buckets.size();
    }

    /** The cache settings of the route a GET of {@code key}'s URL takes; {@code cache:} when none takes it. */
    @Override
    public CacheConfig forKey(CacheKey key) {
        Route r = match(key.host(), key.target(), "GET");
        return r == null ? baseCache : r.cache();
    }
}
