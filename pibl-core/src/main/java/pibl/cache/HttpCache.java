package pibl.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import pibl.config.CacheConfig;
import pibl.config.ClusterConfig;

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
    /** At most this many pass-through keys are remembered (~90 bytes each). */
    static final int PASS_KEYS = 65_536;

    private final CacheConfig config;
    private final Clock clock;
    private final CacheStore store;
    private final MissLock missLock = new MissLock();
    /** By the key's digest, not its text: bounded in entries and in bytes whatever the URLs. */
    private final Cache<Long, Boolean> passKeys;
    private final CacheStats stats = new CacheStats();

    public HttpCache(CacheConfig config, Clock clock) {
        this(config, clock, new DiskCacheStore(config, clock));
    }

    /**
     * Over a disk store that deletes every stored response first with {@code clearFirst}, and rebuilds its index
     * only once {@link CacheStore#startLoading()} is called.
     */
    public HttpCache(CacheConfig config, Clock clock, boolean clearFirst) {
        this(config, clock, new DiskCacheStore(config, clock, clearFirst, false));
    }

    public HttpCache(CacheConfig config, Clock clock, CacheStore store) {
        this.config = config;
        this.clock = clock;
        this.store = store;
        this.rules = CacheRules.uniform(config); // until the routes' rules come
        this.passKeys = Caffeine.newBuilder().maximumSize(PASS_KEYS).expireAfterWrite(PASS_TTL)
                .ticker(() -> clock.millis() * 1_000_000L).build();
    }

    private volatile HotCopies hotCopies;
    /** The rules last given (the routes'), which hot copies wrap. Guarded by {@code this}. */
    private CacheRules rules;

    public CacheConfig config() {
        return config;
    }

    public CacheStore store() {
        return store;
    }

    /** The settings each key's responses are stored and judged by from now on (see {@link CacheRules}). */
    public synchronized void rules(CacheRules rules) {
        this.rules = rules;
        HotCopies h = hotCopies;
        store.rules(h == null ? rules : h.rules(rules));
    }

    /** From now on this node keeps hot copies of keys other nodes own (cluster mode's {@code hot-copy}). */
    public void hotCopies(long maxSize, Duration ttl) {
        hotCopies(new ClusterConfig.HotCopy(maxSize, ttl));
    }

    /**
     * Hot copies as {@code settings} say from now on, none when null (a reload). Unchanged settings keep the copies
     * and their counts; new ones start afresh. A copy made under the old ones is served again only if its key is
     * hot under the new ones, and only while it is fresh (at most the old ttl); else the store evicts it in turn.
     */
    public synchronized void hotCopies(ClusterConfig.HotCopy settings) {
        HotCopies h = hotCopies;
        if (h != null && h.settings().equals(settings)) {
            return;
        }
        hotCopies = settings == null ? null
                : new HotCopies(settings.maxSize(), settings.ttl(), store, () -> clock.millis() * 1_000_000L);
        rules(rules);
    }

    /** Null unless {@link #hotCopies(long, Duration)} was called. */
    public HotCopies hotCopies() {
        return hotCopies;
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
        return passKeys.getIfPresent(key.digest().hi()) != null;
    }

    public void markPass(CacheKey key) {
        passKeys.put(key.digest().hi(), Boolean.TRUE);
    }

    public void clearPass(CacheKey key) {
        passKeys.invalidate(key.digest().hi());
    }

    @Override
    public void close() {
        store.close();
    }
}
