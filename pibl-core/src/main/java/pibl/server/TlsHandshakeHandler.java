package pibl.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsciiString;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.config.PiblConfig;
import pibl.runtime.ProxyStats;
import pibl.tls.TlsSession;

import javax.net.ssl.SSLException;

/**
 * Waits for a TLS connection's handshake: on success counts it, records the {@link TlsSession} on the channel
 * and builds the rest of the pipeline for the protocol ALPN agreed on; on failure (cleartext or garbage on the
 * TLS port, no protocol or cipher in common, too slow a ClientHello) counts it, logs one DEBUG line without a
 * stack trace, and closes. Netty's own handler would log such failures as warnings with their traces.
 */
final class TlsHandshakeHandler extends ApplicationProtocolNegotiationHandler {
    private static final Logger LOG = LogManager.getLogger(TlsHandshakeHandler.class);

    private final TlsChannelInitializer pipelines;
    private final PiblConfig config;
    private final ProxyStats stats;
    private final AsciiString hsts;
    private boolean failed;

    TlsHandshakeHandler(TlsChannelInitializer pipelines, PiblConfig config, ProxyStats stats, AsciiString hsts) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.pipelines = pipelines;
        this.config = config;
        this.stats = stats;
        this.hsts = hsts;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        stats.tlsHandshake();
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        new TlsSession(ssl.engine().getSession().getProtocol(), hsts).attachTo(ctx.channel());
        if (!pipelines.addNegotiated(ctx.pipeline(), config, protocol)) {
            LOG.debug("{}: ALPN chose {}, which PIBL did not offer; closed", ctx.channel().remoteAddress(), protocol);
            ctx.close();
        }
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException || cause instanceof SSLException) {
            fail(ctx, cause.getCause() instanceof SSLException ? cause.getCause() : cause);
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    /** Once per connection: the handshake event and the exception that caused it both come here. */
    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        if (!failed) {
            failed = true;
            stats.tlsHandshakeFailed();
            if (LOG.isDebugEnabled()) {
                String why = String.valueOf(cause.getMessage());
                LOG.debug("{}: TLS handshake failed, closed: {}: {}", ctx.channel().remoteAddress(),
                        cause.getClass().getSimpleName(), why.length() > 200 ? why.substring(0, 200) + "…" : why);
            }
        }
        ctx.close();
    }
}
