package pibl.runtime;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Server-wide counters, updated from every event loop with one uncontended add each: client
 * connections (open, accepted, refused over the limit) and responses by status class.
 */
public final class ProxyStats {
    private final long startedAtMillis = System.currentTimeMillis();
    private final AtomicInteger openConnections = new AtomicInteger();
    private final LongAdder acceptedConnections = new LongAdder();
    private final LongAdder rejectedConnections = new LongAdder();
    private final LongAdder[] responsesByClass = new LongAdder[6];

    public ProxyStats() {
        for (int i = 0; i < responsesByClass.length; i++) {
            responsesByClass[i] = new LongAdder();
        }
    }

    public long startedAtMillis() {
        return startedAtMillis;
    }

    /** A client connection was accepted; returns how many are open now. */
    public int connectionOpened() {
        acceptedConnections.increment();
        return openConnections.incrementAndGet();
    }

    public void connectionClosed() {
        openConnections.decrementAndGet();
    }

    public void connectionRejected() {
        rejectedConnections.increment();
    }

    /** A response with this status was sent (by a backend, the cache, or PIBL itself). */
    public void response(int status) {
        int cls = status / 100;
        responsesByClass[cls >= 1 && cls <= 5 ? cls : 0].increment();
    }

    public int openConnections() {
        return openConnections.get();
    }

    public long acceptedConnections() {
        return acceptedConnections.sum();
    }

    public long rejectedConnections() {
        return rejectedConnections.sum();
    }

    /** Responses of status class {@code cls} (1 to 5). */
    public long responses(int cls) {
        return responsesByClass[cls].sum();
    }

    public long totalResponses() {
        long sum = 0;
        for (LongAdder a : responsesByClass) {
            sum += a.sum();
        }
        return sum;
    }
}
