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
 * The responses PIBL makes up itself: a short plain-text body naming the status, never a stack
 * trace. With {@code close}, the response carries {@code Connection: close} and the
 * {@link PipeliningHandler} closes the connection once it is written.
 */
public final class ErrorResponses {
    private ErrorResponses() {
    }

    public static FullHttpResponse create(HttpResponseStatus status, boolean close) {
        ByteBuf body = Unpooled.copiedBuffer(status.code() + " " + status.reasonPhrase() + "\n", StandardCharsets.US_ASCII);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return response;
    }

    /** Writes and flushes the response from this handler's position in the pipeline. */
    public static void send(ChannelHandlerContext ctx, HttpResponseStatus status, boolean close) {
        ctx.writeAndFlush(create(status, close));
    }
}
