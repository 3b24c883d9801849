package pibl.server;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SniHandler;
import io.netty.util.AsciiString;
import pibl.config.PiblConfig;
import pibl.tls.TlsContexts;

/**
 * The TLS listener's pipeline: the cleartext one's, with the handshake in front.
 *
 * <pre>
 * limit → sni (→ ssl) → alpn → [what ALPN chose: {@link #addNegotiated}] codec → … → forward
 * </pre>
 *
 * {@code sni} reads the ClientHello, picks the certificate (SAN names, exact then wildcard, default the first)
 * from the contexts in force when the connection arrived, and replaces itself with the {@code SslHandler};
 * {@code alpn} ({@link TlsHandshakeHandler}) waits for the handshake, counts it, and hands the connection to
 * {@link #addNegotiated}.
 */
final class TlsChannelInitializer extends ProxyChannelInitializer {
    /** Bytes; today's largest (post-quantum key shares, many extensions) are a few KiB. */
    static final int MAX_CLIENT_HELLO = 32 * 1024;

    private final TlsContexts contexts;

    TlsChannelInitializer(ProxyChannelInitializer cleartext, TlsContexts contexts) {
        super(cleartext);
        this.contexts = contexts;
    }

    @Override
    void addConnectionHandlers(ChannelPipeline p, PiblConfig config) {
        super.addConnectionHandlers(p, config);
        // The ClientHello must arrive as fast as a request head must (slowloris before the handshake), and be no
        // larger than MAX_CLIENT_HELLO: Netty would otherwise buffer up to 16 MiB of one before deciding.
        p.addLast("sni", new SniHandler(contexts.current().sni(), MAX_CLIENT_HELLO,
                config.timeouts().clientHeader().toMillis()));
        p.addLast("alpn", new TlsHandshakeHandler(this, config, stats, hsts(config)));
    }

    @Override
    void addProtocolHandlers(ChannelPipeline p, PiblConfig config) {
        // nothing yet: the handshake decides (addNegotiated)
    }

    @Override
    boolean secure() {
        return true;
    }

    /**
     * The protocol ALPN agreed on ({@code http/1.1} when the client offered none). Each protocol of
     * {@link pibl.tls.ServerTls#alpn} has its branch here.
     *
     * @return false for a protocol PIBL did not offer (the connection is then closed)
     */
    boolean addNegotiated(ChannelPipeline p, PiblConfig config, String protocol) {
        switch (protocol) {
            case ApplicationProtocolNames.HTTP_1_1 -> addHttp1(p, config);
            case ApplicationProtocolNames.HTTP_2 -> {
                if (!config.http2().enabled()) {
                    return false; // offered before a reload turned it off
                }
                addHttp2(p);
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private static AsciiString hsts(PiblConfig config) {
        long seconds = config.tls().hsts().toSeconds();
        return seconds <= 0 ? null : AsciiString.cached("max-age=" + seconds);
    }
}
