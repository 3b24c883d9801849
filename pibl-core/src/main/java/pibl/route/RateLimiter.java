package pibl.route;

import pibl.config.RouteConfig;

/** One route's {@code rate-limit:}: its buckets, one per client address, in the shared {@link ClientBuckets}. */
final class RateLimiter {
    private final ClientBuckets buckets;
    private final int id;
    private final RouteConfig.RateLimit limit;
    private final long interval;

    /** @param id tells this limiter's buckets from the other routes' in {@code buckets} */
    RateLimiter(ClientBuckets buckets, int id, RouteConfig.RateLimit limit) {
        this.buckets = buckets;
        this.id = id;
        this.limit = limit;
        this.interval = limit.intervalNanos();
    }

    RouteConfig.RateLimit limit() {
        return limit;
    }

    /** 0: the request may go; else the nanoseconds until it could. */
    long take(byte[] client) {
        return buckets.take(id, client, interval, limit.burst());
    }
}
