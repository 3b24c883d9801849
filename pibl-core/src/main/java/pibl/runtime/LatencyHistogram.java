package pibl.runtime;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Response latencies of one backend, cheap enough to record on every request from every event
 * loop: one {@link LongAdder} increment, no lock, no allocation.
 *
 * <p>Log-linear buckets: four per power of two from 2^15 ns (32.8 µs) to 2^36 ns (68.7 s), one
 * bucket below and one above, 86 in all. A bucket is at most a quarter of its lower bound wide;
 * percentiles interpolate inside the bucket, which keeps them within about 10 % of the truth.
 *
 * <pre>
 * record(3_200_000)            → bucket [3.15 ms, 3.67 ms)
 * percentileMillis(0.99)       → 3.41 (ms: the bucket's middle for a lone sample), 0 when empty
 * </pre>
 */
public final class LatencyHistogram {
    static final int MIN_EXPONENT = 15;
    static final int MAX_EXPONENT = 36;
    static final int SUB_BITS = 2;
    static final int SUB_BUCKETS = 1 << SUB_BITS;
    static final int BUCKETS = (MAX_EXPONENT - MIN_EXPONENT) * SUB_BUCKETS + 2;

    /**
     * The upper bounds of {@link Snapshot#coarseCounts()} in seconds: 2^16 ns (65.5 µs), 2^17 ns, ... 2^36 ns
     * (68.7 s), then +Inf. Twenty-two buckets, doubling, as a Prometheus histogram wants them.
     */
    public static final double[] COARSE_BOUNDS_SECONDS = coarseBounds();

    private static double[] coarseBounds() {
        double[] b = new double[MAX_EXPONENT - MIN_EXPONENT + 1];
        for (int k = 0; k < b.length - 1; k++) {
            b[k] = (1L << (MIN_EXPONENT + 1 + k)) / 1e9;
        }
        b[b.length - 1] = Double.POSITIVE_INFINITY;
        return b;
    }

    private final LongAdder[] counts = new LongAdder[BUCKETS];
    private final LongAdder sumNanos = new LongAdder();

    public LatencyHistogram() {
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** Adds one sample; negative values count as zero. */
    public void record(long nanos) {
        long v = Math.max(0, nanos);
        counts[bucket(v)].increment();
        sumNanos.add(v);
    }

    static int bucket(long nanos) {
        if (nanos < 1L << MIN_EXPONENT) {
            return 0;
        }
        if (nanos >= 1L << MAX_EXPONENT) {
            return BUCKETS - 1;
        }
        int exponent = 63 - Long.numberOfLeadingZeros(nanos);
        int sub = (int) (nanos >>> (exponent - SUB_BITS)) & (SUB_BUCKETS - 1);
        return 1 + (exponent - MIN_EXPONENT) * SUB_BUCKETS + sub;
    }

    /** Inclusive lower bound of bucket {@code i} in nanoseconds. */
    static long lowerBound(int i) {
        if (i == 0) {
            return 0;
        }
        if (i == BUCKETS - 1) {
            return 1L << MAX_EXPONENT;
        }
        int exponent = MIN_EXPONENT + (i - 1) / SUB_BUCKETS;
        int sub = (i - 1) % SUB_BUCKETS;
        return (long) (SUB_BUCKETS + sub) << (exponent - SUB_BITS);
    }

    /** Exclusive upper bound of bucket {@code i}; the last bucket is open and reports its lower bound. */
    static long upperBound(int i) {
        return i == BUCKETS - 1 ? lowerBound(i) : lowerBound(i + 1);
    }

    /** The {@code q}-quantile (0..1) in milliseconds, 0 when nothing was recorded. */
    public double percentileMillis(double q) {
        return snapshot().percentileMillis(q);
    }

    public long count() {
        long n = 0;
        for (LongAdder c : counts) {
            n += c.sum();
        }
        return n;
    }

    /** Sum of all samples in nanoseconds (with {@link #count()}, the mean). */
    public long sumNanos() {
        return sumNanos.sum();
    }

    /** The counts as of now, so several percentiles come from the same data. */
    public Snapshot snapshot() {
        long[] copy = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            copy[i] = counts[i].sum();
        }
        return new Snapshot(copy, sumNanos.sum());
    }

    /** A frozen copy of the counts. */
    public static final class Snapshot {
        private final long[] counts;
        private final long total;
        private final long sumNanos;

        Snapshot(long[] counts, long sumNanos) {
            this.counts = counts;
            long n = 0;
            for (long c : counts) {
                n += c;
            }
            this.total = n;
            this.sumNanos = sumNanos;
        }

        public long count() {
            return total;
        }

        /** These samples and {@code other}'s together. */
        public Snapshot plus(Snapshot other) {
            long[] sum = counts.clone();
            for (int i = 0; i < sum.length; i++) {
                sum[i] += other.counts[i];
            }
            return new Snapshot(sum, sumNanos + other.sumNanos);
        }

        /** The samples recorded since {@code earlier}, a snapshot of the same histogram taken before this one. */
        public Snapshot minus(Snapshot earlier) {
            long[] diff = counts.clone();
            for (int i = 0; i < diff.length; i++) {
                diff[i] = Math.max(0, diff[i] - earlier.counts[i]);
            }
            return new Snapshot(diff, Math.max(0, sumNanos - earlier.sumNanos));
        }

        /** No samples. */
        public static Snapshot empty() {
            return new Snapshot(new long[BUCKETS], 0);
        }

        public long sumNanos() {
            return sumNanos;
        }

        /**
         * The counts regrouped by powers of two, for a Prometheus histogram: {@code [k]} counts the samples
         * below {@code COARSE_BOUNDS_SECONDS[k]} and at or above the bound before (not cumulative); the last,
         * those at or above 2^36 ns (+Inf). Exact, since the fine buckets nest in the powers of two.
         */
        public long[] coarseCounts() {
            long[] coarse = new long[COARSE_BOUNDS_SECONDS.length];
            coarse[0] = counts[0];
            for (int i = 1; i < BUCKETS - 1; i++) {
                coarse[(i - 1) / SUB_BUCKETS] += counts[i];
            }
            coarse[coarse.length - 1] += counts[BUCKETS - 1];
            return coarse;
        }

        /** The {@code q}-quantile (0..1) in milliseconds, 0 when empty. */
        public double percentileMillis(double q) {
            if (total == 0) {
                return 0;
            }
            double clamped = Math.min(1, Math.max(0, q));
            long rank = Math.max(1, (long) Math.ceil(clamped * total));
            long seen = 0;
            for (int i = 0; i < counts.length; i++) {
                long c = counts[i];
                if (c == 0) {
                    continue;
                }
                if (seen + c >= rank) {
                    long lower = lowerBound(i);
                    double fraction = (rank - seen - 0.5) / c; // samples spread evenly, each at its slot's middle
                    double nanos = lower + (upperBound(i) - lower) * fraction;
                    return nanos / TimeUnit.MILLISECONDS.toNanos(1);
                }
                seen += c;
            }
            return (double) lowerBound(counts.length - 1) / TimeUnit.MILLISECONDS.toNanos(1);
        }
    }
}
