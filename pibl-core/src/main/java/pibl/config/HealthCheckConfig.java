package pibl.config;

import java.time.Duration;

/**
 * Active and passive health checking.
 *
 * @param enabled          active checks on or off (passive checks are always on)
 * @param path             GET this path on each backend; any 2xx or 3xx is healthy
 * @param interval         time between two checks of one backend
 * @param timeout          a check that takes longer has failed
 * @param fall             consecutive failed checks that take a backend out of rotation
 * @param rise             consecutive good checks that bring it back
 * @param passiveFailures  consecutive failed requests (refused, reset, timed out) that take a backend out
 * @param passiveCooldown  how long a passively failed backend stays out before it is tried again
 */
public record HealthCheckConfig(boolean enabled, String path, Duration interval, Duration timeout, int fall,
                                int rise, int passiveFailures, Duration passiveCooldown) {

    public static HealthCheckConfig defaults() {
        return new HealthCheckConfig(true, "/health", Duration.ofSeconds(2), Duration.ofSeconds(1), 3, 2, 3,
                Duration.ofSeconds(10));
    }

    /** @param prefix where these keys are in the file: empty at the top level, {@code pools.shop.} in a pool */
    void validate(String prefix) {
        String key = prefix + "health-check.";
        if (path == null || !path.startsWith("/")) {
            throw new ConfigException(key + "path", "must start with /, got " + path);
        }
        TimeoutConfig.positive(key + "interval", interval);
        TimeoutConfig.positive(key + "timeout", timeout);
        TimeoutConfig.positive(key + "passive-cooldown", passiveCooldown);
        if (fall < 1) {
            throw new ConfigException(key + "fall", "must be at least 1, got " + fall);
        }
        if (rise < 1) {
            throw new ConfigException(key + "rise", "must be at least 1, got " + rise);
        }
        if (passiveFailures < 1) {
            throw new ConfigException(key + "passive-failures", "must be at least 1, got " + passiveFailures);
        }
    }
}
