package pibl.cache;

import pibl.config.CacheConfig;

/**
 * The cache settings a key's responses are stored and judged by: {@code cache:}, or what the route the key's URL
 * matches makes of it ({@code cache: { ttl: 1h }} in a route). The store asks whenever it computes a stored
 * response's freshness (on storing it, refreshing it, and reading it back from disk, after a restart too), so that
 * the route's TTL holds for as long as the entry lives.
 */
@FunctionalInterface
public interface CacheRules {

    CacheConfig forKey(CacheKey key);

    /** The same settings for every key. */
    static CacheRules uniform(CacheConfig config) {
        return key -> config;
    }
}
