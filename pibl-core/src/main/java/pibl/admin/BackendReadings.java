package pibl.admin;

import pibl.lb.Backend;

/**
 * The per-backend readings the admin shows, in one place: health as a word, latency quantiles in milliseconds.
 */
final class BackendReadings {
    static final String UP = "up";

    private BackendReadings() {
    }

    /** {@code up}, {@code down} or {@code cooldown}. */
    static String health(Backend backend) {
        return backend.isAvailable() ? UP : "down";
    }

    /** The {@code q} quantile (0..1) of recent response latencies in milliseconds; NaN before any sample. */
    static double latencyMillis(Backend backend, double q) {
        return Double.NaN;
    }
}
