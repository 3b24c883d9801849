package pibl.admin;

import pibl.lb.Backend;

/**
 * The per-backend readings the admin shows, in one place: health as a word, latency quantiles in milliseconds,
 * NaN (JSON {@code null}, Prometheus {@code NaN}) while the backend has no sample, rather than a misleading 0.
 */
final class BackendReadings {
    static final String UP = "up";

    private BackendReadings() {
    }

    /** {@code up}, {@code down} (failed active checks) or {@code cooldown} (failed requests). */
    static String health(Backend backend) {
        return backend.health();
    }

    /**
     * The share factor of a backend in its slow start (0.1..1: what it gets of its full share now); NaN when it is
     * not ramping.
     */
    static double slowStart(Backend backend) {
        double f = backend.rampFactor();
        return f < 1.0 ? f : Double.NaN;
    }

    /** The {@code q} quantile (0..1) of the backend's time to response head in milliseconds; NaN before any. */
    static double latencyMillis(Backend backend, double q) {
        return backend.latency().count() == 0 ? Double.NaN : backend.latencyPercentile(q);
    }
}
