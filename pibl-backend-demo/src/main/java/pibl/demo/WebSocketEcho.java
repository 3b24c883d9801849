package pibl.demo;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

/**
 * {@code /ws}: a WebSocket echo (RFC 6455), on Netty's own server handshaker. Text comes back as text and binary
 * as binary; pings get pongs and a close gets the closing handshake ({@link WebSocketServerProtocolHandler} answers
 * both). Any other request, and a plain {@code GET /ws} that is no handshake (400), stay with the HTTP handlers.
 *
 * <pre>
 * GET /ws  Upgrade: websocket  Sec-WebSocket-Key: ...   → 101, then every data frame echoed
 * </pre>
 */
final class WebSocketEcho extends SimpleChannelInboundHandler<WebSocketFrame> {
    static final String PATH = "/ws";

    /** The handshake and the control frames; sits after the aggregator, before this echo. */
    static WebSocketServerProtocolHandler protocol() {
        return new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(PATH)
                .checkStartsWith(false)
                .maxFramePayloadLength(64 * 1024)
                .build());
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame) {
            ctx.writeAndFlush(frame.retainedDuplicate());
        }
    }
}
