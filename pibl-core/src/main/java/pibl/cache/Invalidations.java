package pibl.cache;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
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
 *
 * <p>{@link Ban Bans} (purges by prefix or tag) are kept here too, while the store sweeps its directory for what
 * they match and for {@link #BAN_RETENTION} after: a writer begun before a ban that matches it is refused, and a
 * lookup that finds a response received before a ban that matches it drops it (the sweep may not have reached its
 * file yet). A ban that goes becomes a floor as a key record does: a writer older than it, still streaming after
 * ten minutes, is refused whatever it writes.
 */
final class Invalidations {
    static final int MAX_KEYS = 16_384;
    /** Writers in flight are counted in this many stripes of the key's digest (a collision only records more). */
    static final int STRIPES = 1 << 16;

    /** How long a ban is kept after its sweep, for the writers that began before it and are still streaming. */
    static final long BAN_RETENTION = 10 * 60_000L;

    /** A ban in force: made at {@code epoch} and {@code millis}; kept until {@code retireAt} (0: still sweeping). */
    private static final class Active {
        final Ban ban;
        final long epoch;
        final long millis;
        volatile long retireAt;

        Active(Ban ban, long epoch, long millis) {
            this.ban = ban;
            this.epoch = epoch;
            this.millis = millis;
        }
    }

    private final AtomicLong epoch = new AtomicLong();
    private final CopyOnWriteArrayList<Active> bans = new CopyOnWriteArrayList<>();
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

    /** Also no ban made since it began matches the response it writes ({@code keyText}, {@code stored} headers). */
    boolean admits(Digest key, long began, String keyText, Iterable<Map.Entry<String, String>> stored) {
        if (!admits(key, began)) {
            return false;
        }
        for (Active a : bans) {
            if (a.epoch > began && a.ban.matches(keyText, stored)) {
                return false;
            }
        }
        return true;
    }

    /** {@code ban} is in force from now ({@code nowMillis}) until {@link #swept} and its retention have passed. */
    Object ban(Ban ban, long nowMillis) {
        Active a = new Active(ban, epoch.incrementAndGet(), nowMillis);
        bans.add(a);
        return a;
    }

    /** The sweep of the ban {@link #ban} returned is done: it is kept {@link #BAN_RETENTION} more. */
    void swept(Object ban, long nowMillis) {
        ((Active) ban).retireAt = nowMillis + BAN_RETENTION;
    }

    boolean hasBans() {
        return !bans.isEmpty();
    }

    /** Whether a stored response received at {@code responseTime} is removed by a ban made since. */
    boolean banned(String keyText, Iterable<Map.Entry<String, String>> headers, long responseTime) {
        for (Active a : bans) {
            if (responseTime <= a.millis && a.ban.matches(keyText, headers)) {
                return true;
            }
        }
        return false;
    }

    /** Drops the bans whose retention has passed, each raising the floor to its epoch. */
    void retireBans(long nowMillis) {
        for (Active a : bans) {
            long at = a.retireAt;
            if (at != 0 && at <= nowMillis) {
                synchronized (invalidatedAt) {
                    floor = Math.max(floor, a.epoch);
                }
                bans.remove(a);
            }
        }
    }

    private static int stripe(Digest key) {
        return (int) (key.hi() & (STRIPES - 1));
    }
}
