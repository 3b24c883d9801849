package pibl.tls;

import io.netty.channel.Channel;
import io.netty.util.AsciiString;
import io.netty.util.AttributeKey;

/**
 * What a client connection that arrived over TLS tells the exchanges on it, set once its handshake is done: the
 * protocol version (for the access log), and the {@code Strict-Transport-Security} value its responses carry
 * (null when {@code tls.hsts} is 0). A cleartext connection has none: its requests are {@code http}.
 *
 * @param protocol {@code TLSv1.3} or {@code TLSv1.2}
 * @param hsts     e.g. {@code max-age=31536000}, or null
 */
public record TlsSession(String protocol, AsciiString hsts) {
    private static final AttributeKey<TlsSession> KEY = AttributeKey.valueOf("pibl.tls");

    /** The session of {@code channel}, or of the connection it is a stream of (HTTP/2); null for cleartext. */
    public static TlsSession of(Channel channel) {
        for (Channel c = channel; c != null; c = c.parent()) {
            TlsSession s = c.attr(KEY).get();
            if (s != null) {
                return s;
            }
        }
        return null;
    }

    public void attachTo(Channel channel) {
        channel.attr(KEY).set(this);
    }
}
