package pibl.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import pibl.config.CertificateFiles;
import pibl.config.ConfigException;
import pibl.config.TlsConfig;

import javax.net.ssl.SSLException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The server side of TLS for one set of certificates: an {@link SslContext} per certificate and the SNI mapping
 * that picks among them, immutable. A reload builds a new one and swaps it in ({@link TlsContexts}); connections
 * already open keep the context they were handshaken with.
 *
 * <pre>
 * SNI "shop.example"      → the first certificate whose SAN names it exactly
 * SNI "a.shop.example"    → else one with "*.shop.example" (a wildcard matches one label, RFC 6125 section 6.4.3)
 * no SNI, or no match     → the first certificate
 * </pre>
 *
 * Provider: OpenSSL (BoringSSL, from netty-tcnative) when it loads, else the JDK's; {@code -Dpibl.tls.provider=jdk}
 * forces the JDK's. Ciphers: Mozilla's "intermediate" profile. ALPN: {@link #alpn}.
 */
public final class ServerTls {
    /**
     * What ALPN offers, in order of preference: {@code h2} first when {@code http2.enabled}, then {@code http/1.1};
     * a client that offers nothing we know gets HTTP/1.1.
     */
    public static List<String> alpn(boolean http2) {
        return http2 ? List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1)
                : List.of(ApplicationProtocolNames.HTTP_1_1);
    }

    /**
     * Mozilla's "intermediate" server profile (v5.7): the TLS 1.3 suites, and for TLS 1.2 ECDHE with AES-GCM or
     * ChaCha20-Poly1305 only; the server's order wins where the provider lets it.
     */
    static final List<String> CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private final SslProvider provider;
    private final List<SslContext> contexts;
    private final List<CertificateFiles.Loaded> certificates;
    private final Mapping<String, SslContext> sni;

    private ServerTls(SslProvider provider, List<SslContext> contexts, List<CertificateFiles.Loaded> certificates,
                      Mapping<String, SslContext> sni) {
        this.provider = provider;
        this.contexts = contexts;
        this.certificates = certificates;
        this.sni = sni;
    }

    /**
     * Reads the files of {@code tls} and builds the contexts.
     *
     * @throws ConfigException naming the key and file of the first certificate that cannot be used
     */
    public static ServerTls build(TlsConfig tls, boolean http2) {
        return build(tls, CertificateFiles.load(tls), http2);
    }

    static ServerTls build(TlsConfig tls, List<CertificateFiles.Loaded> certificates, boolean http2) {
        SslProvider provider = provider();
        List<SslContext> contexts = new ArrayList<>();
        for (int i = 0; i < certificates.size(); i++) {
            CertificateFiles.Loaded c = certificates.get(i);
            try {
                contexts.add(SslContextBuilder.forServer(c.key(), c.chain().toArray(X509Certificate[]::new))
                        .sslProvider(provider)
                        .protocols(tls.protocols())
                        .ciphers(CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                        .sessionTimeout(TicketKeys.LIFETIME.toSeconds())
                        .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn(http2)))
                        .build());
            } catch (SSLException | IllegalArgumentException e) {
                throw new ConfigException("tls.certificates[" + i + "]", c.files().cert() + ": " + provider
                        + " cannot use it (" + e.getMessage() + ")");
            }
        }
        DomainWildcardMappingBuilder<SslContext> names = new DomainWildcardMappingBuilder<>(contexts.get(0));
        Set<String> taken = new HashSet<>();
        for (int i = 0; i < certificates.size(); i++) {
            for (String name : certificates.get(i).names()) {
                if (taken.add(name)) { // the first certificate that names a host serves it
                    names.add(name, contexts.get(i));
                }
            }
        }
        return new ServerTls(provider, List.copyOf(contexts), certificates, names.build());
    }

    /** OpenSSL unless it does not load here or {@code -Dpibl.tls.provider=jdk}. */
    static SslProvider provider() {
        String forced = System.getProperty("pibl.tls.provider", "").strip().toLowerCase(Locale.ROOT);
        if (forced.equals("jdk") || !OpenSsl.isAvailable()) {
            return SslProvider.JDK;
        }
        return SslProvider.OPENSSL;
    }

    /** For the startup line: {@code OpenSSL (BoringSSL)} or {@code JDK (SunJSSE 17)}. */
    public String providerName() {
        if (provider == SslProvider.JDK) {
            return "JDK (Java " + Runtime.version().feature() + ")";
        }
        return "OpenSSL (" + OpenSsl.versionString() + ")";
    }

    public boolean isOpenSsl() {
        return provider != SslProvider.JDK;
    }

    /** What the SNI handler of each new connection maps host names with. */
    public Mapping<String, SslContext> sni() {
        return sni;
    }

    public List<SslContext> contexts() {
        return contexts;
    }

    /** The leaf certificates that have expired by {@code now}: served anyway, and warned about. */
    public List<CertificateFiles.Loaded> expired(Instant now) {
        return certificates.stream().filter(c -> c.expiredAt(now)).toList();
    }

    /** {@code site.crt [shop.example, *.shop.example]; other.crt [...]}. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (CertificateFiles.Loaded c : certificates) {
            b.append(b.length() == 0 ? "" : "; ").append(c.files().cert()).append(' ').append(c.names());
        }
        return b.toString();
    }

    /** The session contexts of OpenSSL, whose ticket keys {@link TicketKeys} sets; empty with the JDK's. */
    List<OpenSslSessionContext> openSslSessions() {
        List<OpenSslSessionContext> sessions = new ArrayList<>();
        for (SslContext c : contexts) {
            if (c.sessionContext() instanceof OpenSslSessionContext s) {
                sessions.add(s);
            }
        }
        return sessions;
    }
}
