package pibl.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import pibl.config.BackendConfig;
import pibl.config.CertificateFiles;
import pibl.config.ConfigException;
import pibl.config.TlsConfig;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The client side of TLS, towards the backends of one configuration:
 *
 * <pre>
 * backend                                                SNI           the certificate must
 * { address: api.internal:443, tls: true }               api.internal  chain to the JDK's CAs, name api.internal
 * { address: 10.0.0.7:8443, tls: true,
 *   sni: api.internal, ca: certs/internal-ca.pem }       api.internal  chain to internal-ca.pem, name api.internal
 * { address: 127.0.0.1:8443, tls: true, ca: ca.pem }     none          chain to ca.pem, name IP 127.0.0.1
 * { address: 127.0.0.1:8443, tls: true, verify: false }  none          nothing (encrypted, not authenticated)
 * </pre>
 *
 * One client {@link SslContext} per distinct {@code (ca, verify)}, made when the pool is built; a reload builds the
 * pool's again, so a CA file rewritten in place counts for the connections opened after it. Each backend's names go
 * on its connections' engines ({@link Peer}). Provider as {@link ServerTls} picks it (OpenSSL when it loads);
 * TLSv1.3 and TLSv1.2 with the provider's own cipher list (the backends, not browsers, are the peers); ALPN offers
 * {@code http/1.1} alone, as requests go to backends in HTTP/1.1; hostname verification (endpoint identification
 * {@code HTTPS}) whenever {@code verify}.
 */
public final class BackendTls {
    private final Map<Trust, SslContext> contexts = new HashMap<>();
    /** Picked at the first context: a pool of cleartext backends never loads OpenSSL for this. */
    private SslProvider provider;

    /** What a context trusts: the certificates of {@code ca} (the JDK's when null), or anything when not verifying. */
    private record Trust(Path ca, boolean verify) {
    }

    /**
     * One backend's TLS: the context of its trust, and the name it presents as SNI and checks the certificate
     * against (its IP when it has no name).
     */
    public static final class Peer {
        private final SslContext context;
        private final String serverName;
        private final String peerHost;
        private final int port;
        private final BackendConfig.Tls settings;

        private Peer(SslContext context, BackendConfig config) {
            this.context = context;
            this.serverName = config.serverName();
            this.peerHost = serverName != null ? serverName : config.host();
            this.port = config.port();
            this.settings = config.tls();
        }

        /**
         * The first handler of a new connection to the backend. Its handshake is not timed here: whoever waits for
         * it bounds it ({@code timeouts.connect}, {@code health-check.timeout}).
         */
        public SslHandler newHandler(ByteBufAllocator alloc) {
            // The engine's peer host is the name the certificate is checked against; SNI is set explicitly, since
            // the providers leave it out for dotless names such as localhost.
            SslHandler handler = context.newHandler(alloc, peerHost, port);
            if (serverName != null) {
                SSLEngine engine = handler.engine();
                SSLParameters p = engine.getSSLParameters();
                p.setServerNames(List.of(new SNIHostName(serverName)));
                engine.setSSLParameters(p);
            }
            handler.setHandshakeTimeoutMillis(0);
            return handler;
        }

        /** The SNI name sent, null for none (an IP literal without {@code sni}). */
        public String serverName() {
            return serverName;
        }

        /**
         * Why a handshake failed, in a few words for the log line of the request or check it failed:
         *
         * <pre>
         * certificate verify failed: not issued by a CA in certs/ca.pem
         * certificate verify failed: the certificate has expired
         * hostname mismatch: the certificate does not name localhost
         * the backend closed the connection during the handshake
         * Received fatal alert: protocol_version
         * </pre>
         */
        public String describe(Throwable cause) {
            String trusted = settings.ca() != null ? "a CA in " + settings.ca() : "a CA of the JDK's trust store";
            CertificateException certificate = null;
            for (Throwable t = cause; t != null && t.getCause() != t; t = t.getCause()) {
                if (t instanceof CertificateExpiredException) {
                    return "certificate verify failed: the certificate has expired";
                }
                if (t instanceof CertificateNotYetValidException) {
                    return "certificate verify failed: the certificate is not valid yet";
                }
                if (t instanceof CertPathBuilderException || t instanceof CertPathValidatorException) {
                    return "certificate verify failed: not issued by " + trusted;
                }
                if (t instanceof CertificateException c && certificate == null) {
                    certificate = c;
                }
            }
            if (certificate != null) {
                String m = String.valueOf(certificate.getMessage()).toLowerCase(Locale.ROOT);
                if (m.contains("matching") || m.contains("no subject alternative")) {
                    return "hostname mismatch: the certificate does not name " + peerHost;
                }
                return "certificate verify failed: " + certificate.getMessage();
            }
            Throwable root = cause;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            if (root instanceof ClosedChannelException || String.valueOf(root.getMessage()).contains("closed")) {
                return "the backend closed the connection during the handshake";
            }
            return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        }

        /** The handshake's failure as the call and the pool see it: a connect that failed, with its reason. */
        public HandshakeFailure failure(Throwable cause) {
            return new HandshakeFailure(describe(cause), cause);
        }
    }

    /** A backend's TLS handshake failed: nothing was sent on the connection. The message says why. */
    public static final class HandshakeFailure extends SSLException {
        HandshakeFailure(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this; // one per failed connect; its message is all anyone reads
        }
    }

    /**
     * The TLS of {@code config}, null for a cleartext backend; its context is made on the first use of its trust.
     *
     * @param key the backend's key ({@code backends[2]}), for the error
     * @throws ConfigException when its {@code ca} file cannot be used
     */
    public synchronized Peer peer(BackendConfig config, String key) {
        BackendConfig.Tls tls = config.tls();
        if (!tls.enabled()) {
            return null;
        }
        Trust trust = new Trust(tls.ca(), tls.verify());
        SslContext context = contexts.get(trust);
        if (context == null) {
            context = build(trust, key + ".ca");
            contexts.put(trust, context);
        }
        return new Peer(context, config);
    }

    private SslContext build(Trust trust, String key) {
        if (provider == null) {
            provider = ServerTls.provider();
        }
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(provider)
                .protocols(TlsConfig.PROTOCOLS)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_1_1));
        if (!trust.verify()) {
            b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
        } else {
            if (trust.ca() != null) {
                b.trustManager(CertificateFiles.trusted(trust.ca(), key));
            }
            b.endpointIdentificationAlgorithm("HTTPS");
        }
        try {
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ConfigException(key, (trust.ca() == null ? "the JDK's trust store" : trust.ca()) + ": "
                    + provider + " cannot use it (" + e.getMessage() + ")");
        }
    }
}
