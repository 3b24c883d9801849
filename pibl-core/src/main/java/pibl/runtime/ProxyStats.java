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
    private final LongAdder tlsHandshakes = new LongAdder();
    private final LongAdder tlsHandshakeFailures = new LongAdder();
    private final AtomicInteger openTunnels = new AtomicInteger();
    private final LongAdder totalTunnels = new LongAdder();
    private final LongAdder[] responsesByClass = new LongAdder[6];
    /** The statuses a request can be refused with, in {@link #REFUSALS} order; the last counts any other. */
    private final LongAdder[] refusals = new LongAdder[REFUSALS.length + 1];
    private final Http2Stats http2 = new Http2Stats();

    /**
     * What PIBL answers a request it will not forward: malformed (400), CONNECT (405), head too slow (408), body
     * too large (413), request line too long (414), header section too large (431), another HTTP major (505).
     */
    public static final int[] REFUSALS = {400, 405, 408, 413, 414, 431, 505};

    /**
     * How many cache outcomes a request duration is kept by: none (the cache had no say), then one per
     * {@code CacheStatus} in its order, which the caller maps (this floor does not know the cache).
     */
    public static final int CACHE_OUTCOMES = 6;
    /** Request durations by status class (index 1..5) and cache outcome; [0][*] for a status outside 1xx-5xx. */
    private final LatencyHistogram[][] durations = new LatencyHistogram[6][CACHE_OUTCOMES];
    private final LatencyHistogram firstByte = new LatencyHistogram();

    public ProxyStats() {
        for (LatencyHistogram[] row : durations) {
            for (int i = 0; i < row.length; i++) {
                row[i] = new LatencyHistogram();
            }
        }
        for (int i = 0; i < responsesByClass.length; i++) {
            responsesByClass[i] = new LongAdder();
        }
        for (int i = 0; i < refusals.length; i++) {
            refusals[i] = new LongAdder();
        }
    }

    /** The HTTP/2 connections' own counters (their streams' responses and refusals are counted here too). */
    public Http2Stats http2() {
        return http2;
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

    /**
     * An exchange ended: its response's status, the cache's outcome ({@code 0} none, else {@code 1 +} the
     * {@code CacheStatus} ordinal) and the time from its request to its last byte.
     */
    public void exchangeEnded(int status, int cacheOutcome, long nanos) {
        response(status);
        durations[statusClass(status)][cacheOutcome].record(nanos);
    }

    /** The first byte of a response head went out this long after its request arrived. */
    public void firstByte(long nanos) {
        firstByte.record(nanos);
    }

    /** Request durations of status class {@code cls} (1..5, 0 for others) and cache outcome {@code outcome}. */
    public LatencyHistogram durations(int cls, int outcome) {
        return durations[cls][outcome];
    }

    public LatencyHistogram firstByte() {
        return firstByte;
    }

    private static int statusClass(int status) {
        int cls = status / 100;
        return cls >= 1 && cls <= 5 ? cls : 0;
    }

    /** A TLS handshake completed. */
    public void tlsHandshake() {
        tlsHandshakes.increment();
    }

    /** A TLS handshake failed: cleartext or garbage on the TLS port, no shared protocol or cipher, a timeout. */
    public void tlsHandshakeFailed() {
        tlsHandshakeFailures.increment();
    }

    public long tlsHandshakes() {
        return tlsHandshakes.sum();
    }

    public long tlsHandshakeFailures() {
        return tlsHandshakeFailures.sum();
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
        responsesByClass[statusClass(status)].increment();
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
