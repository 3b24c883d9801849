package pibl.config;

import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One upstream server. {@code weight} only matters once weights differ: equal weights give plain
 * round robin.
 *
 * <pre>
 * - 127.0.0.1:9001                                         cleartext, weight 1
 * - { address: 127.0.0.1:9003, weight: 5 }
 * - { address: api.internal:443, tls: true }               SNI and verified name api.internal, the JDK's CAs
 * - { address: 10.0.0.7:8443, tls: true, sni: api.internal, ca: certs/internal-ca.pem }
 * - { address: 10.0.0.8:8443, tls: true, verify: false }   encrypted, but any certificate is accepted
 * </pre>
 *
 * A backend is its address and its TLS settings together: a reload that changes either replaces it.
 *
 * @param host   a host name or IP literal (IPv6 without brackets)
 * @param port   1..65535
 * @param weight 1..1000, default 1
 * @param tls    {@link Tls#OFF} for cleartext
 */
public record BackendConfig(String host, int port, int weight, Tls tls) {
    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final Pattern DNS_NAME = Pattern.compile(
            "(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

    /**
     * How PIBL speaks TLS to a backend.
     *
     * @param enabled false: cleartext, and the other values are at their defaults
     * @param sni     the name sent as SNI and checked against the certificate; null: the host when it is a DNS
     *                name, none for an IP literal ({@link #serverName})
     * @param verify  the certificate must chain to {@code ca} (or the JDK's trust store) and name the backend
     * @param ca      PEM file of the certificates trusted for this backend; null: the JDK's trust store
     */
    public record Tls(boolean enabled, String sni, boolean verify, Path ca) {
        /** Cleartext. */
        public static final Tls OFF = new Tls(false, null, true, null);
        /** TLS with every other value at its default. */
        public static final Tls ON = new Tls(true, null, true, null);

        public Tls {
            sni = sni == null ? null : sni.strip().toLowerCase(Locale.ROOT);
        }

        /** The error for a TLS setting written on a backend that is not {@code tls: true}. */
        public static ConfigException withoutTls(String key) {
            return new ConfigException(key, "applies only to a backend with tls: true");
        }

        void validate(String key) {
            if (!enabled) {
                if (sni != null) {
                    throw withoutTls(key + ".sni");
                }
                if (!verify) {
                    throw withoutTls(key + ".verify");
                }
                if (ca != null) {
                    throw withoutTls(key + ".ca");
                }
                return;
            }
            if (sni != null) {
                if (isIpLiteral(sni)) {
                    throw new ConfigException(key + ".sni", "must be a DNS name; SNI cannot carry an IP address, got "
                            + sni);
                }
                if (!DNS_NAME.matcher(sni).matches() || sni.length() > 253) {
                    throw new ConfigException(key + ".sni", "must be a DNS name such as api.internal, got " + sni);
                }
            }
            if (ca != null && !verify) {
                throw new ConfigException(key + ".ca", "cannot go with verify: false, which checks no certificate,"
                        + " got " + ca);
            }
        }
    }

    public BackendConfig(String host, int port, int weight) {
        this(host, port, weight, Tls.OFF);
    }

    public BackendConfig(String host, int port) {
        this(host, port, 1);
    }

    public BackendConfig {
        tls = tls == null ? Tls.OFF : tls;
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

    public BackendConfig withTls(Tls newTls) {
        return new BackendConfig(host, port, weight, newTls);
    }

    /** {@code host:port}, brackets around IPv6 literals. */
    public String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /**
     * The name sent as SNI and that the certificate must carry: {@code tls.sni}, else the host when it is a DNS
     * name; null for an IP literal without {@code sni} (no SNI is sent, and the certificate must name the IP).
     */
    public String serverName() {
        if (tls.sni() != null) {
            return tls.sni();
        }
        return isIpLiteral(host) ? null : host.toLowerCase(Locale.ROOT);
    }

    /** {@code 127.0.0.1}, {@code ::1}: an address, not a name. */
    static boolean isIpLiteral(String host) {
        return host.indexOf(':') >= 0 || IPV4.matcher(host).matches();
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
        tls.validate(key);
    }

    /** {@code 127.0.0.1:9001}, {@code 127.0.0.1:9003 weight=5}, {@code api.internal:443 tls sni=api.internal}. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(address());
        if (weight != 1) {
            s.append(" weight=").append(weight);
        }
        if (tls.enabled()) {
            s.append(" tls");
            String name = serverName();
            if (name != null) {
                s.append(" sni=").append(name);
            }
            if (!tls.verify()) {
                s.append(" verify=false");
            } else if (tls.ca() != null) {
                s.append(" ca=").append(tls.ca());
            }
        }
        return s.toString();
    }
}
