package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import pibl.http.StrictHttpServerCodec;

import java.util.List;

/**
 * Decides, at each request head, whether PIBL holds the body or streams it, and holds it when it does:
 *
 * <pre>
 * no body (GET)                                  → FullHttpRequest at once, no buffer to gather nothing into
 * Content-Length ≤ limits.retry-buffer            → gathered whole (Netty's aggregator): a FullHttpRequest,
 *                                                  resendable
 * Content-Length > limits.max-request-body        → refused at the head (413), the body not waited for; with
 *                                                  Expect: 100-continue the client gets 413 instead of 100
 * Content-Length > retry-buffer, or chunked       → streamed: the head, then each part as it is read (100 Continue
 *                                                  from here, at once, if the client expects it)
 * chunked body growing past max-request-body      → the part that crosses it becomes a failed part (413 downstream)
 * </pre>
 *
 * A chunked body streams at once rather than being gathered up to the retry buffer first (Envoy's way): a client
 * that chunks does not know its length, so its bodies are generated uploads, large as often as not, and holding
 * their first MiB would cost every such upload its latency and a MiB of heap for a retry that only the keep-alive
 * race would use, and that a streamed request avoids anyway by going only over connections busy moments ago. That
 * is what nginx ({@code proxy_request_buffering off}) and HAProxy do.
 *
 * <p>A streamed body's parts pass through in order, the failed one and what follows it included, so every segment
 * after this one sees where the body ends. Refusals are never written from here: an oversized or malformed request
 * goes on as a request whose decoder result failed ({@link BodyTooLargeException}: 413), through the same path as
 * every other refusal (pipelining order, access log, {@link RequestGuardHandler}). An HTTP/1.0 request that carries
 * both {@code Content-Length} and {@code Transfer-Encoding} fails like its HTTP/1.1 twin (Netty only checks 1.1).
 */
public final class RequestAggregator extends HttpObjectAggregator {

    /** Marks a request whose body is over {@code limits.max-request-body}. */
    public static final class BodyTooLargeException extends TooLongFrameException {
        BodyTooLargeException(long max) {
            super("request body larger than " + max + " bytes");
        }
    }

    private final long maxRequestBody;
    private boolean skipEmptyLast;
    /** The current request's body streams: its parts pass through, counted. */
    private boolean streaming;
    private long streamedBytes;
    /** The streamed body was refused (at its head, or when it grew past the limit): the rest passes uncounted. */
    private boolean refused;

    /**
     * @param maxRequestBody the hard limit on any request body
     * @param retryBuffer    bodies whose Content-Length is at most this are gathered whole
     */
    public RequestAggregator(long maxRequestBody, int retryBuffer) {
        super(retryBuffer);
        this.maxRequestBody = maxRequestBody;
    }

    /** Also the parts of a streamed body, and the empty last part that follows a bodyless request already passed on. */
    @Override
    public boolean acceptInboundMessage(Object msg) throws Exception {
        return (skipEmptyLast && msg instanceof LastHttpContent) || (streaming && msg instanceof HttpContent)
                || super.acceptInboundMessage(msg);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, HttpObject msg, List<Object> out) throws Exception {
        if (skipEmptyLast && msg instanceof LastHttpContent last && !last.content().isReadable()
                && last.trailingHeaders().isEmpty()) {
            skipEmptyLast = false; // the end of a bodyless request already passed on
            return;
        }
        skipEmptyLast = false;
        if (streaming && msg instanceof HttpContent part) {
            passOn(part, out);
            return;
        }
        if (msg instanceof HttpRequest request && !(msg instanceof FullHttpRequest)
                && request.decoderResult().isSuccess() && decideAtHead(ctx, request, out)) {
            return;
        }
        super.decode(ctx, msg, out);
    }

    /** True if the head was dealt with here; false to let Netty's aggregator gather the body (or fail the head). */
    private boolean decideAtHead(ChannelHandlerContext ctx, HttpRequest request, List<Object> out) {
        HttpHeaders h = request.headers();
        boolean chunked = h.contains(HttpHeaderNames.TRANSFER_ENCODING);
        String length = h.get(HttpHeaderNames.CONTENT_LENGTH);
        if (chunked && length != null) {
            request.setDecoderResult(DecoderResult.failure(new StrictHttpServerCodec.AmbiguousLengthException()));
            return false;
        }
        if (!chunked && (length == null || "0".equals(length))) {
            // Most requests (GET, HEAD) have no body: no composite buffer to gather nothing into.
            out.add(new DefaultFullHttpRequest(request.protocolVersion(), request.method(), request.uri(),
                    Unpooled.EMPTY_BUFFER, h, EmptyHttpHeaders.INSTANCE));
            skipEmptyLast = true;
            return true;
        }
        long declared = chunked ? -1 : HttpUtil.getContentLength(request, -1L);
        if (!chunked && declared <= maxContentLength()) {
            return false; // small enough to hold: resendable
        }
        streaming = true;
        streamedBytes = 0;
        refused = declared > maxRequestBody;
        if (refused) { // its parts, if the client sends them anyway, pass on to be dropped
            out.add(failedHead(request));
            return true;
        }
        if (HttpUtil.is100ContinueExpected(request)) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
        out.add(request);
        return true;
    }

    private void passOn(HttpContent part, List<Object> out) {
        boolean last = part instanceof LastHttpContent;
        if (last) {
            streaming = false;
        }
        if (!refused) {
            streamedBytes += part.content().readableBytes();
            if (streamedBytes > maxRequestBody) {
                refused = !last;
                HttpContent failed = last ? new DefaultLastHttpContent()
                        : new DefaultHttpContent(Unpooled.EMPTY_BUFFER);
                failed.setDecoderResult(DecoderResult.failure(new BodyTooLargeException(maxRequestBody)));
                out.add(failed);
                return;
            }
        } else if (last) {
            refused = false;
        }
        out.add(part.retain());
    }

    private HttpRequest failedHead(HttpRequest request) {
        HttpRequest failed = new DefaultHttpRequest(request.protocolVersion(), request.method(), request.uri(),
                request.headers());
        failed.setDecoderResult(DecoderResult.failure(new BodyTooLargeException(maxRequestBody)));
        return failed;
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
            failed.setDecoderResult(DecoderResult.failure(new BodyTooLargeException(maxRequestBody)));
            ctx.fireChannelRead(failed);
        } else {
            ctx.close();
        }
    }
}
