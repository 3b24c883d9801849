package pibl.config;

import java.time.Duration;

/**
 * @param connect         TCP connect to a backend; past it the next backend is tried
 * @param backendResponse longest silence from a backend while a response is awaited or read
 *                        (nginx's {@code proxy_read_timeout}); past it the client gets 504
 * @param clientIdle      an idle keep-alive client connection is closed after this
 * @param clientHeader    a client must send a complete request head within this (slowloris)
 * @param drain           on shutdown, in-flight exchanges get this long to finish (open tunnels too: they are
 *                        closed when it is over)
 * @param tunnelIdle      a tunnel (a WebSocket connection after its 101) with no byte either way for this long is
 *                        closed, both sides
 */
public record TimeoutConfig(Duration connect, Duration backendResponse, Duration clientIdle,
                            Duration clientHeader, Duration drain, Duration tunnelIdle) {

    /** Long, as nginx's advice for WebSocket is: the application's pings, not the proxy, keep a chat alive. */
    public static final Duration DEFAULT_TUNNEL_IDLE = Duration.ofHours(1);

    /** The default {@code tunnel-idle}. */
    public TimeoutConfig(Duration connect, Duration backendResponse, Duration clientIdle, Duration clientHeader,
                         Duration drain) {
        this(connect, backendResponse, clientIdle, clientHeader, drain, DEFAULT_TUNNEL_IDLE);
    }

    public static TimeoutConfig defaults() {
        return new TimeoutConfig(Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(75),
                Duration.ofSeconds(10), Duration.ofSeconds(15), DEFAULT_TUNNEL_IDLE);
    }

    public TimeoutConfig withTunnelIdle(Duration idle) {
        return new TimeoutConfig(connect, backendResponse, clientIdle, clientHeader, drain, idle);
    }

    void validate() {
        positive("timeouts.connect", connect);
        positive("timeouts.backend-response", backendResponse);
        positive("timeouts.client-idle", clientIdle);
        positive("timeouts.client-header", clientHeader);
        positive("timeouts.tunnel-idle", tunnelIdle);
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
