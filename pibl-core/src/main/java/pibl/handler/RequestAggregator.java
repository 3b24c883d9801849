package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import pibl.http.StrictHttpServerCodec;

import java.util.List;

/**
 * Netty's request aggregator with two changes, so that every refusal goes through the same
 * path (pipelining order, access log, {@link RequestGuardHandler}) instead of being written from
 * the middle of the pipeline:
 * <ul>
 *   <li>a request without a body becomes a {@code FullHttpRequest} at once, without the composite
 *       buffer Netty would allocate to gather nothing;</li>
 *   <li>an oversized body becomes a request whose decoder result fails with
 *       {@link BodyTooLargeException} (answered 413), not a response written here;</li>
 *   <li>an HTTP/1.0 request that carries both {@code Content-Length} and
 *       {@code Transfer-Encoding} fails like its HTTP/1.1 twin (Netty only checks 1.1).</li>
 * </ul>
 */
public final class RequestAggregator extends HttpObjectAggregator {

    /** Marks a request whose body is over {@code limits.max-request-body}. */
    public static final class BodyTooLargeException extends TooLongFrameException {
        BodyTooLargeException(int max) {
            super("request body larger than " + max + " bytes");
        }
    }

    public RequestAggregator(int maxContentLength) {
        super(maxContentLength);
    }

    private boolean skipEmptyLast;

    /** Also the empty last part that follows a bodyless request already passed on (Netty's own would let it by). */
    @Override
    public boolean acceptInboundMessage(Object msg) throws Exception {
        return (skipEmptyLast && msg instanceof LastHttpContent) || super.acceptInboundMessage(msg);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, HttpObject msg, List<Object> out) throws Exception {
        if (skipEmptyLast && msg instanceof LastHttpContent last && !last.content().isReadable()
                && last.trailingHeaders().isEmpty()) {
            skipEmptyLast = false; // the end of a bodyless request already passed on
            return;
        }
        skipEmptyLast = false;
        if (msg instanceof HttpRequest request && !(msg instanceof FullHttpRequest)
                && request.decoderResult().isSuccess()) {
            HttpHeaders h = request.headers();
            boolean chunked = h.contains(HttpHeaderNames.TRANSFER_ENCODING);
            String length = h.get(HttpHeaderNames.CONTENT_LENGTH);
            if (chunked && length != null) {
                request.setDecoderResult(DecoderResult.failure(new StrictHttpServerCodec.AmbiguousLengthException()));
            } else if (!chunked && (length == null || "0".equals(length))) {
                // Most requests (GET, HEAD) have no body: no composite buffer to gather nothing into.
                out.add(new DefaultFullHttpRequest(request.protocolVersion(), request.method(), request.uri(),
                        Unpooled.EMPTY_BUFFER, h, EmptyHttpHeaders.INSTANCE));
                skipEmptyLast = true;
                return;
            }
        }
        super.decode(ctx, msg, out);
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object response = super.newContinueResponse(start, maxContentLength, pipeline);
        if (response instanceof HttpResponse r && r.status().code() != 100) {
            // Too large: let handleOversizedMessage report it like any other oversized request.
            ReferenceCountUtil.release(response);
            return null;
        }
        return response;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        if (oversized instanceof HttpRequest request) {
            DefaultFullHttpRequest failed = new DefaultFullHttpRequest(request.protocolVersion(), request.method(),
                    request.uri(), Unpooled.EMPTY_BUFFER, request.headers(), EmptyHttpHeaders.INSTANCE);
            failed.setDecoderResult(DecoderResult.failure(new BodyTooLargeException(maxContentLength())));
            ctx.fireChannelRead(failed);
        } else {
            ctx.close();
        }
    }
}
