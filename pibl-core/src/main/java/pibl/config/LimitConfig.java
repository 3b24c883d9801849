package pibl.config;

/**
 * @param maxRequestBody  bytes; a larger request body gets 413
 * @param maxHeaderSize   bytes of all request header lines; more gets 431
 * @param maxInitialLine  bytes of the request line; more gets 414
 * @param maxConnections  open client connections; beyond it new ones are closed at once
 * @param retries         how many other backends a request may be tried on after the first
 */
public record LimitConfig(int maxRequestBody, int maxHeaderSize, int maxInitialLine, int maxConnections,
                          int retries) {

    public static LimitConfig defaults() {
        return new LimitConfig(10 * 1024 * 1024, 16 * 1024, 8 * 1024, 20_000, 2);
    }

    void validate() {
        if (maxRequestBody < 0) {
            throw new ConfigException("limits.max-request-body", "must not be negative, got " + maxRequestBody);
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
