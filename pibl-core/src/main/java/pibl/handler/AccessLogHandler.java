package pibl.handler;

import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.cache.CacheStatus;
import pibl.config.LogConfig;
import io.netty.util.concurrent.EventExecutor;
import pibl.runtime.ProxyStats;
import pibl.tls.TlsSession;
import pibl.tunnel.Tunnel;

/**
 * One line per exchange on the {@code pibl.access} logger (its appenders: stdout and the log file, asynchronous).
 * Inbound it opens the {@link Exchange} of each request and keeps it on the channel; outbound it watches the
 * response go by (status, body bytes) and writes the line when the last part is written. A connection closed
 * before any response head was written is logged with status 499, as nginx does; one closed mid-body with the
 * status sent and the bytes written so far. An exchange that becomes a tunnel (a WebSocket upgrade) is logged once,
 * when the tunnel closes: status 101, the bytes each way, and the time from the request to the close.
 *
 * <p>At DEBUG, logger {@code pibl.http} also shows the request and response headers. Works on any channel that
 * carries one exchange at a time (an HTTP/1.1 connection behind {@link PipeliningHandler}, or an HTTP/2 stream);
 * time is read from the channel's executor.
 */
public final class AccessLogHandler extends ChannelDuplexHandler {
    private static final Logger ACCESS = LogManager.getLogger("pibl.access");
    private static final Logger HTTP = LogManager.getLogger("pibl.http");

    private final AccessLogFormat format;
    private final ProxyStats stats;
    private final boolean generateTrace;
    private ChannelHandlerContext ctx;
    private Exchange current;
    private String clientAddress;
    /** The connection's TLS session, read with the address: null for cleartext. */
    private TlsSession tls;

    public AccessLogHandler(LogConfig.Format format, ProxyStats stats) {
        this(format, stats, LogConfig.TraceContext.PROPAGATE);
    }

    /** @param traceContext whether an exchange without {@code traceparent} starts a trace */
    public AccessLogHandler(LogConfig.Format format, ProxyStats stats, LogConfig.TraceContext traceContext) {
        this.format = new AccessLogFormat(format);
        this.stats = stats;
        this.generateTrace = traceContext == LogConfig.TraceContext.GENERATE;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            if (clientAddress == null) { // formatted once per connection, not once per request
                if (ctx.channel() instanceof Http2StreamChannel stream) { // this handler lives as long as the stream
                    Peer peer = Peer.of(stream.parent());
                    clientAddress = peer.address;
                    tls = peer.tls;
                } else {
                    clientAddress = Exchange.clientAddress(ctx.channel().remoteAddress());
                    tls = TlsSession.of(ctx.channel());
                }
            }
            current = new Exchange(request, clientAddress, tls, ctx.executor().ticker().nanoTime(), generateTrace);
            ctx.channel().attr(Exchange.KEY).set(current);
            if (HTTP.isDebugEnabled()) {
                HTTP.debug("{} request {} {} {}\n{}", current.clientAddress, request.method(), request.uri(),
                        request.protocolVersion(), request.headers());
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        Exchange e = current;
        boolean last = false;
        if (e != null) {
            if (msg instanceof HttpResponse response && response.status().code() >= 200) {
                e.status = response.status().code();
                stats.firstByte(ctx.executor().ticker().nanoTime() - e.startNanos);
                if (HTTP.isDebugEnabled()) {
                    HTTP.debug("{} response {} for {} {}\n{}", e.clientAddress, response.status(), e.method, e.uri,
                            response.headers());
                }
            }
            if (msg instanceof ByteBufHolder holder) {
                e.bytes += holder.content().readableBytes();
            } else if (msg instanceof FileRegion region) {
                e.bytes += region.count();
            }
            last = msg instanceof LastHttpContent && !ResponseHeads.isInterim(msg);
        }
        ctx.write(msg, promise);
        if (last) { // after the write: the handlers closer to the socket still see the exchange as current
            finish(ctx, e);
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /**
     * The current exchange became a tunnel and this handler leaves the pipeline: the line is the tunnel's to
     * write, when it closes ({@code 101}, bytes to the client as the body bytes, and from it).
     */
    Tunnel.Closed tunnelLine() {
        Exchange e = current;
        current = null;
        ctx.channel().attr(Exchange.KEY).set(null);
        if (e == null) {
            return (fromClient, toClient) -> { };
        }
        EventExecutor executor = ctx.executor();
        return (fromClient, toClient) -> {
            e.status = 101;
            e.bytes = toClient;
            e.tunnelBytesUp = fromClient;
            log(e, executor.ticker().nanoTime());
        };
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Exchange e = current;
        if (e != null) {
            if (e.status == 0) {
                e.status = 499;
            }
            finish(ctx, e);
        }
        ctx.fireChannelInactive();
    }

    private void finish(ChannelHandlerContext ctx, Exchange e) {
        current = null;
        ctx.channel().attr(Exchange.KEY).set(null);
        log(e, ctx.executor().ticker().nanoTime());
    }

    private void log(Exchange e, long end) {
        if (e.isPeerCheck()) {
            return;
        }
        CacheStatus cache = e.cacheStatus();
        stats.exchangeEnded(e.status, cache == null ? 0 : 1 + cache.ordinal(), end - e.startNanos);
        if (e.refused()) {
            stats.requestRefused(e.status);
        }
        ACCESS.info(format.line(e, end)); // copied into the ring buffer's event at once
    }

    /** An HTTP/2 connection's client address and TLS session, read once for all of its streams. */
    private record Peer(String address, TlsSession tls) {
        private static final AttributeKey<Peer> KEY = AttributeKey.valueOf("pibl.access-log.peer");

        static Peer of(Channel connection) {
            Attribute<Peer> attr = connection.attr(KEY);
            Peer peer = attr.get();
            if (peer == null) { // streams of a connection start on its loop, one at a time
                peer = new Peer(Exchange.clientAddress(connection.remoteAddress()), TlsSession.of(connection));
                attr.set(peer);
            }
            return peer;
        }
    }
}
