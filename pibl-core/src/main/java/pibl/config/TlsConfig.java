package pibl.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The TLS listener, a second port beside the cleartext one, serving the same pipeline over TLS.
 *
 * <pre>
 * tls:
 *   port: 8443
 *   certificates:                  # the first is the default; the others are picked by SNI (their SAN names)
 *     - { cert: certs/site.crt, key: certs/site.key }
 *   protocols: [TLSv1.3, TLSv1.2]
 *   redirect-http: false           # true: the cleartext port answers 308 to https://host/path
 *   hsts: 0s                       # > 0: Strict-Transport-Security: max-age=N on https responses
 * </pre>
 *
 * The files are read by {@link CertificateFiles}, not here: {@link #validate()} checks only the values.
 *
 * @param enabled      false when the file has no {@code tls:} block and no {@code --tls-*} flag was given
 * @param port         0 picks an ephemeral one (tests)
 * @param certificates at least one when enabled
 * @param protocols    a non-empty subset of {@link #PROTOCOLS}
 * @param redirectHttp the cleartext port redirects every request to https
 * @param hsts         zero for none
 */
public record TlsConfig(boolean enabled, int port, List<Certificate> certificates, List<String> protocols,
                        boolean redirectHttp, Duration hsts) {
    /** What PIBL accepts: nothing older than TLS 1.2 (RFC 8996 deprecates 1.0 and 1.1). */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** No TLS listener. */
    public static final TlsConfig OFF = new TlsConfig(false, 8443, List.of(), PROTOCOLS, false, Duration.ZERO);

    /** A certificate chain (leaf first) and its private key, both PEM files. */
    public record Certificate(Path cert, Path key) {
    }

    public TlsConfig {
        certificates = certificates == null ? List.of() : List.copyOf(certificates);
        protocols = protocols == null ? List.of() : List.copyOf(protocols);
    }

    /** Enabled with these certificates and every other value at its default. */
    public static TlsConfig of(List<Certificate> certificates) {
        return new TlsConfig(true, OFF.port, certificates, PROTOCOLS, false, Duration.ZERO);
    }

    public TlsConfig withPort(int newPort) {
        return new TlsConfig(true, newPort, certificates, protocols, redirectHttp, hsts);
    }

    public TlsConfig withCertificates(List<Certificate> newCertificates) {
        return new TlsConfig(true, port, newCertificates, protocols, redirectHttp, hsts);
    }

    public TlsConfig withRedirectHttp(boolean redirect) {
        return new TlsConfig(enabled, port, certificates, protocols, redirect, hsts);
    }

    public TlsConfig withHsts(Duration maxAge) {
        return new TlsConfig(enabled, port, certificates, protocols, redirectHttp, maxAge);
    }

    void validate() {
        if (!enabled) {
            return;
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException("tls.port", "must be between 0 and 65535, got " + port);
        }
        if (certificates.isEmpty()) {
            throw new ConfigException("tls.certificates", "must list at least one { cert: FILE, key: FILE }");
        }
        for (int i = 0; i < certificates.size(); i++) {
            Certificate c = certificates.get(i);
            if (c == null || c.cert() == null) {
                throw new ConfigException("tls.certificates[" + i + "].cert", "is required, a PEM file");
            }
            if (c.key() == null) {
                throw new ConfigException("tls.certificates[" + i + "].key", "is required, a PEM file");
            }
        }
        if (protocols.isEmpty()) {
            throw new ConfigException("tls.protocols", "must name at least one of " + String.join(", ", PROTOCOLS));
        }
        for (String p : protocols) {
            if (!PROTOCOLS.contains(p)) {
                throw new ConfigException("tls.protocols", "only " + String.join(" and ", PROTOCOLS)
                        + " are accepted, got " + p);
            }
        }
        if (hsts == null || hsts.isNegative()) {
            throw new ConfigException("tls.hsts", "must be zero or a positive duration, got " + hsts);
        }
    }
}
