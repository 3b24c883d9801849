package pibl.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import pibl.config.CacheConfig;

import java.time.Clock;
import java.time.Duration;

/**
 * The cache as the pipeline sees it, shared by every connection: the {@link CacheStore}, the
 * {@link MissLock}, the memory of keys that turned out not storable, and the counters.
 *
 * <p>Hit-for-miss: once a key's response was not storable (say {@code no-store}), later misses
 * of that key skip the miss lock for a while and go straight to a backend, as Varnish does.
 * Without it every request for an uncacheable URL would wait for the one before it.
 */
public final class HttpCache implements AutoCloseable {
    /** How long a key stays pass-through after an unstorable response (Varnish's default). */
    static final Duration PASS_TTL = Duration.ofSeconds(120);

    private final CacheConfig config;
    private final Clock clock;
    private final CacheStore store;
    private final MissLock missLock = new MissLock();
    private final Cache<String, Boolean> passKeys;
    private final CacheStats stats = new CacheStats();

    public HttpCache(CacheConfig config, Clock clock) {
        this(config, clock, new DiskCacheStore(config, clock));
    }

    public HttpCache(CacheConfig config, Clock clock, CacheStore store) {
        this.config = config;
        this.clock = clock;
        this.store = store;
        this.passKeys = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(PASS_TTL)
                .ticker(() -> clock.millis() * 1_000_000L).build();
    }

    public CacheConfig config() {
        return config;
    }

    public CacheStore store() {
        return store;
    }

    public MissLock missLock() {
        return missLock;
    }

    public CacheStats stats() {
        return stats;
    }

    /** Now, by the cache's clock (tests move it; production uses the system clock). */
    public long now() {
        return clock.millis();
    }

    public boolean isPass(CacheKey key) {
        return passKeys.getIfPresent(key.text()) != null;
    }

    public void markPass(CacheKey key) {
        passKeys.put(key.text(), Boolean.TRUE);
    }

    public void clearPass(CacheKey key) {
        passKeys.invalidate(key.text());
    }

    @Override
    public void close() {
        store.close();
    }
}
