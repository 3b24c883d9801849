package pibl.lb;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** A nanosecond clock tests move by hand, so cooldowns end without sleeping. */
final class ManualNanoTime implements LongSupplier {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Override
    public long getAsLong() {
        return nanos.get();
    }
}
