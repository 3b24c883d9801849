package pibl.route;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The token buckets of rate limits, on a clock the test moves: burst, refill, the wait, the bound on clients. */
class ClientBucketsTest {
    private static final long SECOND = Duration.ofSeconds(1).toNanos();
    private static final byte[] A = {(byte) 192, 0, 2, 1};
    private static final byte[] B = {(byte) 192, 0, 2, 2};

    private final AtomicLong now = new AtomicLong(5 * SECOND);
    private final ClientBuckets buckets = new ClientBuckets(ClientBuckets.MAX_CLIENTS, now::get);

    /** 2 per second, burst 3. */
    private long take(byte[] client) {
        return buckets.take(1, client, SECOND / 2, 3);
    }

    @Test
    void aFullBucketLetsTheBurstThroughThenSaysHowLongToWait() {
        assertThat(take(A)).isZero();
        assertThat(take(A)).isZero();
        assertThat(take(A)).isZero();

        assertThat(take(A)).as("one token comes back every 500 ms").isEqualTo(SECOND / 2);
        now.addAndGet(SECOND / 5);
        assertThat(take(A)).as("less as time passes").isEqualTo(SECOND * 3 / 10);
        assertThat(take(B)).as("every client has its own bucket").isZero();
    }

    @Test
    void tokensComeBackAtTheRateAndNoMoreThanTheBurst() {
        for (int i = 0; i < 3; i++) {
            take(A);
        }
        now.addAndGet(SECOND / 2);
        assertThat(take(A)).as("one back after 500 ms").isZero();
        assertThat(take(A)).isPositive();

        now.addAndGet(60 * SECOND);
        int allowed = 0;
        while (take(A) == 0) {
            allowed++;
        }
        assertThat(allowed).as("a minute idle fills it to the burst, not to 120").isEqualTo(3);
    }

    @Test
    void aRefusedRequestTakesNothing() {
        for (int i = 0; i < 3; i++) {
            take(A);
        }
        for (int i = 0; i < 100; i++) {
            assertThat(take(A)).isPositive();
        }
        now.addAndGet(SECOND / 2);
        assertThat(take(A)).as("the refusals did not push the refill back").isZero();
    }

    @Test
    void limitersKeepTheirOwnBuckets() {
        for (int i = 0; i < 3; i++) {
            take(A);
        }
        assertThat(buckets.take(2, A, SECOND, 1)).as("another route's limit on the same client").isZero();
        assertThat(buckets.take(1, new byte[16], SECOND / 2, 3)).as("::, not 0.0.0.0").isZero();
    }

    @Test
    void anIpv4MappedAddressIsItsIpv4Address() {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 192, 0, 2, 1};
        assertThat(ClientBuckets.Key.of(1, mapped)).isEqualTo(ClientBuckets.Key.of(1, A));
        assertThat(ClientBuckets.Key.of(1, A)).isNotEqualTo(ClientBuckets.Key.of(1, B));
    }

    @Test
    void aBucketIsForgottenOnceItIsFullAgain() {
        take(A);
        take(A);
        assertThat(buckets.size()).isEqualTo(1);

        now.addAndGet(SECOND / 2 * 2 + 1);
        assertThat(buckets.size()).as("full again: nothing to remember").isZero();
    }

    @Test
    void aFloodOfAddressesNeverHoldsMoreThanTheCap() {
        ClientBuckets small = new ClientBuckets(1_000, now::get);
        for (int i = 0; i < 50_000; i++) {
            byte[] spoofed = {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i};
            small.take(1, spoofed, SECOND, 10);
            assertThat(small.size() <= 1_000 || i % 1000 != 0).as("at %d addresses", i).isTrue();
        }
        assertThat(small.size()).isLessThanOrEqualTo(1_000);
    }

    @Test
    void concurrentTakesNeverLetMoreThanTheBurstThrough() throws Exception {
        int threads = 4;
        AtomicInteger allowed = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int t = 0; t < threads; t++) {
                pool.execute(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < 10_000; i++) {
                        if (buckets.take(7, A, SECOND, 100) == 0) {
                            allowed.incrementAndGet();
                        }
                    }
                });
            }
            start.countDown();
        } finally {
            pool.shutdown();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(allowed.get()).as("the clock stands still: exactly the burst").isEqualTo(100);
    }
}
