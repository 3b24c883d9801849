package pibl.cache;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** How many exchanges ended with each {@link CacheStatus}; cheap to update from every event loop. */
public final class CacheStats {
    private final LongAdder[] counts = new LongAdder[CacheStatus.values().length];

    public CacheStats() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    public void record(CacheStatus status) {
        counts[status.ordinal()].increment();
    }

    public long count(CacheStatus status) {
        return counts[status.ordinal()].sum();
    }

    public Map<CacheStatus, Long> snapshot() {
        Map<CacheStatus, Long> map = new EnumMap<>(CacheStatus.class);
        for (CacheStatus s : CacheStatus.values()) {
            map.put(s, count(s));
        }
        return map;
    }

    /** Answers from storage (HIT, STALE, REVALIDATED) over all cacheable lookups (those plus MISS). */
    public double hitRatio() {
        long served = count(CacheStatus.HIT) + count(CacheStatus.STALE) + count(CacheStatus.REVALIDATED);
        long total = served + count(CacheStatus.MISS);
        return total == 0 ? 0.0 : (double) served / total;
    }
}
