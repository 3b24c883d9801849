package pibl.config;

/**
 * @param maxRequestBody  bytes; a larger request body gets 413 (at the head when its Content-Length says so, else
 *                        when a chunked body grows past it)
 * @param retryBuffer     bytes; a request body up to this size (by its Content-Length) is held whole so the request
 *                        can be resent on another connection; a larger or chunked body streams to the backend and
 *                        is never resent once any of it was written
 * @param maxHeaderSize   bytes of all request header lines; more gets 431
 * @param maxInitialLine  bytes of the request line; more gets 414
 * @param maxConnections  open client connections; beyond it new ones are closed at once
 * @param retries         how many other backends a request may be tried on after the first
 */
public record LimitConfig(long maxRequestBody, int retryBuffer, int maxHeaderSize, int maxInitialLine,
                          int maxConnections, int retries) {
    /** Held on the heap per request: past this a buffer costs more than the retry it buys. */
    public static final int MAX_RETRY_BUFFER = 64 << 20;
    private static final int DEFAULT_RETRY_BUFFER = 1 << 20;

    /** The limits with {@code retry-buffer} at its default (1 MiB, or the whole body limit if that is smaller). */
    public LimitConfig(long maxRequestBody, int maxHeaderSize, int maxInitialLine, int maxConnections, int retries) {
        this(maxRequestBody, (int) Math.max(0, Math.min(DEFAULT_RETRY_BUFFER, maxRequestBody)), maxHeaderSize,
                maxInitialLine, maxConnections, retries);
    }

    public static LimitConfig defaults() {
        return new LimitConfig(1L << 30, DEFAULT_RETRY_BUFFER, 16 * 1024, 8 * 1024, 20_000, 2);
    }

    void validate() {
        if (maxRequestBody < 0) {
            throw new ConfigException("limits.max-request-body", "must not be negative, got " + maxRequestBody);
        }
        if (retryBuffer < 0 || retryBuffer > MAX_RETRY_BUFFER) {
            throw new ConfigException("limits.retry-buffer", "must be between 0 and 64m, got " + retryBuffer);
        }
        if (retryBuffer > maxRequestBody) {
            throw new ConfigException("limits.retry-buffer",
                    "must not exceed limits.max-request-body (" + maxRequestBody + "), got " + retryBuffer);
        }
        if (maxHeaderSize < 1024) {
            throw new ConfigException("limits.max-header-size", "must be at least 1024 bytes, got " + maxHeaderSize);
        }
        if (maxInitialLine < 256) {
            throw new ConfigException("limits.max-initial-line", "must be at least 256 bytes, got " + maxInitialLine);
        }
        if (maxConnections < 1) {
            throw new ConfigException("limits.max-connections", "must be at least 1, got " + maxConnections);
        }
        if (retries < 0 || retries > 10) {
            throw new ConfigException("limits.retries", "must be between 0 and 10, got " + retries);
        }
    }
}
