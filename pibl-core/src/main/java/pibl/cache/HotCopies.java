package pibl.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import pibl.config.CacheConfig;
import pibl.config.ClusterConfig;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fleet node's short-lived local copies of the keys another node owns and this one is asked for most often
 * ({@code cluster.hot-copy}), so that one hot key does not pin its owner's cores.
 *
 * <pre>
 *   GET /hot (owned by n2) on n1:  1st..3rd request in the window   → to n2, nothing kept here
 *                                  4th                              → looked up here as hot-http://host/hot: a
 *                                                                     MISS, fetched from n2, stored here
 *                                  next ones, for up to ttl         → HIT here; then revalidated with n2
 * </pre>
 *
 * <p>A copy is an ordinary entry of this node's store under its own key ({@code hot-} before the scheme), so it
 * is looked up, collapsed, served, revalidated and purged (by key, prefix or tag) as any entry is; what differs is
 * its freshness, {@link CacheConfig.TtlMode#CAP capped} at {@code ttl} past its arrival, and never more than the
 * owner's entry had left (the owner's {@code Age} comes with it). A key is hot after {@link #HOT_AFTER} requests
 * here within one {@code ttl}. The copies' bytes are bounded by {@code max-size}: past it the least used copy
 * (by Caffeine's W-TinyLFU) is invalidated in the store.
 */
public final class HotCopies {
    /** Requests for a key within one ttl that make it hot. */
    static final int HOT_AFTER = 4;
    static final String PREFIX = "hot-";
    /** Keys whose requests are counted at once, at most. */
    private static final int COUNTED = 65_536;

    private final Duration ttl;
    private final long maxSize;
    private final Cache<String, AtomicInteger> asked;
    private final Cache<CacheKey, Long> held;

    /**
     * @param store  where the copies are, and what an eviction for room invalidates
     * @param ticker the clock of the windows and of the copies' bookkeeping (tests move it)
     */
    public HotCopies(long maxSize, Duration ttl, CacheStore store, Ticker ticker) {
        this.ttl = ttl;
        this.maxSize = maxSize;
        this.asked = Caffeine.newBuilder().maximumSize(COUNTED).expireAfterWrite(ttl).ticker(ticker).build();
        this.held = Caffeine.newBuilder().maximumWeight(maxSize)
                .weigher((CacheKey k, Long bytes) -> (int) Math.min(Integer.MAX_VALUE, bytes))
                .expireAfterWrite(ttl.multipliedBy(2)).ticker(ticker).executor(Runnable::run)
                .removalListener((CacheKey k, Long bytes, RemovalCause cause) -> {
                    if (cause == RemovalCause.SIZE && k != null) {
                        store.invalidate(k);
                    }
                }).build();
    }

    /** What this was made with. */
    public ClusterConfig.HotCopy settings() {
        return new ClusterConfig.HotCopy(maxSize, ttl);
    }

    /** Whether {@code key} names a hot copy. */
    public static boolean isCopy(CacheKey key) {
        return key.scheme().startsWith(PREFIX);
    }

    /** The key a hot copy of {@code key} is stored under. */
    public static CacheKey copyOf(CacheKey key) {
        return CacheKey.of(PREFIX + key.scheme(), key.host(), key.target());
    }

    /**
     * Counts a request for {@code key}, which another node owns: the key to look its copy up by when it is hot
     * now, else null (the request goes to the owner as it is).
     */
    public CacheKey ask(CacheKey key) {
        int n = asked.get(key.text(), k -> new AtomicInteger()).incrementAndGet();
        return n >= HOT_AFTER ? copyOf(key) : null;
    }

    /** A copy of {@code bytes} is being stored under {@code copyKey}: counted against {@code max-size}. */
    public void storing(CacheKey copyKey, long bytes) {
        held.put(copyKey, bytes);
    }

    /** Bytes of copies held now (as far as the bookkeeping knows). */
    public long bytes() {
        return held.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    /** {@code base}, but for a copy's key: the same settings, freshness capped at the copies' ttl. */
    public CacheRules rules(CacheRules base) {
        return key -> {
            CacheConfig cfg = base.forKey(key);
            return isCopy(key) ? cfg.cappedAt(ttl) : cfg;
        };
    }
}
