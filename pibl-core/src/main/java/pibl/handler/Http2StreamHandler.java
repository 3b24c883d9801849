package pibl.handler;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.stream.ChunkedWriteHandler;

/**
 * One HTTP/2 stream, one exchange: what {@link PipeliningHandler} is to an HTTP/1.1 connection, for a stream
 * channel (an {@code Http2StreamChannel}, after {@code Http2StreamFrameToHttpObjectCodec}). There is nothing to
 * order or hold, since the stream carries one request; what is left is to make the request look like what it is
 * and to finish the response head for HTTP/2.
 *
 * <pre>
 * HEADERS :method GET :path /a :authority shop.example   → GET /a HTTP/2.0, Host: shop.example (the codec's
 *                                                          x-http2-* bookkeeping fields removed: they are not
 *                                                          the client's and must not reach a backend)
 * backend HTTP/1.1 200, Transfer-Encoding: chunked,      → HEADERS :status 200, Via: 1.1 pibl, X-Cache: MISS
 *   Connection: keep-alive                                 (no connection fields: {@link ResponseHeads#http2})
 * a cached file body (a FileRegion)                      → DATA frames, one part at a time ({@link RegionChunks},
 *                                                          through a ChunkedWriteHandler added for it)
 * response done, request body still arriving, close      → RST_STREAM after the response (RFC 9113 section 8.1:
 *   asked ({@link Exchange#requestClose()})                the client stops sending; the connection stays)
 * </pre>
 *
 * The connection's concerns (idle, drain, floods) are {@link Http2ConnectionGuard}'s; the stream's lifetime is
 * the codec's (a RST_STREAM from the client closes the stream channel: the access log says 499).
 */
public final class Http2StreamHandler extends ChannelDuplexHandler {
    /** The version an HTTP/2 request is given here: the access log prints it, {@code Via} names it. */
    public static final HttpVersion HTTP_2 = HttpVersion.valueOf("HTTP/2.0");

    /** The name of the stream's frame codec, which {@link #CHUNKED} goes right after. */
    public static final String CODEC = "h2-codec";
    /**
     * The {@code ChunkedWriteHandler} that pulls a file body's parts, added to a stream's pipeline only when it
     * has one to send: it queues every write that passes it, and most streams are served from memory.
     */
    static final String CHUNKED = "chunked";

    private final CharSequence privateField;
    /** The request's body is still arriving (its END_STREAM has not come). */
    private boolean bodyPending;

    /** @param privateField see {@link ResponseHeads#endToEnd}; null for none */
    public Http2StreamHandler(CharSequence privateField) {
        this.privateField = privateField;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            request.setProtocolVersion(HTTP_2);
            request.headers().remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
            request.headers().remove(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text());
            bodyPending = !(request instanceof FullHttpRequest);
        } else if (msg instanceof LastHttpContent) {
            bodyPending = false;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse head) {
            ResponseHeads.http2(head, Exchange.current(ctx.channel()), privateField);
        }
        if (msg instanceof FileRegion region) {
            if (ctx.pipeline().get(CHUNKED) == null) {
                ctx.pipeline().addAfter(CODEC, CHUNKED, new ChunkedWriteHandler());
            }
            ctx.write(new RegionChunks(region), promise);
            return;
        }
        if (msg instanceof LastHttpContent && !ResponseHeads.isInterim(msg) && bodyPending) {
            Exchange ex = Exchange.current(ctx.channel());
            if (ex != null && ex.closeRequested()) {
                ctx.write(msg, promise.unvoid()).addListener(ChannelFutureListener.CLOSE);
                return;
            }
        }
        ctx.write(msg, promise);
    }
}
