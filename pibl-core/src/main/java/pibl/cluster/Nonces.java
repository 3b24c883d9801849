package pibl.cluster;

import java.security.SecureRandom;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The once-only part of a peer mark: this process's boot id and a sequence number on every mark it makes, and for
 * every sender the marks already taken, so that a mark seen on the wire cannot be sent again within its time
 * window (a PURGE replayed, a rate limit walked around). The way IPsec and DTLS refuse replays: per sender and
 * boot, the highest sequence number seen and a bitmap of the {@value #WINDOW} before it.
 *
 * <pre>
 * mark nonce "9f3c61d2a0b4e817.1042"   boot id (hex, random at start), sequence number (1, 2, 3, ...)
 * seen 1042 once: taken; seen again: refused; 1030 after 1042 (another connection): taken once;
 * older than 1042 - 4096: refused (far more reordering than the connections between two nodes allow)
 * </pre>
 *
 * A sender that restarts has a new boot id and a window of its own; a sender's old boot ids are forgotten after
 * the mark's time window (their marks are refused by time by then), at most {@value #BOOTS} kept at once.
 */
final class Nonces {
    /** Sequence numbers remembered behind the highest one seen, per sender and boot. */
    static final int WINDOW = 4096;
    private static final int BOOTS = 4;

    private final String boot;
    private final AtomicLong sequence = new AtomicLong();
    private final Map<String, Sender> senders = new ConcurrentHashMap<>();

    Nonces() {
        long id;
        SecureRandom random = new SecureRandom();
        do {
            id = random.nextLong();
        } while (id == 0);
        this.boot = Long.toHexString(id);
    }

    /** The nonce of the next mark this process makes. */
    String next() {
        return boot + "." + sequence.incrementAndGet();
    }

    /**
     * Whether {@code nonce}, from a mark of {@code node} whose MAC is good, is seen here for the first time (it is
     * taken now); false for a replay, a sequence number too far behind, or a nonce that does not parse.
     */
    boolean firstUse(String node, String nonce, long nowSeconds) {
        int dot = nonce.indexOf('.');
        if (dot <= 0 || dot == nonce.length() - 1) {
            return false;
        }
        long seq;
        try {
            seq = Long.parseLong(nonce, dot + 1, nonce.length(), 10);
        } catch (NumberFormatException e) {
            return false;
        }
        if (seq <= 0) {
            return false;
        }
        return senders.computeIfAbsent(node, n -> new Sender()).take(nonce.substring(0, dot), seq, nowSeconds);
    }

    /** One sender's windows, by boot id, the most recently used last. */
    private static final class Sender {
        private final LinkedHashMap<String, Window> boots = new LinkedHashMap<>(8, 0.75f, true);

        synchronized boolean take(String boot, long seq, long nowSeconds) {
            for (Iterator<Window> it = boots.values().iterator(); it.hasNext(); ) {
                if (nowSeconds - it.next().lastSeen > 2 * PeerAuth.WINDOW_SECONDS) {
                    it.remove(); // its marks are refused by time now
                }
            }
            Window w = boots.computeIfAbsent(boot, b -> new Window());
            if (boots.size() > BOOTS) {
                Iterator<String> eldest = boots.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
            w.lastSeen = nowSeconds;
            return w.take(seq);
        }
    }

    /** The highest sequence number taken and which of the {@value #WINDOW} before it were. */
    private static final class Window {
        private final long[] bits = new long[WINDOW / 64];
        private long highest;
        private long lastSeen;

        boolean take(long seq) {
            if (seq > highest) {
                if (seq - highest >= WINDOW) {
                    java.util.Arrays.fill(bits, 0);
                } else {
                    for (long s = highest + 1; s < seq; s++) {
                        clear(s);
                    }
                }
                highest = seq;
                set(seq);
                return true;
            }
            if (highest - seq >= WINDOW) {
                return false;
            }
            int i = (int) (seq & (WINDOW - 1));
            long bit = 1L << (i & 63);
            if ((bits[i >>> 6] & bit) != 0) {
                return false;
            }
            bits[i >>> 6] |= bit;
            return true;
        }

        private void set(long seq) {
            int i = (int) (seq & (WINDOW - 1));
            bits[i >>> 6] |= 1L << (i & 63);
        }

        private void clear(long seq) {
            int i = (int) (seq & (WINDOW - 1));
            bits[i >>> 6] &= ~(1L << (i & 63));
        }
    }
}
