package pibl.route;

import io.netty.handler.codec.http.HttpHeaders;
import pibl.config.CacheConfig;
import pibl.config.Cidr;
import pibl.config.RouteConfig;
import pibl.config.RouteMatch;

import java.util.List;
import java.util.Map;

/**
 * One route of a {@link Router}, ready for requests: what it matches, its pool, its cache settings, its header
 * rewrites, who may use it and how often.
 */
public final class Route {
    private final String label;
    private final RouteConfig config;
    private final RouteMatch match;
    private final Pool pool;
    private final CacheConfig cache;
    private final RateLimiter limiter;
    private final RouteStats stats;

    Route(RouteConfig config, Pool pool, CacheConfig cache, RateLimiter limiter, RouteStats stats) {
        this.config = config;
        this.match = config.match("route");
        this.label = match.label();
        this.pool = pool;
        this.cache = cache;
        this.limiter = limiter;
        this.stats = stats;
    }

    /** {@code shop.example/static}, {@code /}: its name in the access log, {@code /status} and {@code /metrics}. */
    public String label() {
        return label;
    }

    public RouteConfig config() {
        return config;
    }

    RouteMatch match() {
        return match;
    }

    public Pool pool() {
        return pool;
    }

    /** {@code cache:} with this route's changes: the one input the cache decides this route's requests by. */
    public CacheConfig cache() {
        return cache;
    }

    public RouteStats stats() {
        return stats;
    }

    /** Null without {@code rate-limit:}. */
    RateLimiter limiter() {
        return limiter;
    }

    /** Whether the client's address matters: {@code allow:}, {@code deny:} or {@code rate-limit:}. */
    public boolean readsClient() {
        return limiter != null || !config.allow().isEmpty() || !config.deny().isEmpty();
    }

    /** {@code deny:} wins; with {@code allow:}, only what it lists. */
    public boolean admits(byte[] client) {
        if (contains(config.deny(), client)) {
            return false;
        }
        return config.allow().isEmpty() || contains(config.allow(), client);
    }

    private static boolean contains(List<Cidr> networks, byte[] address) {
        for (Cidr c : networks) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** 0 when the client may go on; else the nanoseconds until its bucket has a token (no limit: always 0). */
    public long takeToken(byte[] client) {
        return limiter == null ? 0 : limiter.take(client);
    }

    /** Counts a request this route took, and what became of it. */
    public void counted(Outcome outcome) {
        stats.matched();
        switch (outcome) {
            case DENIED -> stats.denied();
            case RATE_LIMITED -> stats.rateLimited();
            case FORWARDED -> {
            }
        }
    }

    /** What the route did with a request it matched. */
    public enum Outcome { FORWARDED, DENIED, RATE_LIMITED }

    /** Whether {@link #rewriteRequest} changes anything (the cache then keeps the client's fields apart). */
    public boolean rewritesRequest() {
        return config.headers().rewritesRequest();
    }

    /** {@code request-remove}, then {@code request-set}, on the request to the backend. */
    public void rewriteRequest(HttpHeaders headers) {
        apply(headers, config.headers().requestRemove(), config.headers().requestSet());
    }

    public boolean rewritesResponse() {
        return config.headers().rewritesResponse();
    }

    /** {@code response-remove}, then {@code response-set}, on the response to the client. */
    public void rewriteResponse(HttpHeaders headers) {
        apply(headers, config.headers().responseRemove(), config.headers().responseSet());
    }

    private static void apply(HttpHeaders headers, List<String> remove, Map<String, String> set) {
        for (String name : remove) {
            headers.remove(name);
        }
        for (Map.Entry<String, String> e : set.entrySet()) {
            headers.set(e.getKey(), e.getValue());
        }
    }

    @Override
    public String toString() {
        return label + " -> " + pool.name();
    }
}
