package pibl.lb;

import java.util.concurrent.TimeUnit;

/**
 * A backend's latency estimate for the {@code ewma} balancer: Finagle's and Linkerd's peak-EWMA. Each response
 * moves the estimate toward its latency by how long it has been since the last one, with a 10 s time constant; a
 * response slower than the estimate replaces it at once (peak-sensitive: a backend turning slow is avoided from its
 * first slow answer, and forgiven over seconds). Between responses the estimate decays toward zero, so a backend
 * that was slow and then got nothing is tried again after a while instead of never.
 *
 * <pre>
 * estimate 20 ms, 1 s later a 10 ms answer    → 20·e^(-0.1) + 10·(1 - e^(-0.1)) = 19.0 ms
 * estimate 20 ms, a 900 ms answer              → 900 ms (peak)
 * estimate 900 ms, 10 s of silence            → read as 331 ms (e^(-1))
 * a failure: 5xx, refused, reset, timed out    → max(latency, 1 s, min(2 × estimate, 30 s)), as a peak
 * </pre>
 *
 * The failure penalty keeps a backend that answers 503 in 1 ms from looking like the fastest of the pool; it
 * doubles with each failure in a row (up to 30 s) so that it also loses against a pool whose normal answers take
 * longer than a second.
 *
 * <p>Reads (every pick) take no lock; an update (one per response) takes this object's monitor for a few
 * arithmetic operations. Times are the backend's clock, in nanoseconds.
 */
final class PeakEwma {
    static final long DECAY_NANOS = TimeUnit.SECONDS.toNanos(10);
    static final long PENALTY_NANOS = TimeUnit.SECONDS.toNanos(1);
    static final long MAX_PENALTY_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final long NEVER = Long.MIN_VALUE;

    private volatile double estimate;
    private volatile long stamp = NEVER;

    /** A response's latency. */
    synchronized void observe(long latencyNanos, long now) {
        double current = read(now);
        double sample = Math.max(0, latencyNanos);
        if (stamp == NEVER || sample > current) {
            estimate = sample;
        } else {
            double w = Math.exp(-Math.max(0, now - stamp) / (double) DECAY_NANOS);
            estimate = estimate * w + sample * (1 - w);
        }
        stamp = now;
    }

    /** A failure after {@code latencyNanos} (0 when it never got that far): the penalty, as a peak. */
    synchronized void penalize(long latencyNanos, long now) {
        double current = read(now);
        double penalty = Math.max(latencyNanos, Math.max(PENALTY_NANOS, Math.min(2 * current, MAX_PENALTY_NANOS)));
        estimate = Math.max(current, penalty);
        stamp = now;
    }

    /** The estimate at {@code now} in nanoseconds, decayed since the last response; 0 before any. */
    double read(long now) {
        long s = stamp;
        if (s == NEVER) {
            return 0;
        }
        double e = estimate;
        long idle = now - s;
        return idle <= 0 ? e : e * Math.exp(-idle / (double) DECAY_NANOS);
    }
}
