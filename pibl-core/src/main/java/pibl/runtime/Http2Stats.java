package pibl.runtime;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * HTTP/2 counters, server-wide: connections and streams served, the streams open now and those refused for
 * {@code http2.max-open-streams}, the GOAWAYs PIBL sent by why, and the connections it closed for silence. A GOAWAY
 * with an error is a client that broke a rule or a limit; these say which.
 */
public final class Http2Stats {
    /** Why PIBL sent a GOAWAY. */
    public enum GoAway {
        /** NO_ERROR: draining, idle, or a head that never came; open streams were let finish. */
        GRACEFUL("graceful"),
        /** ENHANCE_YOUR_CALM for too many RST_STREAM in the window (CVE-2023-44487). */
        RAPID_RESET("rapidReset"),
        /** ENHANCE_YOUR_CALM for SETTINGS/PING acknowledgements the client does not read (a control frame flood). */
        CONTROL_FLOOD("controlFlood"),
        /** A header block past the header list size, or a run of small CONTINUATION frames (CVE-2024-27316). */
        HEADER_FLOOD("headerFlood"),
        /** Any other connection error: a frame the protocol does not allow, a bad preface, empty DATA floods. */
        PROTOCOL_ERROR("protocolError");

        private final String key;

        GoAway(String key) {
            this.key = key;
        }

        /** The name in {@code /status} and in the metrics' {@code reason} tag. */
        public String key() {
            return key;
        }
    }

    private final LongAdder connections = new LongAdder();
    private final LongAdder streams = new LongAdder();
    private final LongAdder idleClosed = new LongAdder();
    private final LongAdder headerTimeouts = new LongAdder();
    /**
     * Finished streams held for each open one allowed. Netty runs a stream channel's deregistration as a task of
     * the event loop, and on io_uring a turn of the loop handles up to 128 rounds of completions before it runs any
     * task: at 50 connections of 10 streams, ~4,600 finished streams waited at once (JFR: 150-340 ms each), and
     * 200 connections of 100 streams held 26,000 and filled a 128 MiB heap. The connection now lets the loop run
     * its tasks after each of its reads ({@link ProxyEventLoop}), so few wait; the bound stays, for a loop that
     * cannot (another transport's, a read that never completes).
     */
    static final int HELD_PER_OPEN = 4;

    private final AtomicInteger openStreams = new AtomicInteger();
    private final AtomicInteger heldStreams = new AtomicInteger();
    private final LongAdder refusedStreams = new LongAdder();
    private final Map<GoAway, LongAdder> goAways = new EnumMap<>(GoAway.class);

    public Http2Stats() {
        for (GoAway g : GoAway.values()) {
            goAways.put(g, new LongAdder());
        }
    }

    public void connectionOpened() {
        connections.increment();
    }

    public void streamOpened() {
        streams.increment();
    }

    /**
     * Takes a place for a new stream: one of {@code max} open streams, and one of {@code 4 * max} held ones (open,
     * or finished but not yet let go of by the event loop: see {@link #streamReleased()}); false, and counted as
     * refused, when either is full. A place is given back by {@link #streamClosed()} and then
     * {@link #streamReleased()}.
     */
    public boolean tryOpenStream(int max) {
        if (heldStreams.get() >= HELD_PER_OPEN * (long) max) {
            refusedStreams.increment();
            return false;
        }
        for (int open = openStreams.get(); open < max; open = openStreams.get()) {
            if (openStreams.compareAndSet(open, open + 1)) {
                heldStreams.incrementAndGet();
                return true;
            }
        }
        refusedStreams.increment();
        return false;
    }

    /** The stream's channel closed: its exchange is over. */
    public void streamClosed() {
        openStreams.decrementAndGet();
    }

    /** The stream's channel was deregistered: the event loop no longer holds it, nor what its pipeline held. */
    public void streamReleased() {
        heldStreams.decrementAndGet();
    }

    public void goAwaySent(GoAway why) {
        goAways.get(why).increment();
    }

    public void idleClosed() {
        idleClosed.increment();
    }

    public void headerTimedOut() {
        headerTimeouts.increment();
    }

    /** HTTP/2 connections served since start (h2c and h2). */
    public long connections() {
        return connections.sum();
    }

    public long streams() {
        return streams.sum();
    }

    /** Streams open now on all connections, from their first frame until their stream channel is gone. */
    public int openStreams() {
        return openStreams.get();
    }

    /** Streams open or finished whose channels the event loop still holds. */
    public int heldStreams() {
        return heldStreams.get();
    }

    /**
     * Streams refused with RST_STREAM REFUSED_STREAM because {@code http2.max-open-streams} were open, or four
     * times as many held.
     */
    public long refusedStreams() {
        return refusedStreams.sum();
    }

    public long goAways(GoAway why) {
        return goAways.get(why).sum();
    }

    /** Connections closed with no stream open for {@code timeouts.client-idle}. */
    public long idleClosedCount() {
        return idleClosed.sum();
    }

    /** Connections closed because no request head came within {@code timeouts.client-header} of the preface. */
    public long headerTimeouts() {
        return headerTimeouts.sum();
    }
}
