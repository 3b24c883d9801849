package pibl.handler;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;

/**
 * The responses PIBL makes up itself: a short plain-text body naming the status, never a stack trace. They say
 * nothing of the connection: a segment that needs it closed asks its {@link Exchange} ({@code requestClose()}),
 * and {@link ResponseHeads} finishes the head like any other.
 */
public final class ErrorResponses {
    private ErrorResponses() {
    }

    public static FullHttpResponse create(HttpResponseStatus status) {
        ByteBuf body = Unpooled.copiedBuffer(status.code() + " " + status.reasonPhrase() + "\n", StandardCharsets.US_ASCII);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        return response;
    }

    /** Writes and flushes the response from this handler's position in the pipeline. */
    public static void send(ChannelHandlerContext ctx, HttpResponseStatus status) {
        ctx.writeAndFlush(create(status));
    }
}
