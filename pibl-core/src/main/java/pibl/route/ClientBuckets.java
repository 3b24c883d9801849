package pibl.route;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The token buckets of every rate-limited route, one per route and client address, in one bounded map: at most
 * {@link #MAX_CLIENTS} buckets whatever the traffic (a flood of spoofed or distinct addresses evicts, it does not
 * grow the heap: about 150 bytes a bucket, 15 MB at the cap), and a bucket is forgotten as soon as it is full again,
 * since a full bucket and no bucket behave alike.
 *
 * <p>A bucket is one {@code AtomicLong}, the GCRA form of a token bucket (the "virtual scheduling" of ATM's
 * generic cell rate algorithm): the time at which it would be full again. A request at {@code now} may go when
 * {@code max(tat, now) + interval - now <= burst * interval}, and then moves it on by one interval; else it waits
 * the excess. No lock: one compare-and-set per allowed request, none for a refused one.
 *
 * <pre>
 * 2/s, burst 3, every request at t = 0:   go, go, go, wait 500 ms
 * at t = 500 ms:                          go (one token came back), wait 500 ms
 * at t = 2 s:                             go, go, go (full again)
 * </pre>
 */
final class ClientBuckets {
    static final int MAX_CLIENTS = 100_000;

    private final Cache<Key, Bucket> buckets;
    private final LongSupplier nanoTime;

    /** @param nanoTime the clock the buckets refill by (tests move it by hand) */
    ClientBuckets(int maxClients, LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        this.buckets = Caffeine.newBuilder()
                .maximumSize(maxClients)
                .expireAfter(new UntilFull())
                .ticker(nanoTime::getAsLong)
                .executor(Runnable::run) // eviction on the caller's thread: the cap holds at once
                .build();
    }

    /** A route's limiter's key, and the client's address (IPv4 as if mapped into IPv6). */
    record Key(int limiter, long hi, long lo) {
        static Key of(int limiter, byte[] address) {
            long hi = 0;
            long lo;
            if (address.length == 16) {
                for (int i = 0; i < 8; i++) {
                    hi = hi << 8 | (address[i] & 0xff);
                }
                lo = 0;
                for (int i = 8; i < 16; i++) {
                    lo = lo << 8 | (address[i] & 0xff);
                }
            } else {
                lo = 0;
                for (byte b : address) {
                    lo = lo << 8 | (b & 0xff);
                }
                lo |= 0xffffL << 32;
            }
            return new Key(limiter, hi, lo);
        }
    }

    /**
     * Takes a token from the bucket of {@code address} under {@code limiter}.
     *
     * @param interval nanoseconds one token takes to come back
     * @param burst    the bucket's size
     * @return 0 when the request may go; else the nanoseconds until it could
     */
    long take(int limiter, byte[] address, long interval, int burst) {
        long now = nanoTime.getAsLong();
        Bucket b = buckets.get(Key.of(limiter, address), k -> new Bucket(interval, now));
        long tolerance = interval * burst;
        while (true) {
            long tat = b.tat.get();
            long next = Math.max(tat, now) + interval;
            long excess = next - now - tolerance;
            if (excess > 0) {
                return excess;
            }
            if (b.tat.compareAndSet(tat, next)) {
                return 0;
            }
        }
    }

    /** Buckets held now, after pending evictions. */
    long size() {
        buckets.cleanUp();
        return buckets.estimatedSize();
    }

    private static final class Bucket {
        final long interval;
        /** When the bucket is full again ("theoretical arrival time"). */
        final AtomicLong tat;

        Bucket(long interval, long now) {
            this.interval = interval;
            this.tat = new AtomicLong(now);
        }

        /** Until it is full again, after the request being counted now. */
        long untilFull(long now) {
            return Math.max(0, tat.get() - now) + interval;
        }
    }

    /** A bucket lives until it is full again: forgetting it then changes nothing. */
    private static final class UntilFull implements Expiry<Key, Bucket> {
        @Override
        public long expireAfterCreate(Key key, Bucket b, long now) {
            return b.untilFull(now);
        }

        @Override
        public long expireAfterUpdate(Key key, Bucket b, long now, long currentDuration) {
            return b.untilFull(now);
        }

        @Override
        public long expireAfterRead(Key key, Bucket b, long now, long currentDuration) {
            return b.untilFull(now);
        }
    }
}
