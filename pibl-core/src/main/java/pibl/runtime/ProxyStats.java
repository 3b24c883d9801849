package pibl.runtime;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Server-wide counters, updated from every event loop with one uncontended add each: client
 * connections (open, accepted, refused over the limit), responses by status class, requests refused
 * before anything was forwarded, by the status they got, and tunnels (upgraded connections: open, total).
 */
public final class ProxyStats {
    private final long startedAtMillis = System.currentTimeMillis();
    private final AtomicInteger openConnections = new AtomicInteger();
    private final LongAdder acceptedConnections = new LongAdder();
    private final LongAdder rejectedConnections = new LongAdder();
    private final AtomicInteger openTunnels = new AtomicInteger();
    private final LongAdder totalTunnels = new LongAdder();
    private final LongAdder[] responsesByClass = new LongAdder[6];
    /** The statuses a request can be refused with, in {@link #REFUSALS} order; the last counts any other. */
    private final LongAdder[] refusals = new LongAdder[REFUSALS.length + 1];

    /**
     * What PIBL answers a request it will not forward: malformed (400), CONNECT (405), head too slow (408), body
     * too large (413), request line too long (414), header section too large (431), another HTTP major (505).
     */
    public static final int[] REFUSALS = {400, 405, 408, 413, 414, 431, 505};

    public ProxyStats() {
        for (int i = 0; i < responsesByClass.length; i++) {
            responsesByClass[i] = new LongAdder();
        }
        for (int i = 0; i < refusals.length; i++) {
            refusals[i] = new LongAdder();
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

    /** A client connection became a tunnel to a backend (a WebSocket upgrade answered 101). */
    public void tunnelOpened() {
        totalTunnels.increment();
        openTunnels.incrementAndGet();
    }

    public void tunnelClosed() {
        openTunnels.decrementAndGet();
    }

    public int openTunnels() {
        return openTunnels.get();
    }

    /** Tunnels opened since start. */
    public long totalTunnels() {
        return totalTunnels.sum();
    }

    /** A response with this status was sent (by a backend, the cache, or PIBL itself). */
    public void response(int status) {
        int cls = status / 100;
        responsesByClass[cls >= 1 && cls <= 5 ? cls : 0].increment();
    }

    /** A request was refused with {@code status} and not forwarded. */
    public void requestRefused(int status) {
        refusals[refusalIndex(status)].increment();
    }

    /** Requests refused with {@code status} (one of {@link #REFUSALS}; any other status: those refused otherwise). */
    public long refused(int status) {
        return refusals[refusalIndex(status)].sum();
    }

    public long refusedTotal() {
        long sum = 0;
        for (LongAdder a : refusals) {
            sum += a.sum();
        }
        return sum;
    }

    private static int refusalIndex(int status) {
        for (int i = 0; i < REFUSALS.length; i++) {
            if (REFUSALS[i] == status) {
                return i;
            }
        }
        return REFUSALS.length;
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
