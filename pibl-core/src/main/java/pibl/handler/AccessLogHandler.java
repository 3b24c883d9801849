package pibl.handler;

import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.config.LogConfig;
import io.netty.util.concurrent.EventExecutor;
import pibl.runtime.ProxyStats;
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
    private ChannelHandlerContext ctx;
    private Exchange current;
    private String clientAddress;

    public AccessLogHandler(LogConfig.Format format, ProxyStats stats) {
        this.format = new AccessLogFormat(format);
        this.stats = stats;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            if (clientAddress == null) { // formatted once per connection, not once per request
                clientAddress = Exchange.clientAddress(ctx.channel().remoteAddress());
            }
            current = new Exchange(request, clientAddress, ctx.executor().ticker().nanoTime());
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

    private void log(Exchange e, long endNanos) {
        stats.response(e.status);
        if (e.refused()) {
            stats.requestRefused(e.status);
        }
        ACCESS.info(format.format(e, endNanos));
    }
}
