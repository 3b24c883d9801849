package pibl.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * The in-memory index of a {@link DiskCacheStore}: one slot per stored response and per Vary marker, 25 bytes in
 * primitive arrays and nothing else on the heap: the {@link Digest} (12 bytes), the file's version (4), its size
 * in KiB or, for a marker, its Vary list (4), until when it is kept, in seconds (4), and flags (1: kind, body
 * checksum verified, a two-bit CLOCK counter). Headers and bodies stay in the files; the hot ones are in the
 * {@link HotTier}. Memory is bounded by {@code max-entries}, never by what the responses look like.
 *
 * <pre>
 *   64 segments, each an open-addressing table (linear probing, backward-shift deletion, load &lt;= 0.8) under its
 *   own lock, grown by doubling up to the size max-entries gives it; the segment is the digest's top 6 bits.
 * </pre>
 *
 * <p><b>Eviction</b> is CLOCK with a two-bit counter per slot, like the main queue of S3-FIFO: a new entry starts
 * at 1, every hit adds one (up to 3), and a hand sweeping the segment takes one off each entry it passes and
 * evicts the first at 0; an expired entry it passes goes at once. So an entry that is never read again (a scan,
 * a one-hit wonder) goes on the hand's first or second pass, and a popular one survives three. At
 * {@code max-entries} (per segment: a 64th of it) the segment being written evicts; past {@code max-size} the
 * segments evict in turn until the total is under it again.
 *
 * <p>Every removal but a replacement by a newer version of the same digest is reported to the {@link Listener},
 * outside the locks, so that the store deletes the file.
 */
final class CacheIndex {
    static final int RESPONSE = 1;
    static final int MARKER = 2;
    static final int VERIFIED = 4;
    private static final int KIND = 3;
    static final int CLOCK_SHIFT = 3;
    static final int CLOCK_MASK = 3 << CLOCK_SHIFT;
    static final int CLOCK_MAX = 3;
    static final int CLOCK_NEW = 1;
    static final int SEGMENTS = 64;
    static final double LOAD = 0.8;
    static final int INITIAL_CAPACITY = 64;
    /** A marker file takes one block on disk. */
    static final int MARKER_KIB = 4;

    /** One slot as read. {@code aux} is the size in KiB of a response, the Vary list of a marker. */
    record Slot(Digest digest, int version, int aux, int keepUntil, int flags) {
        boolean isMarker() {
            return (flags & KIND) == MARKER;
        }

        boolean verified() {
            return (flags & VERIFIED) != 0;
        }

        int sizeKiB() {
            return CacheIndex.sizeKiB(flags, aux);
        }
    }

    /** Why a slot left the index. */
    enum Removal {
        /** Too many entries or bytes: the CLOCK hand took it. */
        EVICTED,
        /** Its keep time passed. */
        EXPIRED,
        /** Removed on purpose: invalidated, purged, unusable. */
        REMOVED
    }

    /** Hears of every slot that left the index (not of replacements), outside the index's locks. */
    @FunctionalInterface
    interface Listener {
        void removed(Slot slot, Removal why);
    }

    /** Seconds in the index count from 2020-01-01T00:00:00Z: an int lasts until 2088. */
    static final long EPOCH_MILLIS = 1_577_836_800_000L;

    /** A keep time in epoch millis as index seconds, rounded up. */
    static int seconds(long epochMillis) {
        long s = Math.floorDiv(epochMillis - EPOCH_MILLIS + 999, 1000);
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, s));
    }

    /** What a file of {@code bytes} takes on disk, in KiB: whole 4 KiB blocks, as the index counts sizes. */
    static long blocksKiB(long bytes) {
        return (bytes + 4095) / 4096 * 4;
    }

    private final IndexSegment[] segments = new IndexSegment[SEGMENTS];
    private final int perSegmentMax;
    private final long maxKiB;
    private final IntSupplier nowSeconds;
    private final Listener listener;
    private final AtomicLong slots = new AtomicLong();
    private final AtomicLong responses = new AtomicLong();
    private final AtomicLong kib = new AtomicLong();
    private final AtomicInteger evictCursor = new AtomicInteger();
    private final AtomicLong evicted = new AtomicLong();

    CacheIndex(long maxEntries, long maxBytes, IntSupplier nowSeconds, Listener listener) {
        this.perSegmentMax = (int) Math.max(1, Math.min(Integer.MAX_VALUE / 2, (maxEntries + SEGMENTS - 1) / SEGMENTS));
        this.maxKiB = Math.max(1, maxBytes / 1024);
        this.nowSeconds = nowSeconds;
        this.listener = listener;
        int maxCapacity = (int) Math.min(Integer.MAX_VALUE - 8, (long) Math.ceil(perSegmentMax / LOAD) + 1);
        for (int i = 0; i < SEGMENTS; i++) {
            segments[i] = new IndexSegment(Math.min(INITIAL_CAPACITY, maxCapacity), maxCapacity);
        }
    }

    private IndexSegment segment(Digest d) {
        return segments[(int) (d.hi() >>> 58)];
    }

    /** The slot of {@code d}, counted as a use; null if absent or expired (an expired one is removed). */
    Slot get(Digest d) {
        IndexSegment s = segment(d);
        Slot expired;
        synchronized (s) {
            int i = s.find(d.hi(), d.lo());
            if (i < 0) {
                return null;
            }
            if (s.keep[i] > nowSeconds.getAsInt()) {
                s.touch(i);
                return s.slot(i);
            }
            expired = s.removeAt(i);
            forget(expired);
        }
        listener.removed(expired, Removal.EXPIRED);
        return null;
    }

    /** The slot of {@code d} as it is, not counted as a use; null if absent. */
    Slot peek(Digest d) {
        IndexSegment s = segment(d);
        synchronized (s) {
            int i = s.find(d.hi(), d.lo());
            return i < 0 ? null : s.slot(i);
        }
    }

    /**
     * Inserts, or replaces the slot of the same digest, if {@code admit} (asked under the segment's lock, so that
     * nothing can invalidate the key between the question and the insertion) says so. False if refused.
     */
    boolean put(Digest d, int version, int aux, int keepUntil, int flags, BooleanSupplier admit) {
        return insert(d, version, aux, keepUntil, flags, admit, true);
    }

    /** As {@link #put}, but leaves an existing slot of the digest alone (the loader: what is there is newer). */
    boolean putIfAbsent(Digest d, int version, int aux, int keepUntil, int flags, BooleanSupplier admit) {
        return insert(d, version, aux, keepUntil, flags, admit, false);
    }

    private boolean insert(Digest d, int version, int aux, int keepUntil, int flags, BooleanSupplier admit,
                           boolean replace) {
        IndexSegment s = segment(d);
        List<Slot> evicted = null;
        synchronized (s) {
            if (!admit.getAsBoolean()) {
                return false;
            }
            int i = s.find(d.hi(), d.lo());
            if (i >= 0) {
                if (!replace) {
                    return false;
                }
                kib.addAndGet(sizeKiB(flags, aux) - sizeKiB(s.flags[i], s.aux[i]));
                responses.addAndGet(kindCount(flags) - kindCount(s.flags[i]));
                s.set(i, d, version, aux, keepUntil, flags);
            } else {
                while (s.count >= perSegmentMax) {
                    Slot out = s.evictOne(nowSeconds.getAsInt());
                    if (out == null) {
                        break;
                    }
                    forget(out);
                    evicted = add(evicted, out);
                }
                s.insert(d, version, aux, keepUntil, flags);
                slots.incrementAndGet();
                responses.addAndGet(kindCount(flags));
                kib.addAndGet(sizeKiB(flags, aux));
            }
        }
        report(evicted);
        while (kib.get() > maxKiB && slots.get() > 0) {
            evictSomewhere();
        }
        return true;
    }

    private void evictSomewhere() {
        for (int tries = 0; tries < SEGMENTS; tries++) {
            IndexSegment s = segments[Math.floorMod(evictCursor.getAndIncrement(), SEGMENTS)];
            Slot out;
            synchronized (s) {
                out = s.evictOne(nowSeconds.getAsInt());
                if (out != null) {
                    forget(out);
                }
            }
            if (out != null) {
                reportTaken(out, nowSeconds.getAsInt());
                return;
            }
        }
    }

    /** Removes the slot of {@code d} if it holds {@code version} (or any version when -1); true if it did. */
    boolean remove(Digest d, int version) {
        IndexSegment s = segment(d);
        Slot out;
        synchronized (s) {
            int i = s.find(d.hi(), d.lo());
            if (i < 0 || (version != -1 && s.version[i] != version)) {
                return false;
            }
            out = s.removeAt(i);
            forget(out);
        }
        listener.removed(out, Removal.REMOVED);
        return true;
    }

    /**
     * Changes the slot of {@code d} if it still holds {@code version}: a new version (a rewritten file), size
     * ({@code newAux}, or -1 to keep it) and keep time, and flags added. False if the slot is gone or holds another
     * version.
     */
    boolean update(Digest d, int version, int newVersion, int newAux, int newKeepUntil, int addFlags) {
        IndexSegment s = segment(d);
        synchronized (s) {
            int i = s.find(d.hi(), d.lo());
            if (i < 0 || s.version[i] != version) {
                return false;
            }
            int aux = newAux < 0 ? s.aux[i] : newAux;
            kib.addAndGet(sizeKiB(s.flags[i], aux) - sizeKiB(s.flags[i], s.aux[i]));
            s.version[i] = newVersion;
            s.aux[i] = aux;
            s.keep[i] = newKeepUntil;
            s.flags[i] = (byte) (s.flags[i] | addFlags);
        }
        while (kib.get() > maxKiB && slots.get() > 0) { // a rewritten file may have grown past max-size
            evictSomewhere();
        }
        return true;
    }

    /** Adds {@code flags} to the slot of {@code d} if it still holds {@code version}, changing nothing else. */
    void addFlags(Digest d, int version, int flags) {
        IndexSegment s = segment(d);
        synchronized (s) {
            int i = s.find(d.hi(), d.lo());
            if (i >= 0 && s.version[i] == version) {
                s.flags[i] = (byte) (s.flags[i] | flags);
            }
        }
    }

    /** Keeps a marker at least until {@code keepUntil} (as long as its longest-kept variant). */
    void keepAtLeast(Digest d, int version, int keepUntil) {
        IndexSegment s = segment(d);
        synchronized (s) {
            int i = s.find(d.hi(), d.lo());
            if (i >= 0 && s.version[i] == version && s.keep[i] < keepUntil) {
                s.keep[i] = keepUntil;
            }
        }
    }

    /** Removes every expired slot (reported as such); the number removed. */
    int expire() {
        int removed = 0;
        for (int i = 0; i < SEGMENTS; i++) {
            removed += expire(i);
        }
        return removed;
    }

    /** Removes the expired slots of segment {@code segment} (0 to {@link #SEGMENTS} - 1); the number removed. */
    int expire(int segment) {
        IndexSegment s = segments[segment];
        List<Slot> gone = null;
        synchronized (s) {
            int now = nowSeconds.getAsInt();
            for (int i = 0; i < s.capacity; i++) {
                while (!s.empty(i) && s.keep[i] <= now) { // removeAt shifts a later slot into i
                    Slot out = s.removeAt(i);
                    forget(out);
                    gone = add(gone, out);
                }
            }
        }
        if (gone == null) {
            return 0;
        }
        for (Slot out : gone) {
            listener.removed(out, Removal.EXPIRED);
        }
        return gone.size();
    }

    /** Forgets every slot, without reporting them (the caller deletes the files itself). */
    void clear() {
        for (IndexSegment s : segments) {
            synchronized (s) {
                s.clear();
            }
        }
        slots.set(0);
        responses.set(0);
        kib.set(0);
    }

    /** Stored responses (markers not counted). */
    long responses() {
        return responses.get();
    }

    /** Slots in use, markers included: what {@code max-entries} bounds. */
    long slots() {
        return slots.get();
    }

    /** Bytes on disk of what is indexed, counted in 4 KiB blocks. */
    long bytes() {
        return kib.get() * 1024;
    }

    /** Slots the CLOCK hand evicted since start to make room (not expired, not removed on purpose). */
    long evicted() {
        return evicted.get();
    }

    /** The slots the index can hold: {@code max-entries}, rounded up to a multiple of the segments. */
    long capacity() {
        return (long) perSegmentMax * SEGMENTS;
    }

    static int sizeKiB(int flags, int aux) {
        return (flags & KIND) == MARKER ? MARKER_KIB : aux;
    }

    private void forget(Slot out) {
        slots.decrementAndGet();
        responses.addAndGet(-kindCount(out.flags()));
        kib.addAndGet(-out.sizeKiB());
    }

    private static int kindCount(int flags) {
        return (flags & KIND) == RESPONSE ? 1 : 0;
    }

    private static List<Slot> add(List<Slot> list, Slot s) {
        List<Slot> l = list == null ? new ArrayList<>(2) : list;
        l.add(s);
        return l;
    }

    private void report(List<Slot> evicted) {
        if (evicted != null) {
            int now = nowSeconds.getAsInt();
            for (Slot out : evicted) {
                reportTaken(out, now);
            }
        }
    }

    /** A slot the CLOCK hand took: expired if its time had passed, else evicted. */
    private void reportTaken(Slot out, int now) {
        boolean expired = out.keepUntil() <= now;
        if (!expired) {
            evicted.incrementAndGet();
        }
        listener.removed(out, expired ? Removal.EXPIRED : Removal.EVICTED);
    }
}
