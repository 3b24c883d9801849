package pibl.config;

import java.time.Duration;

/**
 * @param connect         TCP connect to a backend; past it the next backend is tried
 * @param backendResponse longest silence from a backend while a response is awaited or read
 *                        (nginx's {@code proxy_read_timeout}); past it the client gets 504
 * @param clientIdle      an idle keep-alive client connection is closed after this
 * @param clientHeader    a client must send a complete request head within this (slowloris)
 * @param drain           on shutdown, in-flight exchanges get this long to finish
 */
public record TimeoutConfig(Duration connect, Duration backendResponse, Duration clientIdle,
                            Duration clientHeader, Duration drain) {

    public static TimeoutConfig defaults() {
        return new TimeoutConfig(Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(75),
                Duration.ofSeconds(10), Duration.ofSeconds(15));
    }

    void validate() {
        positive("timeouts.connect", connect);
        positive("timeouts.backend-response", backendResponse);
        positive("timeouts.client-idle", clientIdle);
        positive("timeouts.client-header", clientHeader);
        if (drain == null || drain.isNegative()) {
            throw new ConfigException("timeouts.drain", "must be zero or positive");
        }
    }

    static void positive(String key, Duration d) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new ConfigException(key, "must be a positive duration, got " + d);
        }
    }
}
