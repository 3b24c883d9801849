package pibl.testing;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Waits, bounded, for something the proxy finishes after it has answered (a cache entry written to disk, a counter
 * bumped when a connection closes), so that a test asserts the outcome instead of racing it.
 */
public final class Eventually {
    private Eventually() {
    }

    /** Polls {@code value} every 10 ms until it reaches {@code atLeast} or {@code within} passes; returns its last value. */
    public static long atLeast(long atLeast, Duration within, LongSupplier value) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        long v = value.getAsLong();
        while (v < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(10);
            v = value.getAsLong();
        }
        return v;
    }
}
