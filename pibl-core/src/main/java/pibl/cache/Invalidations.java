package pibl.cache;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * When keys were invalidated, as epochs, so that a writer streaming a response that began before the invalidation
 * cannot put the key back into the index once it completes.
 *
 * <p>Only what such a writer could need is remembered: an invalidation is recorded when a writer of the key (or of
 * a key sharing its {@link #STRIPES stripe}) is in flight; any other needs nothing beyond the index slot and file
 * going, which the store sees to. So a stream of POSTs to keys that are not being written does not fill the table.
 * The table keeps the latest {@link #MAX_KEYS} records; the oldest, when it goes for room, becomes a floor (under
 * the same lock) that every earlier beginning fails: forgetting can only refuse a writer older than the last
 * {@code MAX_KEYS} recorded invalidations, never let stale content in.
 */
final class Invalidations {
    static final int MAX_KEYS = 16_384;
    /** Writers in flight are counted in this many stripes of the key's digest (a collision only records more). */
    static final int STRIPES = 1 << 16;

    private final AtomicLong epoch = new AtomicLong();
    private final AtomicIntegerArray writing = new AtomicIntegerArray(STRIPES);
    /** Guarded by itself; oldest first. */
    private final LinkedHashMap<Long, Long> invalidatedAt = new LinkedHashMap<>(MAX_KEYS * 4 / 3 + 1) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
            if (size() <= MAX_KEYS) {
                return false;
            }
            floor = Math.max(floor, eldest.getValue());
            return true;
        }
    };
    /** Guarded by {@link #invalidatedAt}. */
    private long floor;

    /**
     * A writer of {@code key} begins: counted until {@link #writerDone}, and the epoch it began at returned. The
     * count goes up before the epoch is read, so an invalidation either sees the writer or happened before it.
     */
    long writerBegins(Digest key) {
        writing.incrementAndGet(stripe(key));
        return epoch.get();
    }

    void writerDone(Digest key) {
        writing.decrementAndGet(stripe(key));
    }

    /** {@code key} is invalidated now. */
    void invalidate(Digest key) {
        long at = epoch.incrementAndGet();
        if (writing.get(stripe(key)) > 0) {
            synchronized (invalidatedAt) {
                invalidatedAt.remove(key.hi()); // to the newest end
                invalidatedAt.put(key.hi(), at);
            }
        }
    }

    /** Everything is invalidated now ({@code clear()}). */
    void invalidateAll() {
        long at = epoch.incrementAndGet();
        synchronized (invalidatedAt) {
            floor = Math.max(floor, at);
        }
    }

    /** Whether a writer of {@code key} begun at {@code began} may still enter the index. */
    boolean admits(Digest key, long began) {
        synchronized (invalidatedAt) {
            Long at = invalidatedAt.get(key.hi());
            return floor <= began && (at == null || at <= began);
        }
    }

    private static int stripe(Digest key) {
        return (int) (key.hi() & (STRIPES - 1));
    }
}
