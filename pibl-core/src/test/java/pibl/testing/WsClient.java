package pibl.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.util.concurrent.Promise;

import java.net.URI;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client on Netty's own handshaker ({@code WebSocketClientHandshaker}, RFC 6455), for tunnel tests:
 * every frame it receives is copied into {@link #frames} (pongs and close frames included) and released.
 */
public final class WsClient implements AutoCloseable {

    /** A frame as received: its Netty type's simple name and its payload. */
    public record Frame(String type, byte[] payload) {
        public String text() {
            return new String(payload, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;
    public final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();

    private WsClient(int port, String path) throws Exception {
        URI uri = URI.create("ws://127.0.0.1:" + port + path);
        WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(uri).version(WebSocketVersion.V13).dropPongFrames(false).handleCloseFrames(false)
                .customHeaders(new DefaultHttpHeaders()).handshakeTimeoutMillis(5000).build();
        Promise<Void>[] handshake = new Promise[1];
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        handshake[0] = ch.eventLoop().newPromise();
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                                new WebSocketClientProtocolHandler(config),
                                new SimpleChannelInboundHandler<WebSocketFrame>() {
                                    @Override
                                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                        if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent
                                                .HANDSHAKE_COMPLETE) {
                                            handshake[0].trySuccess(null);
                                        }
                                        ctx.fireUserEventTriggered(evt);
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        handshake[0].tryFailure(cause);
                                        ctx.close();
                                    }

                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
                                        frames.add(new Frame(f.getClass().getSimpleName(),
                                                ByteBufUtil.getBytes(f.content())));
                                    }
                                });
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
        if (!handshake[0].await(5, TimeUnit.SECONDS) || !handshake[0].isSuccess()) {
            channel.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("handshake failed", handshake[0].cause());
        }
    }

    /** Connects to PIBL on {@code port} and completes the handshake for {@code path}. */
    public static WsClient open(int port, String path) throws Exception {
        return new WsClient(port, path);
    }

    public void send(WebSocketFrame frame) {
        channel.writeAndFlush(frame).syncUninterruptibly();
    }

    /** The next frame, or null after {@code millis}. */
    public Frame next(long millis) throws InterruptedException {
        return frames.poll(millis, TimeUnit.MILLISECONDS);
    }

    public Channel channel() {
        return channel;
    }

    /** Closed within {@code millis}. */
    public boolean closedWithin(long millis) {
        return channel.closeFuture().awaitUninterruptibly(millis);
    }

    public void sendClose() {
        send(new CloseWebSocketFrame(1000, "bye"));
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
