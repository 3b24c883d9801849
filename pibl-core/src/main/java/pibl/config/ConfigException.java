package pibl.config;

/**
 * A configuration value that cannot be used. {@link #key()} is the dotted path of the offending
 * key as it is spelled in {@code pibl.yaml} (for example {@code timeouts.connect} or
 * {@code backends[1]}), so the operator can find it without reading a stack trace.
 */
public final class ConfigException extends RuntimeException {
    private final String key;

    public ConfigException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
    }

    /** The dotted key path, e.g. {@code cache.ttl}. */
    public String key() {
        return key;
    }

    /** The problem without the key, e.g. {@code must be between 1 and 65535, got 70000}. */
    public String problem() {
        return getMessage().substring(key.length() + 2);
    }
}
