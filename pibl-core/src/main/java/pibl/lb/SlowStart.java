package pibl.lb;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend's ramp after it comes back ({@code slow-start}, as nginx's {@code slow_start}, HAProxy's
 * {@code slowstart} and Envoy's {@code slow_start_config}): for {@code slow-start} after it returns to rotation its
 * share is the factor
 *
 * <pre>
 * f = max(0.1, elapsed / slow-start)        slow-start 30 s:  0 s → 0.1   15 s → 0.5   30 s and after → 1
 * </pre>
 *
 * of what it would otherwise get, which each balancer applies its own way: round robin skips it with probability
 * {@code 1 - f}, smooth weighted round robin, least-request and ewma multiply its weight by {@code f}, hash gives it
 * {@code f} of its bounded capacity (or, unbounded, keeps {@code f} of its keys).
 *
 * <p>"Comes back" is: active health up after down, the passive cooldown over, active checks switched off while it
 * was down, or added to the pool by a reload; never the backends of the first configuration at startup, which
 * begin at their full share (nothing was sending them traffic, so nothing is taken from anyone).
 *
 * <p>The floor of 0.1 (Envoy's {@code min_weight_percent} default): from its first second the backend gets a
 * tenth of its share, real traffic to warm its JIT, caches and connection pools on, rather than nothing and then a
 * cliff; and the balancers' arithmetic stays tame, a least-request or ewma score at most ten times worse, a hash
 * capacity never rounded to nothing.
 *
 * <p>A share alone does not protect a backend that is not answering yet: a JVM that has just started may leave its
 * connections unread for a second while it interprets and compiles, and a tenth of a busy pool's turns sent into
 * that second all wait on it (round robin with slow start did worse than without, in {@code bench/balance.sh}). So
 * while it ramps a backend also has an in-flight cap ({@link #full}, HAProxy's slowstart scales a server's maxconn
 * the same way): {@code max(1, ceil(f x its weight's part of the in-flight of the pool's other backends in
 * rotation))}. A backend at its cap is passed over by every balancer while another can take the request, so one that
 * holds its requests gets no more until it answers them.
 *
 * <p>Lock-free; a backend that is not ramping costs one volatile read per look, without reading the clock.
 */
final class SlowStart {
    static final double FLOOR = 0.1;
    private static final long IDLE = Long.MIN_VALUE;

    private volatile long durationNanos;
    /** When the current ramp began (the backend's clock), {@link #IDLE} when there is none. */
    private final AtomicLong since = new AtomicLong(IDLE);

    /** The pool's {@code slow-start}; zero ends a ramp in progress. */
    void duration(Duration d) {
        durationNanos = d.toNanos();
        if (durationNanos <= 0) {
            since.set(IDLE);
        }
    }

    Duration duration() {
        return Duration.ofNanos(durationNanos);
    }

    /** The backend came back at {@code now}: a ramp begins (or begins again). False when slow start is off. */
    boolean begin(long now) {
        if (durationNanos <= 0) {
            return false;
        }
        since.set(now);
        return true;
    }

    /** The share factor at {@code now}: {@link #FLOOR}..1 while ramping, 1 when not. */
    double factor(long now) {
        long s = since.get();
        if (s == IDLE) {
            return 1.0;
        }
        double f = factor(now - s, durationNanos);
        if (f >= 1.0) {
            since.compareAndSet(s, IDLE); // over: later looks cost nothing
        }
        return f;
    }

    /**
     * Whether {@code candidate} is in its ramp and already has as many requests in flight as it may:
     * {@code max(1, ceil(f x weight x (in-flight of the others in rotation) / (their weights)))}, where {@code f}
     * is its {@link Backend#rampFactor}. With the others idle the cap is 1: a request at a time until it has
     * answered. Never while not ramping (one volatile read), nor when it is the only backend in rotation.
     */
    static boolean full(Backend candidate, Backend[] pool) {
        double f = candidate.rampFactor();
        if (f >= 1.0) {
            return false;
        }
        long load = 0;
        long weights = 0;
        for (Backend b : pool) {
            if (b != candidate && b.isAvailable()) {
                load += b.inFlight();
                weights += Math.max(1, b.weight());
            }
        }
        if (weights == 0) {
            return false;
        }
        double cap = Math.max(1.0, Math.ceil(f * Math.max(1, candidate.weight()) * load / weights));
        return candidate.inFlight() >= cap;
    }

    /** {@code max(FLOOR, elapsed / duration)}, 1 once {@code duration} has passed or when it is zero. */
    static double factor(long elapsedNanos, long durationNanos) {
        if (durationNanos <= 0 || elapsedNanos >= durationNanos) {
            return 1.0;
        }
        return Math.max(FLOOR, Math.max(0, elapsedNanos) / (double) durationNanos);
    }
}
