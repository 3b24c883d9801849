package pibl.config;

/**
 * HTTP/2 towards clients: on the cleartext port by prior knowledge (h2c: a connection that opens with the HTTP/2
 * preface), and on the TLS port when ALPN picks {@code h2}. Requests still go to the backends as HTTP/1.1.
 *
 * @param enabled              false: the preface is answered 505 and the connection closed, as before HTTP/2
 * @param maxConcurrentStreams SETTINGS_MAX_CONCURRENT_STREAMS: streams a client may have open on one connection;
 *                             one more is refused (RST_STREAM REFUSED_STREAM), the connection kept
 * @param maxOpenStreams       streams open at once on all connections together; past it a new stream is refused
 *                             (RST_STREAM REFUSED_STREAM: not processed, safe for the client to retry). Each open
 *                             stream holds a few KiB of heap until it is done: without this bound, a few hundred
 *                             connections of 100 streams each filled a 128 MiB heap and stopped the process
 */
public record Http2Config(boolean enabled, int maxConcurrentStreams, int maxOpenStreams) {
    /** RFC 9113 section 6.5.2 recommends no fewer than 100, so that parallelism is not needlessly limited. */
    public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 100;
    /** Heap set aside per open stream for {@link #defaultMaxOpenStreams()}: several times what one holds. */
    static final long HEAP_PER_OPEN_STREAM = 32 * 1024;

    public static Http2Config defaults() {
        return new Http2Config(true, DEFAULT_MAX_CONCURRENT_STREAMS, defaultMaxOpenStreams());
    }

    /**
     * One open stream per 32 KiB of the heap's maximum, between 256 and 65536: 4096 with the recommended
     * {@code -Xmx128m}.
     */
    public static int defaultMaxOpenStreams() {
        return (int) Math.max(256, Math.min(65_536, Runtime.getRuntime().maxMemory() / HEAP_PER_OPEN_STREAM));
    }

    void validate() {
        if (maxConcurrentStreams < 1 || maxConcurrentStreams > 10_000) {
            throw new ConfigException("http2.max-concurrent-streams", "must be between 1 and 10000, got "
                    + maxConcurrentStreams);
        }
        if (maxOpenStreams < 1 || maxOpenStreams > 1_000_000) {
            throw new ConfigException("http2.max-open-streams", "must be between 1 and 1000000, got "
                    + maxOpenStreams);
        }
    }
}
