package pibl.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The disk cache.
 *
 * @param enabled        false turns the cache off entirely (every response is a BYPASS)
 * @param directory      where entry files live; relative paths resolve against the working directory
 * @param ttl            freshness lifetime for responses the origin gave none (see {@link TtlMode});
 *                       zero means no default: only explicit freshness or validators allow reuse
 * @param ttlMode        how {@code ttl} combines with the origin's own freshness
 * @param maxSize        bytes on disk over all entries; least useful entries are evicted past it
 * @param maxObjectSize  a larger response is passed through and not stored
 * @param memorySize     bytes of small hot bodies also kept in memory
 * @param storeSetCookie store responses that carry {@code Set-Cookie} (off by default)
 * @param staleIfError   grace during which a stale entry may be served when every backend fails,
 *                       even without the origin's {@code stale-if-error}; zero turns it off
 * @param maxEntries     entries the index holds at most (its memory: ~31 bytes each); past it the least used
 *                       go, with their files. 0 derives it from the heap: one entry per 120 bytes of
 *                       usable heap (1,074,790 with {@code -Xmx128m}), logged at start
 */
public record CacheConfig(boolean enabled, Path directory, Duration ttl, TtlMode ttlMode, long maxSize,
                          long maxObjectSize, long memorySize, boolean storeSetCookie, Duration staleIfError,
                          long maxEntries) {

    /** With {@code maxEntries} derived from the heap. */
    public CacheConfig(boolean enabled, Path directory, Duration ttl, TtlMode ttlMode, long maxSize,
                       long maxObjectSize, long memorySize, boolean storeSetCookie, Duration staleIfError) {
        this(enabled, directory, ttl, ttlMode, maxSize, maxObjectSize, memorySize, storeSetCookie, staleIfError, 0);
    }

    /** How the launch TTL combines with the origin's {@code Cache-Control}/{@code Expires}. */
    public enum TtlMode {
        /** The TTL applies only when the origin gives no explicit freshness (nginx/Varnish default). */
        DEFAULT,
        /** The TTL applies to every storable response, whatever the origin said about freshness. */
        OVERRIDE
    }

    public static CacheConfig defaults() {
        return new CacheConfig(true, Path.of("cache"), Duration.ofSeconds(60), TtlMode.DEFAULT,
                1L << 30, 256L << 20, 64L << 20, false, Duration.ZERO);
    }

    public CacheConfig withTtl(Duration newTtl) {
        return new CacheConfig(enabled, directory, newTtl, ttlMode, maxSize, maxObjectSize, memorySize,
                storeSetCookie, staleIfError, maxEntries);
    }

    public CacheConfig withDirectory(Path newDirectory) {
        return new CacheConfig(enabled, newDirectory, ttl, ttlMode, maxSize, maxObjectSize, memorySize,
                storeSetCookie, staleIfError, maxEntries);
    }

    public CacheConfig withMaxEntries(long newMaxEntries) {
        return new CacheConfig(enabled, directory, ttl, ttlMode, maxSize, maxObjectSize, memorySize,
                storeSetCookie, staleIfError, newMaxEntries);
    }

    void validate() {
        if (directory == null || directory.toString().isBlank()) {
            throw new ConfigException("cache.directory", "must not be empty");
        }
        if (ttl == null || ttl.isNegative()) {
            throw new ConfigException("cache.ttl", "must be zero or a positive number of seconds, got " + ttl);
        }
        if (ttlMode == null) {
            throw new ConfigException("cache.ttl-mode", "must be default or override");
        }
        if (maxSize < 1) {
            throw new ConfigException("cache.max-size", "must be positive, got " + maxSize);
        }
        if (maxObjectSize < 1 || maxObjectSize > maxSize) {
            throw new ConfigException("cache.max-object-size", "must be positive and at most cache.max-size, got "
                    + maxObjectSize);
        }
        if (memorySize < 0) {
            throw new ConfigException("cache.memory-size", "must not be negative, got " + memorySize);
        }
        if (maxEntries < 0 || maxEntries > 1L << 30) {
            throw new ConfigException("cache.max-entries", "must be between 0 (derived from the heap) and 2^30, got "
                    + maxEntries);
        }
        if (staleIfError == null || staleIfError.isNegative()) {
            throw new ConfigException("cache.stale-if-error", "must be zero or positive");
        }
    }
}
