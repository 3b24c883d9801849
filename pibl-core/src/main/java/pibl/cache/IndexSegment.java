package pibl.cache;

/**
 * One segment of the {@link CacheIndex}: an open-addressing table in parallel primitive arrays (linear probing,
 * backward-shift deletion, grown by doubling up to its cap) and its CLOCK hand. Every method is called under the
 * segment's own lock (the index synchronizes on the segment).
 */
/** One open-addressing table; every method is called under the segment's own lock. */
final class IndexSegment {
    private final int maxCapacity;
    long[] hi;
    int[] lo;
    int[] version;
    int[] aux;
    int[] keep;
    byte[] flags;
    int capacity;
    int count;
    private int hand;

    IndexSegment(int initial, int maxCapacity) {
        this.maxCapacity = maxCapacity;
        allocate(initial);
    }

    private void allocate(int n) {
        capacity = n;
        hi = new long[n];
        lo = new int[n];
        version = new int[n];
        aux = new int[n];
        keep = new int[n];
        flags = new byte[n];
        count = 0;
        hand = 0;
    }

    boolean empty(int i) {
        return hi[i] == 0 && lo[i] == 0;
    }

    /** Where a digest's probe starts: the low half of {@code hi}, mapped onto the capacity. */
    private int home(long h) {
        return (int) (((h & 0xFFFF_FFFFL) * capacity) >>> 32);
    }

    private int next(int i) {
        return i + 1 == capacity ? 0 : i + 1;
    }

    int find(long h, int l) {
        if (count == 0) {
            return -1;
        }
        for (int i = home(h); ; i = next(i)) {
            if (hi[i] == h && lo[i] == l) {
                return i;
            }
            if (empty(i)) {
                return -1;
            }
        }
    }

    CacheIndex.Slot slot(int i) {
        return new CacheIndex.Slot(new Digest(hi[i], lo[i]), version[i], aux[i], keep[i], flags[i] & ~CacheIndex.CLOCK_MASK);
    }

    void set(int i, Digest d, int v, int a, int k, int f) {
        hi[i] = d.hi();
        lo[i] = d.lo();
        version[i] = v;
        aux[i] = a;
        keep[i] = k;
        flags[i] = (byte) ((f & ~CacheIndex.CLOCK_MASK) | (CacheIndex.CLOCK_NEW << CacheIndex.CLOCK_SHIFT));
    }

    void touch(int i) {
        int c = (flags[i] & CacheIndex.CLOCK_MASK) >>> CacheIndex.CLOCK_SHIFT;
        if (c < CacheIndex.CLOCK_MAX) {
            flags[i] = (byte) ((flags[i] & ~CacheIndex.CLOCK_MASK) | ((c + 1) << CacheIndex.CLOCK_SHIFT));
        }
    }

    void insert(Digest d, int v, int a, int k, int f) {
        if (count + 1 > capacity * CacheIndex.LOAD && capacity < maxCapacity) {
            grow();
        }
        int i = home(d.hi());
        while (!empty(i)) {
            i = next(i);
        }
        set(i, d, v, a, k, f);
        count++;
    }

    private void grow() {
        long[] oldHi = hi;
        int[] oldLo = lo;
        int[] oldVersion = version;
        int[] oldAux = aux;
        int[] oldKeep = keep;
        byte[] oldFlags = flags;
        int oldCapacity = capacity;
        allocate((int) Math.min(maxCapacity, 2L * oldCapacity));
        for (int j = 0; j < oldCapacity; j++) {
            if (oldHi[j] != 0 || oldLo[j] != 0) {
                int i = home(oldHi[j]);
                while (!empty(i)) {
                    i = next(i);
                }
                hi[i] = oldHi[j];
                lo[i] = oldLo[j];
                version[i] = oldVersion[j];
                aux[i] = oldAux[j];
                keep[i] = oldKeep[j];
                flags[i] = oldFlags[j];
                count++;
            }
        }
    }

    /** Removes slot {@code i} and closes the gap (backward shift), so that no probe chain is broken. */
    CacheIndex.Slot removeAt(int i) {
        CacheIndex.Slot out = slot(i);
        int gap = i;
        for (int j = next(i); !empty(j); j = next(j)) {
            int home = home(hi[j]);
            boolean between = gap <= j ? (home > gap && home <= j) : (home > gap || home <= j);
            if (!between) { // j may move back into the gap without leaving its probe chain
                hi[gap] = hi[j];
                lo[gap] = lo[j];
                version[gap] = version[j];
                aux[gap] = aux[j];
                keep[gap] = keep[j];
                flags[gap] = flags[j];
                gap = j;
            }
        }
        hi[gap] = 0;
        lo[gap] = 0;
        flags[gap] = 0;
        count--;
        return out;
    }

    /** The CLOCK hand's next victim, removed; null if the segment is empty. */
    CacheIndex.Slot evictOne(int now) {
        for (int steps = 0; count > 0 && steps < 4 * capacity; steps++) {
            int i = hand;
            hand = next(hand);
            if (empty(i)) {
                continue;
            }
            int c = (flags[i] & CacheIndex.CLOCK_MASK) >>> CacheIndex.CLOCK_SHIFT;
            if (keep[i] <= now || c == 0) {
                return removeAt(i);
            }
            flags[i] = (byte) ((flags[i] & ~CacheIndex.CLOCK_MASK) | ((c - 1) << CacheIndex.CLOCK_SHIFT));
        }
        return null;
    }

    void clear() {
        allocate(Math.min(CacheIndex.INITIAL_CAPACITY, maxCapacity));
    }
}
