package pibl.testing;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A JDK TLS client for tests: trusts whatever the server shows (the tests check the certificate themselves),
 * sends the SNI name, ALPN protocols and protocol versions asked for, and completes the handshake before it
 * returns, so a refused handshake is an exception here.
 */
public final class TlsClient {
    private String sni;
    private List<String> alpn = List.of();
    private List<String> protocols = List.of("TLSv1.3", "TLSv1.2");
    private SSLContext context;

    public TlsClient sni(String name) {
        this.sni = name;
        return this;
    }

    public TlsClient alpn(String... offered) {
        this.alpn = List.of(offered);
        return this;
    }

    public TlsClient protocols(String... versions) {
        this.protocols = List.of(versions);
        return this;
    }

    /** Reuses one client context, so that its session cache can resume. */
    public TlsClient context(SSLContext reused) {
        this.context = reused;
        return this;
    }

    public static SSLContext trustingContext() throws GeneralSecurityException {
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return c;
    }

    /** Connects to 127.0.0.1:{@code port} and handshakes. */
    public SSLSocket connect(int port) throws IOException, GeneralSecurityException {
        SSLContext c = context != null ? context : trustingContext();
        SSLSocket socket = (SSLSocket) c.getSocketFactory().createSocket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(10_000);
        SSLParameters p = socket.getSSLParameters();
        p.setProtocols(protocols.toArray(String[]::new));
        if (sni != null) {
            p.setServerNames(List.of(new SNIHostName(sni)));
        }
        if (!alpn.isEmpty()) {
            p.setApplicationProtocols(alpn.toArray(String[]::new));
        }
        socket.setSSLParameters(p);
        socket.startHandshake();
        return socket;
    }

    /** The subject CN of the certificate the server showed. */
    public static String peerName(SSLSocket socket) throws IOException {
        X509Certificate leaf = (X509Certificate) socket.getSession().getPeerCertificates()[0];
        return leaf.getSubjectX500Principal().getName().replaceFirst("^CN=", "");
    }
}
