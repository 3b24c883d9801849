package pibl.config;

/**
 * One upstream server. {@code weight} only matters once weights differ: equal weights give plain
 * round robin.
 *
 * @param host   a host name or IP literal (IPv6 without brackets)
 * @param port   1..65535
 * @param weight 1..1000, default 1
 */
public record BackendConfig(String host, int port, int weight) {

    public BackendConfig(String host, int port) {
        this(host, port, 1);
    }

    /**
     * Parses {@code host:port}, {@code [v6]:port}. Throws {@link IllegalArgumentException} with a
     * message fit for the operator when the text is not an address.
     */
    public static BackendConfig parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("expected host:port, got an empty value");
        }
        String s = text.strip();
        String host;
        String portText;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("expected [ipv6]:port, got '" + text + "'");
            }
            host = s.substring(1, close);
            portText = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || colon != s.indexOf(':')) {
                throw new IllegalArgumentException("expected host:port, got '" + text + "'");
            }
            host = s.substring(0, colon);
            portText = s.substring(colon + 1);
        }
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port of '" + text + "' is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port of '" + text + "' must be between 1 and 65535");
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("host of '" + text + "' is empty");
        }
        return new BackendConfig(host, port, 1);
    }

    /** {@code host:port}, brackets around IPv6 literals. */
    public String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    void validate(String key) {
        if (host == null || host.isBlank()) {
            throw new ConfigException(key + ".host", "must not be empty");
        }
        if (port < 1 || port > 65535) {
            throw new ConfigException(key + ".port", "must be between 1 and 65535, got " + port);
        }
        if (weight < 1 || weight > 1000) {
            throw new ConfigException(key + ".weight", "must be between 1 and 1000, got " + weight);
        }
    }

    @Override
    public String toString() {
        return weight == 1 ? address() : address() + " weight=" + weight;
    }
}
