package pibl.lb;

import pibl.config.BackendConfig;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One upstream server as the balancer sees it: where it is, whether it may be picked, and what it
 * has done. Thread-safe; the counters are cheap enough for every request.
 */
public final class Backend {
    private final BackendConfig config;
    private final InetSocketAddress address;
    private final String label;
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger consecutiveFailures = new AtomicInteger();

    public Backend(BackendConfig config) {
        this.config = config;
        InetSocketAddress resolved = new InetSocketAddress(config.host(), config.port());
        // An unresolvable name stays unresolved here and fails (and is retried) at connect time.
        this.address = resolved;
        this.label = config.address();
    }

    public BackendConfig config() {
        return config;
    }

    public InetSocketAddress address() {
        return address;
    }

    public int weight() {
        return config.weight();
    }

    /** {@code host:port}, as written in the access log. */
    public String label() {
        return label;
    }

    /** Whether the balancer may pick this backend now. */
    public boolean isAvailable() {
        return true;
    }

    public void onRequestStart() {
        requests.increment();
        inFlight.incrementAndGet();
    }

    public void onRequestEnd() {
        inFlight.decrementAndGet();
    }

    /** A request reached the backend and got a response. */
    public void recordSuccess() {
        if (consecutiveFailures.get() != 0) {
            consecutiveFailures.set(0);
        }
    }

    /** Connection refused or reset, or a timeout. */
    public void recordFailure() {
        failures.increment();
        consecutiveFailures.incrementAndGet();
    }

    public long requests() {
        return requests.sum();
    }

    public long failures() {
        return failures.sum();
    }

    public int inFlight() {
        return inFlight.get();
    }

    public int consecutiveFailures() {
        return consecutiveFailures.get();
    }

    @Override
    public String toString() {
        return label;
    }
}
