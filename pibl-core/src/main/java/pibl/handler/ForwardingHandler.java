package pibl.handler;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import pibl.http.ProxyHeaders;
import pibl.lb.Backend;
import pibl.upstream.NoBackendException;
import pibl.upstream.ResponseSink;
import pibl.upstream.Upstream;
import pibl.upstream.UpstreamCall;
import pibl.upstream.UpstreamTimeoutException;

/**
 * The last handler of a client connection: sends each request to a backend through the
 * {@link Upstream} and streams the response back as it arrives, never holding a whole body.
 *
 * <pre>
 * client:   GET /a HTTP/1.0  Connection: keep-alive
 * backend:  GET /a HTTP/1.1  (hop-by-hop gone, X-Forwarded-*, Via: 1.0 pibl)
 * backend answers chunked, no Content-Length
 * client:   HTTP/1.1 200, no framing header, Connection: close   (a 1.0 client cannot read chunks)
 * </pre>
 *
 * Backpressure: when the client socket's buffer is full, reading from the backend pauses until it
 * drains, so a slow client costs a socket buffer, not a response in memory.
 */
public final class ForwardingHandler extends ChannelInboundHandlerAdapter implements ResponseSink {
    private static final org.apache.logging.log4j.Logger LOG =
            org.apache.logging.log4j.LogManager.getLogger(ForwardingHandler.class);
    private final Upstream upstream;
    private ChannelHandlerContext ctx;
    private UpstreamCall call;
    private HttpVersion clientVersion;
    private boolean clientKeepAlive;
    private boolean headRequest;

    public ForwardingHandler(Upstream upstream) {
        this.upstream = upstream;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        clientVersion = request.protocolVersion();
        clientKeepAlive = HttpUtil.isKeepAlive(request);
        headRequest = request.method().equals(HttpMethod.HEAD);
        Exchange exchange = Exchange.current(ctx.channel());
        ProxyHeaders.toBackend(request, exchange != null ? exchange.clientAddress() : "unknown");
        call = upstream.send(ctx.channel().eventLoop(), request, this);
    }

    @Override
    public void onResponse(HttpResponse head, Backend backend) {
        Exchange exchange = Exchange.current(ctx.channel());
        if (exchange != null) {
            exchange.backend(backend.label());
        }
        HttpHeaders h = head.headers();
        ProxyHeaders.stripHopByHop(h); // also drops Transfer-Encoding: the framing below is ours
        ProxyHeaders.appendVia(h, head.protocolVersion());
        int code = head.status().code();
        boolean bodiless = headRequest || code == 204 || code == 304;
        boolean close = !clientKeepAlive;
        if (!bodiless && !HttpUtil.isContentLengthSet(head)) {
            if (clientVersion.equals(HttpVersion.HTTP_1_1)) {
                HttpUtil.setTransferEncodingChunked(head, true);
            } else {
                close = true; // HTTP/1.0: the end of the body is the end of the connection
            }
        }
        if (close) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (clientVersion.equals(HttpVersion.HTTP_1_0)) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        head.setProtocolVersion(HttpVersion.HTTP_1_1);
        ctx.write(head, ctx.voidPromise());
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
            UpstreamCall c = call;
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
    public void onError(Throwable cause, boolean responseStarted) {
        call = null;
        if (responseStarted) {
            ctx.close(); // a truncated body must not look complete
            return;
        }
        HttpResponseStatus status = cause instanceof NoBackendException nb && nb.noneInRotation()
                ? HttpResponseStatus.SERVICE_UNAVAILABLE
                : isTimeout(cause) ? HttpResponseStatus.GATEWAY_TIMEOUT : HttpResponseStatus.BAD_GATEWAY;
        ErrorResponses.send(ctx, status, !clientKeepAlive);
    }

    private static boolean isTimeout(Throwable cause) {
        Throwable t = cause instanceof NoBackendException nb && nb.lastFailure() != null ? nb.lastFailure() : cause;
        return t instanceof UpstreamTimeoutException || t instanceof io.netty.channel.ConnectTimeoutException;
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        UpstreamCall c = call;
        if (c != null && ctx.channel().isWritable()) {
            c.resumeReading();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        UpstreamCall c = call;
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
