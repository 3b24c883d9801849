package pibl.cache;

/**
 * What the cache did for one exchange: the value of the {@code X-Cache} response header and of the access log's
 * cache field.
 */
public enum CacheStatus {
    /** Served from a stored response that was fresh; no backend contact. */
    HIT,
    /** No usable stored response; the backend answered and the response may have been stored. */
    MISS,
    /** Served from a stale stored response (stale-while-revalidate, max-stale, or stale-if-error). */
    STALE,
    /** A stored response was revalidated with the backend (304) and then served. */
    REVALIDATED,
    /** The cache was not consulted: disabled, an unsafe or uncacheable request. */
    BYPASS
}
