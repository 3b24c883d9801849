package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.lb.Backend;
import pibl.config.TimeoutConfig;
import pibl.runtime.ProxyStats;
import pibl.upstream.Call;
import pibl.upstream.Upgraded;
import pibl.upstream.ResponseSink;
import pibl.upstream.UpstreamException;

/**
 * The last segment of a client pipeline: sends each request to a backend through the {@link Forwarder} and
 * streams the response back as it arrives, never holding a whole body.
 *
 * <pre>
 * client:   GET /a HTTP/1.0  Connection: keep-alive
 * backend:  GET /a HTTP/1.1  (hop-by-hop gone, X-Forwarded-*, Via: 1.0 pibl)
 * backend answers chunked, no Content-Length
 * this segment writes the end-to-end head and the parts; {@link ResponseHeads} frames them for the client
 * </pre>
 *
 * Backpressure, both ways: when the channel stops being writable, reading from the backend pauses until it drains,
 * so a slow client costs a socket buffer, not a response in memory; and while a streamed request body (a head
 * that is not a {@code FullHttpRequest}, its parts following) cannot go to the backend, reading the client pauses.
 *
 * <pre>
 * PUT /big, Content-Length: 1 GiB    head forwarded, parts written as read: nothing holds the body
 * backend answers 413 after 1 MiB    relayed with Connection: close; the backend connection is reset (it is
 *                                    mid-request) and the rest of the body is read only to be dropped
 * chunked body past the limit         backend connection reset; 413 if no response started, else the connection closes
 * backend fails mid-body              502, the connection closed: the rest of the body is unread
 * </pre>
 *
 * A WebSocket handshake the backend accepts ({@code 101}) ends the exchange as a tunnel ({@link TunnelSwitch}):
 * this segment, and every other HTTP one, leaves the pipeline.
 *
 * <p>Needs nothing of the channel but its event loop, writability, {@code autoRead} and {@link Exchange}: an HTTP/2
 * stream channel can host it.
 */
public final class ForwardingHandler extends ChannelInboundHandlerAdapter implements ResponseSink {
    private static final Logger LOG = LogManager.getLogger(ForwardingHandler.class);

    private final Forwarder forwarder;
    private final TunnelSwitch.Settings tunnels;
    private ChannelHandlerContext ctx;
    private Call call;
    /** The current request's body is still arriving, part by part, and goes to {@link #call} (streamed). */
    private boolean bodyPending;
    /** A response head went to the client for the current request. */
    private boolean answered;

    /** Tunnels counted nowhere, and idle for at most the default {@code timeouts.tunnel-idle}. */
    public ForwardingHandler(Forwarder forwarder) {
        this(forwarder, new ProxyStats(), TimeoutConfig.DEFAULT_TUNNEL_IDLE.toNanos());
    }

    /** Tunnels counted in {@code stats}, closed after {@code tunnelIdleNanos} without a byte either way. */
    public ForwardingHandler(Forwarder forwarder, ProxyStats stats, long tunnelIdleNanos) {
        this.forwarder = forwarder;
        this.tunnels = new TunnelSwitch.Settings(stats, tunnelIdleNanos);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            answered = false;
            bodyPending = !(request instanceof FullHttpRequest);
            call = forwarder.send(ctx.channel().eventLoop(), Exchange.current(ctx.channel()), request, this);
        } else if (msg instanceof HttpContent part) {
            onBodyPart(part);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    /** A part of a streamed body; after the call ended (or for a request answered elsewhere), dropped. */
    private void onBodyPart(HttpContent part) {
        if (!bodyPending) {
            part.release(); // the body of a refused request, or the rest after a failure
            return;
        }
        if (part.decoderResult().isFailure()) {
            Throwable cause = part.decoderResult().cause();
            part.release();
            failBody(cause);
            return;
        }
        if (part instanceof LastHttpContent) {
            bodyPending = false;
        }
        Call c = call;
        if (c != null) {
            c.sendBody(part);
        } else {
            part.release(); // the backend answered already
        }
    }

    /** The client's body cannot be read on (too large, or malformed): the backend must see the request aborted. */
    private void failBody(Throwable cause) {
        bodyPending = false;
        Call c = call;
        call = null;
        if (c != null) {
            c.abort();
        }
        if (answered) {
            ctx.close();
            return;
        }
        Exchange exchange = Exchange.current(ctx.channel());
        if (exchange != null) {
            exchange.requestClose();
        }
        LOG.debug("{} request body refused: {}", ctx.channel().remoteAddress(), cause.toString());
        ErrorResponses.send(ctx, cause instanceof RequestAggregator.BodyTooLargeException
                ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE : HttpResponseStatus.BAD_REQUEST);
    }

    @Override
    public void onResponse(HttpResponse head, Backend backend) {
        Exchange exchange = Exchange.current(ctx.channel());
        if (exchange != null) {
            exchange.backend(backend.label());
            if (bodyPending) {
                exchange.requestClose(); // the rest of the body must not be read as the next request
            }
        }
        answered = true;
        ctx.write(head, ctx.voidPromise());
    }

    @Override
    public void onUpgrade(HttpResponse head, Backend backend, Upgraded upgraded) {
        call = null;
        Exchange exchange = Exchange.current(ctx.channel());
        if (exchange != null) {
            exchange.backend(backend.label());
        }
        if (!TunnelSwitch.open(ctx, head, upgraded, tunnels)) {
            ErrorResponses.send(ctx, HttpResponseStatus.BAD_GATEWAY);
        }
    }

    /**
     * Relayed at once, as RFC 9110 15.2 asks of a proxy, but not to an HTTP/1.0 client, which cannot expect one
     * (an HTTP/2 stream gets it as a HEADERS frame).
     * Written as a complete message so the codec frames it; {@link ResponseHeads#isInterim} keeps the segments
     * from taking it for the end of the exchange.
     */
    @Override
    public void onInterim(HttpResponse interim) {
        Exchange exchange = Exchange.current(ctx.channel());
        if (exchange != null && !HttpVersion.HTTP_1_0.equals(exchange.version())) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, interim.status(), Unpooled.EMPTY_BUFFER,
                    interim.headers(), EmptyHttpHeaders.INSTANCE), ctx.voidPromise());
        }
    }

    @Override
    public void onContent(HttpContent content) {
        if (content instanceof LastHttpContent) {
            call = null;
            ctx.writeAndFlush(content, ctx.voidPromise());
            return;
        }
        ctx.write(content, ctx.voidPromise());
        if (!ctx.channel().isWritable()) {
            ctx.flush();
            Call c = call;
            if (c != null && !ctx.channel().isWritable()) {
                c.pauseReading();
            }
        }
    }

    @Override
    public void flush() {
        ctx.flush();
    }

    @Override
    public void onError(UpstreamException failure, boolean responseStarted) {
        call = null;
        if (responseStarted) {
            ctx.close(); // a truncated body must not look complete
            return;
        }
        Exchange exchange = Exchange.current(ctx.channel());
        if (bodyPending && exchange != null) {
            exchange.requestClose(); // the rest of the body is unread
        }
        ErrorResponses.send(ctx, HttpResponseStatus.valueOf(failure.status()));
    }

    @Override
    public void onBodyWritability(boolean writable) {
        if (bodyPending) {
            ctx.channel().config().setAutoRead(writable);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Call c = call;
        if (c != null && ctx.channel().isWritable()) {
            c.resumeReading();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        bodyPending = false;
        Call c = call;
        if (c != null) {
            call = null;
            c.abort();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Client I/O errors (reset by peer and the like) end the connection; channelInactive cleans up.
        if (LOG.isDebugEnabled()) {
            LOG.debug("client {} connection error: {}", ctx.channel().remoteAddress(), cause.toString());
        }
        ctx.close();
    }
}
