package pibl.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A WebSocket backend on 127.0.0.1 for tunnel tests, on Netty's own server handshaker:
 *
 * <pre>
 * /ws     echo: text as text, binary as binary; pings answered with pongs, the close handshake answered
 * /greet  101 and a text frame "hello" in one write (one TCP segment), then echo
 * /flood  after the handshake, 64 KiB binary frames as fast as the socket takes them, up to FLOOD_LIMIT bytes
 * other   an ordinary 200 "plain" (a handshake there gets it too), its request's headers recorded
 * </pre>
 */
public final class WsBackend implements AutoCloseable {
    public static final long FLOOD_LIMIT = 256L << 20;
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final List<Channel> open = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<HttpHeaders> plainRequests = new ConcurrentLinkedQueue<>();
    private final AtomicLong flooded = new AtomicLong();

    private WsBackend() throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        open.add(ch);
                        ch.closeFuture().addListener(f -> open.remove(ch));
                        ch.pipeline().addLast("http", new HttpServerCodec());
                        ch.pipeline().addLast("aggregator", new HttpObjectAggregator(1 << 16));
                        ch.pipeline().addLast("routes", new Routes());
                        ch.pipeline().addLast("echo", new Echo());
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    public static WsBackend start() throws InterruptedException {
        return new WsBackend();
    }

    public String address() {
        return "127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    public int openConnections() {
        return open.size();
    }

    /** Closes every connection it has accepted (a FIN each), and waits for that. */
    public void closeConnections() {
        for (Channel ch : open) {
            ch.close().syncUninterruptibly();
        }
    }

    /** The headers of every request answered as plain HTTP. */
    public List<HttpHeaders> plainRequests() {
        return List.copyOf(plainRequests);
    }

    /** Bytes of frames /flood has written to its socket so far. */
    public long flooded() {
        return flooded.get();
    }

    public static String accept(String key) throws Exception {
        byte[] sha1 = MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
        return Base64.getEncoder().encodeToString(sha1);
    }

    /** /greet and /flood by hand, plain HTTP for anything but /ws. */
    private final class Routes extends SimpleChannelInboundHandler<FullHttpRequest> {
        Routes() {
            super(false);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) throws Exception {
            String key = req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY);
            if (req.uri().equals("/ws")) {
                ctx.pipeline().addBefore("echo", "ws", new WebSocketServerProtocolHandler("/ws"));
                ctx.pipeline().remove(this);
                ctx.fireChannelRead(req);
            } else if ((req.uri().equals("/greet") || req.uri().equals("/flood")) && key != null) {
                req.release();
                switchByHand(ctx, key, req.uri().equals("/greet"));
            } else {
                plainRequests.add(req.headers().copy());
                req.release();
                ctx.writeAndFlush(TestBackend.response(HttpResponseStatus.OK, "plain"));
            }
        }

        private void switchByHand(ChannelHandlerContext ctx, String key, boolean greet) throws Exception {
            String head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + accept(key) + "\r\n\r\n";
            ByteBuf out = Unpooled.buffer();
            out.writeCharSequence(head, StandardCharsets.US_ASCII);
            if (greet) {
                out.writeByte(0x81).writeByte(5).writeCharSequence("hello", StandardCharsets.US_ASCII);
            }
            ctx.pipeline().firstContext().writeAndFlush(out);
            ctx.pipeline().addBefore("http", "frame-decoder", new WebSocket13FrameDecoder(true, false, 1 << 16));
            ctx.pipeline().addBefore("http", "frame-encoder", new WebSocket13FrameEncoder(false));
            ctx.pipeline().remove("aggregator");
            ctx.pipeline().remove("http");
            ctx.pipeline().remove(this);
            if (!greet) {
                ctx.pipeline().addLast(new Flood());
            }
        }
    }

    /** Writes frames while the socket takes them. */
    private final class Flood extends ChannelInboundHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            pump(ctx);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            pump(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        private void pump(ChannelHandlerContext ctx) {
            while (ctx.channel().isActive() && ctx.channel().isWritable() && flooded.get() < FLOOD_LIMIT) {
                ctx.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[64 << 10])))
                        .addListener(f -> {
                            if (f.isSuccess()) {
                                flooded.addAndGet(64 << 10);
                            }
                        });
            }
        }
    }

    /** Sends back what comes, as it came. */
    private static final class Echo extends SimpleChannelInboundHandler<WebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame) {
                ctx.writeAndFlush(frame.retainedDuplicate());
            }
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
