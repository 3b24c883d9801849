package pibl.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.util.Date;

/**
 * Turns a {@link Reply} into Netty messages on the wire, applying the rules every response shares.
 *
 * <pre>
 *   Reply(200, Pattern(3))   GET  --&gt;  HTTP/1.1 200 OK             then 3 pattern bytes, streamed
 *                                     content-length: 3
 *                                     date: Tue, 01 Jul 2025 10:00:00 GMT
 *                                     x-backend: backend-1
 *                            HEAD --&gt;  the same head, no body
 * </pre>
 *
 * <ul>
 *   <li>{@code Date} and {@code X-Backend} on every response;</li>
 *   <li>{@code Content-Length} from the body, unless the body is chunked or the status forbids a body
 *       (1xx, 204, 304);</li>
 *   <li>{@code HEAD}: the head a {@code GET} would get, including its {@code Content-Length}, and nothing
 *       after it;</li>
 *   <li>{@code Connection: close} when the connection ends after this response, {@code Connection: keep-alive} for a
 *       persistent HTTP/1.0 client; an HTTP/1.0 client cannot read chunked coding, so a chunked body is sent to it
 *       unframed and delimited by closing the connection.</li>
 * </ul>
 * Streamed bodies go through {@link io.netty.handler.stream.ChunkedWriteHandler}, which writes chunks only while the
 * channel is writable.
 */
final class ReplyWriter {

    private static final String X_BACKEND = "X-Backend";

    private final String backendName;

    ReplyWriter(String backendName) {
        this.backendName = backendName;
    }

    /** Whether the connection may stay open after {@code reply} answers {@code request}. */
    static boolean keepAlive(HttpRequest request, Reply reply) {
        if (reply.close() || !HttpUtil.isKeepAlive(request)) {
            return false;
        }
        boolean http10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
        boolean head = HttpMethod.HEAD.equals(request.method());
        return !(http10 && reply.chunked() && !head && bodyAllowed(reply.status()));
    }

    /** The body bytes {@code reply} puts on the wire, for the access log. */
    static long bodyLength(Reply reply, boolean head) {
        return head || !bodyAllowed(reply.status()) ? 0 : reply.body().length();
    }

    /**
     * Writes and flushes {@code reply}.
     *
     * @param head      whether the request was {@code HEAD}
     * @param keepAlive the result of {@link #keepAlive} for this exchange
     * @param http10    whether the client spoke HTTP/1.0
     * @return the future of the last write: done when the whole response has been handed to the socket
     */
    ChannelFuture write(ChannelHandlerContext ctx, Reply reply, boolean head, boolean keepAlive, boolean http10) {
        HttpResponseStatus status = reply.status();
        HttpHeaders headers = reply.headers();
        headers.set(HttpHeaderNames.DATE, DateFormatter.format(new Date()));
        headers.set(X_BACKEND, backendName);
        if (!keepAlive) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        boolean bodyAllowed = bodyAllowed(status);
        if (reply.chunked() && http10) {
            // HTTP/1.0 has no chunked coding: send the body as is and let the close delimit it (see keepAlive).
            headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
        } else if (bodyAllowed && !reply.chunked()) {
            headers.set(HttpHeaderNames.CONTENT_LENGTH, reply.body().length());
        }
        if (head || !bodyAllowed) {
            return ctx.writeAndFlush(full(status, headers, Unpooled.EMPTY_BUFFER));
        }
        if (reply.body() instanceof Reply.Fixed fixed) {
            return ctx.writeAndFlush(full(status, headers, Unpooled.wrappedBuffer(fixed.bytes())));
        }
        ctx.write(new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, headers));
        return ctx.writeAndFlush(new HttpChunkedInput(new PatternBytes(reply.body().length())));
    }

    private static DefaultFullHttpResponse full(HttpResponseStatus status, HttpHeaders headers, ByteBuf content) {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content, headers, new DefaultHttpHeaders());
    }

    /** Whether a response with this status may carry a body at all (RFC 9110 sections 15.2, 15.3.5, 15.4.5). */
    static boolean bodyAllowed(HttpResponseStatus status) {
        int code = status.code();
        return code >= 200 && code != 204 && code != 304;
    }
}
