package pibl.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import pibl.config.CacheConfig;
import pibl.config.ClusterConfig;

import java.time.Duration;

/**
 * A fleet node's short-lived local copies of the keys another node owns and this one is asked for most often
 * ({@code cluster.hot-copy}), so that one hot key does not pin its owner's cores.
 *
 * <pre>
 *   GET /hot (owned by n2) on n1:  1st..49th request in the window  → to n2, nothing kept here (ttl 5 s)
 *                                  50th                             → looked up here as hot-http://host/hot: a
 *                                                                     MISS, fetched from n2, stored here
 *                                  next ones, for up to ttl         → HIT here; then revalidated with n2
 * </pre>
 *
 * <p>A copy is an ordinary entry of this node's store under its own key ({@code hot-} before the scheme), so it
 * is looked up, collapsed, served, revalidated and purged (by key, prefix or tag) as any entry is; what differs is
 * its freshness, {@link CacheConfig.TtlMode#CAP capped} at {@code ttl} past its arrival, and never more than the
 * owner's entry had left (the owner's {@code Age} comes with it). A key is hot after {@link #hotAfter} requests
 * here within one {@code ttl} (10 a second, at least 4), in the current window or the one before; a copy is held
 * for {@code ttl}, then removed (a key still hot gets a new one). The copies' bytes are bounded by
 * {@code max-size}: past it the least used copy
 * (by Caffeine's W-TinyLFU) is invalidated in the store.
 */
public final class HotCopies {
    /**
     * Requests a second, sustained over one ttl, that make a key hot: a copy costs a fetch from the owner and a
     * store write every ttl, and saves a hop per request it serves, so it pays for keys asked for often, not for
     * every key asked for twice. Over 10,000 Zipf keys, a bar of 4 requests per 5 s made copies of hundreds of
     * keys per node and cost more CPU than the hops it saved (README, "A fleet, rehearsed").
     */
    static final int HOT_RATE = 10;
    /** ... and never fewer than this many within one ttl. */
    static final int HOT_AFTER_MIN = 4;
    static final String PREFIX = "hot-";
    /** Keys whose requests are counted at once, at most. */
    private static final int COUNTED = 65_536;

    private final Duration ttl;
    private final long maxSize;
    private final int hotAfter;
    private final long ttlNanos;
    private final Ticker ticker;
    private final Cache<String, Rate> asked;
    private final Cache<CacheKey, Long> held;

    /**
     * @param store  where the copies are, and what an eviction for room invalidates
     * @param ticker the clock of the windows and of the copies' bookkeeping (tests move it)
     */
    public HotCopies(long maxSize, Duration ttl, CacheStore store, Ticker ticker) {
        this.ttl = ttl;
        this.maxSize = maxSize;
        this.hotAfter = hotAfter(ttl);
        this.ttlNanos = ttl.toNanos();
        this.ticker = ticker;
        this.asked = Caffeine.newBuilder().maximumSize(COUNTED).expireAfterAccess(ttl.multipliedBy(2))
                .ticker(ticker).build();
        // A copy is fresh for ttl past its arrival at most: held as long, then gone from the store too (a key
        // still hot gets a new one), so that what is held is what max-size bounds.
        this.held = Caffeine.newBuilder().maximumWeight(maxSize)
                .weigher((CacheKey k, Long bytes) -> (int) Math.min(Integer.MAX_VALUE, bytes))
                .expireAfterWrite(ttl).ticker(ticker).executor(Runnable::run)
                .removalListener((CacheKey k, Long bytes, RemovalCause cause) -> {
                    if (cause.wasEvicted() && k != null) {
                        store.invalidate(k);
                    }
                }).build();
    }

    /**
     * A key's requests here in the current window of one ttl and in the one before: hot when either reached the
     * bar, so that a key hot at the end of a window stays hot at the start of the next.
     */
    private static final class Rate {
        private long start;
        private int current;
        private int previous;

        Rate(long now) {
            this.start = now;
        }

        synchronized boolean count(long now, long window, int bar) {
            long age = now - start;
            if (age >= window) {
                previous = age >= 2 * window ? 0 : current;
                current = 0;
                start = now;
            }
            current++;
            return current >= bar || previous >= bar;
        }
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
        long now = ticker.read();
        boolean hot = asked.get(key.text(), k -> new Rate(now)).count(now, ttlNanos, hotAfter);
        CacheKey copy = copyOf(key);
        if (held.getIfPresent(copy) != null) {
            return copy; // a copy still held is served while fresh, hot or not
        }
        if (!hot) {
            return null;
        }
        // Hot, and its last copy (if any) expired: removed from the store now, before a new one is fetched, not
        // by Caffeine's cleanup in the middle of that new one's write.
        held.invalidate(copy);
        return copy;
    }

    /** The requests within one {@code ttl} that make a key hot: {@value #HOT_RATE} a second, at least 4. */
    public static int hotAfter(Duration ttl) {
        return (int) Math.max(HOT_AFTER_MIN, Math.ceil(HOT_RATE * ttl.toMillis() / 1000.0));
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
