package pibl.config;

/**
 * HTTP/2 towards clients: on the cleartext port by prior knowledge (h2c: a connection that opens with the HTTP/2
 * preface), and on the TLS port when ALPN picks {@code h2}. Requests still go to the backends as HTTP/1.1.
 *
 * @param enabled              false: the preface is answered 505 and the connection closed, as before HTTP/2
 * @param maxConcurrentStreams SETTINGS_MAX_CONCURRENT_STREAMS: streams a client may have open on one connection;
 *                             one more is refused (RST_STREAM REFUSED_STREAM), the connection kept
 */
public record Http2Config(boolean enabled, int maxConcurrentStreams) {
    /** RFC 9113 section 6.5.2 recommends no fewer than 100, so that parallelism is not needlessly limited. */
    public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 100;

    public static Http2Config defaults() {
        return new Http2Config(true, DEFAULT_MAX_CONCURRENT_STREAMS);
    }

    void validate() {
        if (maxConcurrentStreams < 1 || maxConcurrentStreams > 10_000) {
            throw new ConfigException("http2.max-concurrent-streams", "must be between 1 and 10000, got "
                    + maxConcurrentStreams);
        }
    }
}
