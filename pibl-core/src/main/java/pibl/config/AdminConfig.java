package pibl.config;

/**
 * The admin listener ({@code /status}, {@code /metrics}, the HTML status page), kept off the
 * public port.
 */
public record AdminConfig(boolean enabled, String host, int port) {

    public static AdminConfig defaults() {
        return new AdminConfig(true, "127.0.0.1", 8081);
    }

    void validate() {
        if (host == null || host.isBlank()) {
            throw new ConfigException("admin.host", "must not be empty");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException("admin.port", "must be between 0 and 65535, got " + port);
        }
    }
}
