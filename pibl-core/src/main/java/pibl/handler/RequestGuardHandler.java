package pibl.handler;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.http.RequestLine;

import java.util.List;

/**
 * Lets through only requests PIBL can forward safely; answers the rest itself.
 *
 * <pre>
 * GET /x HTTP/1.1 + Content-Length + Transfer-Encoding  → 400, connection closed, never forwarded
 * request line over limits.max-initial-line            → 414, closed
 * header section over limits.max-header-size            → 431, closed
 * body over limits.max-request-body                     → 413, closed
 * head not complete within timeouts.client-header       → 408, closed
 * a request line RequestLine refuses (version, target)  → 400, closed
 * HTTP/2.0 and any other major version in an HTTP/1.1
 *   request line (and the h2 preface, http2.enabled off) → 505, closed: nothing is forwarded
 * HTTP/1.1 without Host, two Host lines, a Host that is
 *   not uri-host[:port]                                 → 400, closed (RFC 9112 section 3.2)
 * GET http://shop.example/a HTTP/1.1 (absolute-form)    → forwarded as GET /a, Host: shop.example (the Host
 *                                                         line it came with is ignored, RFC 9112 section 3.2.2)
 * CONNECT                                               → 405 (PIBL is no tunnel), connection kept
 * </pre>
 *
 * A refused framing error always asks for the connection to close: what follows on it cannot be trusted to
 * start a new request. Every refusal is one access line and one count in {@code /status} ({@code refused}). Works
 * on request heads ({@link FullHttpRequest}s, and the heads of streamed bodies) and the {@link Exchange}, whatever
 * the channel.
 */
@ChannelHandler.Sharable
public final class RequestGuardHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LogManager.getLogger(RequestGuardHandler.class);

    public static final RequestGuardHandler INSTANCE = new RequestGuardHandler();

    private RequestGuardHandler() {
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        HttpResponseStatus refusal = refusal(request);
        if (refusal == null) {
            toOriginForm(request);
            ctx.fireChannelRead(msg);
            return;
        }
        DecoderResult result = request.decoderResult();
        if (result.isFailure() && LOG.isDebugEnabled()) {
            LOG.debug("{} refused with {}: {}", ctx.channel().remoteAddress(), refusal.code(), result.cause().toString());
        }
        ReferenceCountUtil.release(request); // a streamed head's parts, if any, are dropped by the forward segment
        Exchange exchange = Exchange.current(ctx.channel());
        if (exchange != null) {
            exchange.refuse();
            if (refusal.code() != 405) {
                exchange.requestClose();
            }
        }
        ErrorResponses.send(ctx, refusal);
    }

    static HttpResponseStatus refusal(HttpRequest request) {
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            Throwable cause = result.cause();
            if (cause instanceof RequestAggregator.BodyTooLargeException) {
                return HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
            }
            if (cause instanceof TooLongHttpLineException) {
                return HttpResponseStatus.REQUEST_URI_TOO_LONG;
            }
            if (cause instanceof TooLongHttpHeaderException) {
                return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
            }
            if (cause instanceof HeaderTimeoutHandler.HeadTimeoutException) {
                return HttpResponseStatus.REQUEST_TIMEOUT;
            }
            if (cause instanceof RequestLine.UnsupportedVersionException) {
                return HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED;
            }
            return HttpResponseStatus.BAD_REQUEST;
        }
        List<String> hosts = request.headers().getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1 || hosts.size() == 1 && !RequestLine.isValidHost(hosts.get(0))
                || hosts.isEmpty() && request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            return HttpResponseStatus.BAD_REQUEST;
        }
        try {
            RequestLine.splitAbsolute(request.uri());
        } catch (RequestLine.MalformedException e) {
            return HttpResponseStatus.BAD_REQUEST;
        }
        if (request.method().equals(HttpMethod.CONNECT)) {
            return HttpResponseStatus.METHOD_NOT_ALLOWED;
        }
        return null;
    }

    /** An absolute-form target becomes origin-form, and its authority the {@code Host} (RFC 9112 section 3.2.2). */
    static void toOriginForm(HttpRequest request) {
        String[] split = RequestLine.splitAbsolute(request.uri());
        if (split != null) {
            request.setUri(split[1]);
            request.headers().set(HttpHeaderNames.HOST, split[0]);
        }
    }
}
