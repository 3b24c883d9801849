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
 * @param targetedField  the response field aimed at PIBL alone (RFC 9213), obeyed before {@code CDN-Cache-Control}
 *                       and {@code Cache-Control}, and removed from every response PIBL sends
 * @param heuristic      percent of {@code Date - Last-Modified} a response without explicit freshness stays fresh
 *                       (RFC 9111 4.2.2) when {@code ttl} is zero; 0 (the default) turns heuristics off
 * @param heuristicMax   the cap of a heuristic freshness lifetime
 */
public record CacheConfig(boolean enabled, Path directory, Duration ttl, TtlMode ttlMode, long maxSize,
                          long maxObjectSize, long memorySize, boolean storeSetCookie, Duration staleIfError,
                          long maxEntries, String targetedField, int heuristic, Duration heuristicMax) {

    public static final String DEFAULT_TARGETED_FIELD = "PIBL-Cache-Control";
    public static final Duration DEFAULT_HEURISTIC_MAX = Duration.ofDays(1);

    /** With {@code maxEntries} derived from the heap. */
    public CacheConfig(boolean enabled, Path directory, Duration ttl, TtlMode ttlMode, long maxSize,
                       long maxObjectSize, long memorySize, boolean storeSetCookie, Duration staleIfError) {
        this(enabled, directory, ttl, ttlMode, maxSize, maxObjectSize, memorySize, storeSetCookie, staleIfError, 0);
    }

    /** With the default targeted field and no heuristic freshness. */
    public CacheConfig(boolean enabled, Path directory, Duration ttl, TtlMode ttlMode, long maxSize,
                       long maxObjectSize, long memorySize, boolean storeSetCookie, Duration staleIfError,
                       long maxEntries) {
        this(enabled, directory, ttl, ttlMode, maxSize, maxObjectSize, memorySize, storeSetCookie, staleIfError,
                maxEntries, DEFAULT_TARGETED_FIELD, 0, DEFAULT_HEURISTIC_MAX);
    }

    /** How the launch TTL combines with the origin's {@code Cache-Control}/{@code Expires}. */
    public enum TtlMode {
        /** The TTL applies only when the origin gives no explicit freshness (nginx/Varnish default). */
        DEFAULT,
        /** The TTL applies to every storable response, whatever the origin said about freshness. */
        OVERRIDE,
        /**
         * The TTL bounds what is left of the freshness when a response arrives: as {@link #DEFAULT}, then at most
         * the TTL more than the age it arrived with (a fleet's hot copies: never fresher than their owner's).
         */
        CAP
    }

    public static CacheConfig defaults() {
        return new CacheConfig(true, Path.of("cache"), Duration.ofSeconds(60), TtlMode.DEFAULT,
                1L << 30, 256L << 20, 64L << 20, false, Duration.ZERO);
    }

    /** These settings with responses kept fresh at most {@code cap} past their arrival ({@link TtlMode#CAP}). */
    public CacheConfig cappedAt(Duration cap) {
        return new CacheConfig(enabled, directory, cap, TtlMode.CAP, maxSize, maxObjectSize, memorySize,
                storeSetCookie, staleIfError, maxEntries, targetedField, heuristic, heuristicMax);
    }

    public CacheConfig withTtl(Duration newTtl) {
        return new CacheConfig(enabled, directory, newTtl, ttlMode, maxSize, maxObjectSize, memorySize,
                storeSetCookie, staleIfError, maxEntries, targetedField, heuristic, heuristicMax);
    }

    public CacheConfig withDirectory(Path newDirectory) {
        return new CacheConfig(enabled, newDirectory, ttl, ttlMode, maxSize, maxObjectSize, memorySize,
                storeSetCookie, staleIfError, maxEntries, targetedField, heuristic, heuristicMax);
    }

    public CacheConfig withMaxEntries(long newMaxEntries) {
        return new CacheConfig(enabled, directory, ttl, ttlMode, maxSize, maxObjectSize, memorySize,
                storeSetCookie, staleIfError, newMaxEntries, targetedField, heuristic, heuristicMax);
    }

    /** Heuristic freshness: {@code percent} of the time since {@code Last-Modified}, at most {@code max}. */
    public CacheConfig withHeuristic(int percent, Duration max) {
        return new CacheConfig(enabled, directory, ttl, ttlMode, maxSize, maxObjectSize, memorySize,
                storeSetCookie, staleIfError, maxEntries, targetedField, percent, max);
    }

    public CacheConfig withTargetedField(String field) {
        return new CacheConfig(enabled, directory, ttl, ttlMode, maxSize, maxObjectSize, memorySize,
                storeSetCookie, staleIfError, maxEntries, field, heuristic, heuristicMax);
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
        if (targetedField == null || !HeaderNames.isToken(targetedField)) {
            throw new ConfigException("cache.targeted-field", "must be a header field name, got " + targetedField);
        }
        if (targetedField.equalsIgnoreCase("Cache-Control") || targetedField.equalsIgnoreCase("CDN-Cache-Control")) {
            throw new ConfigException("cache.targeted-field", "must name a field of PIBL's own, not one PIBL reads "
                    + "anyway, got " + targetedField);
        }
        if (heuristic < 0 || heuristic > 100) {
            throw new ConfigException("cache.heuristic", "must be a percentage from 0% (off) to 100%, got "
                    + heuristic + "%");
        }
        if (heuristicMax == null || heuristicMax.isNegative() || heuristicMax.isZero()) {
            throw new ConfigException("cache.heuristic-max", "must be a positive duration, got " + heuristicMax);
        }
    }
}
