package pibl.runtime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LatencyHistogramTest {
    private static final long MS = 1_000_000L;

    @Test
    void bucketsAreContiguousAndCoverFiftyMicrosToSixtySeconds() {
        assertThat(LatencyHistogram.BUCKETS).isBetween(80, 120);
        for (int i = 0; i < LatencyHistogram.BUCKETS; i++) {
            long lower = LatencyHistogram.lowerBound(i);
            assertThat(LatencyHistogram.bucket(lower)).as("lower bound of %d lands in %d", i, i).isEqualTo(i);
            if (i < LatencyHistogram.BUCKETS - 1) {
                long upper = LatencyHistogram.upperBound(i);
                assertThat(LatencyHistogram.bucket(upper - 1)).isEqualTo(i);
                if (i > 0) {
                    assertThat((double) (upper - lower) / lower).as("bucket %d is at most 25%% wide", i)
                            .isLessThanOrEqualTo(0.25);
                }
            }
        }
        assertThat(LatencyHistogram.bucket(50_000)).as("50 µs has its own bucket").isGreaterThan(0);
        assertThat(LatencyHistogram.bucket(60_000 * MS)).as("60 s is below the overflow bucket")
                .isLessThan(LatencyHistogram.BUCKETS - 1);
        assertThat(LatencyHistogram.bucket(-5)).isZero();
        assertThat(LatencyHistogram.bucket(Long.MAX_VALUE)).isEqualTo(LatencyHistogram.BUCKETS - 1);
    }

    @Test
    void emptyGivesZero() {
        LatencyHistogram h = new LatencyHistogram();
        assertThat(h.percentileMillis(0.99)).isZero();
        assertThat(h.count()).isZero();
    }

    @Test
    void percentilesOfAUniformSpreadStayWithinTheirBucket() {
        LatencyHistogram h = new LatencyHistogram();
        for (int ms = 1; ms <= 1000; ms++) {
            h.record(ms * MS);
        }
        LatencyHistogram.Snapshot s = h.snapshot();
        assertThat(s.count()).isEqualTo(1000);
        // A bucket is at most 25 % wide; interpolating inside it keeps the error well below that.
        assertThat(s.percentileMillis(0.50)).isCloseTo(500, within(500 * 0.08));
        assertThat(s.percentileMillis(0.90)).isCloseTo(900, within(900 * 0.08));
        assertThat(s.percentileMillis(0.99)).isCloseTo(990, within(990 * 0.08));
        assertThat(s.percentileMillis(0.0)).isCloseTo(1, within(0.2));
        assertThat(s.sumNanos()).isEqualTo(500_500 * MS);
    }

    @Test
    void aSlowTailShowsInTheHighPercentilesOnly() {
        LatencyHistogram h = new LatencyHistogram();
        for (int i = 0; i < 980; i++) {
            h.record(2 * MS);
        }
        for (int i = 0; i < 20; i++) {
            h.record(800 * MS);
        }
        assertThat(h.percentileMillis(0.50)).isBetween(1.8, 2.3);
        assertThat(h.percentileMillis(0.90)).isBetween(1.8, 2.3);
        assertThat(h.percentileMillis(0.99)).as("the 990th sample is one of the slow 20").isBetween(700.0, 950.0);
    }

    @Test
    void extremesAreClamped() {
        LatencyHistogram h = new LatencyHistogram();
        h.record(10_000); // 10 µs
        assertThat(h.percentileMillis(0.5)).isLessThan(0.033);
        h.record(Long.MAX_VALUE);
        assertThat(h.percentileMillis(1.0)).as("beyond 68.7 s the histogram reports 68.7 s")
                .isCloseTo(68_719.5, within(1.0));
    }

    @Test
    void concurrentRecordingLosesNothing() throws Exception {
        LatencyHistogram h = new LatencyHistogram();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 100_000; i++) {
                        h.record(3 * MS);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(h.count()).isEqualTo(800_000);
        assertThat(h.sumNanos()).isEqualTo(800_000 * 3 * MS);
    }
}
