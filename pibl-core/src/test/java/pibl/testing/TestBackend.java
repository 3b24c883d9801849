package pibl.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scriptable backend on 127.0.0.1 for integration tests: records every request and every TCP
 * connection it accepts, and answers through a {@link Behaviour} the test can swap at any time.
 * By default it answers 200 with its name as the body and in {@code X-Backend}.
 */
public final class TestBackend implements AutoCloseable {

    /** What to do with a request. */
    @FunctionalInterface
    public interface Behaviour {
        void handle(ChannelHandlerContext ctx, FullHttpRequest request, TestBackend backend);
    }

    /** A request as the backend received it. */
    public record Received(String method, String uri, HttpHeaders headers, String body) {
    }

    private final String name;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final AtomicInteger connections = new AtomicInteger();
    private final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final boolean recording;
    private final List<Channel> open = new CopyOnWriteArrayList<>();
    private volatile Behaviour behaviour = TestBackend::answerName;

    private TestBackend(String name, boolean recording) throws InterruptedException {
        this.name = name;
        this.recording = recording;
        this.server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        open.add(ch);
                        ch.closeFuture().addListener(f -> open.remove(ch));
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 << 20),
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                        requests.incrementAndGet();
                                        if (recording) {
                                            received.add(new Received(req.method().name(), req.uri(),
                                                    req.headers().copy(), req.content().toString(StandardCharsets.UTF_8)));
                                        }
                                        behaviour.handle(ctx, req.retain(), TestBackend.this);
                                    }
                                });
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    public static TestBackend start(String name) throws InterruptedException {
        return new TestBackend(name, true);
    }

    /** One that only counts requests: for tests that send hundreds of thousands. */
    public static TestBackend startCounting(String name) throws InterruptedException {
        return new TestBackend(name, false);
    }

    public TestBackend behave(Behaviour b) {
        this.behaviour = b;
        return this;
    }

    public String name() {
        return name;
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    /** TCP connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    /** Connections open right now. */
    public int openConnections() {
        return open.size();
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    public int requestCount() {
        return requests.get();
    }

    /** The default behaviour: 200, body = name, {@code X-Backend: name}. */
    public static void answerName(ChannelHandlerContext ctx, FullHttpRequest req, TestBackend backend) {
        req.release();
        ctx.writeAndFlush(backend.named(HttpResponseStatus.OK, backend.name));
    }

    public static FullHttpResponse response(HttpResponseStatus status, String body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
        return r;
    }

    /** A response from this backend with its {@code X-Backend} header. */
    public FullHttpResponse named(HttpResponseStatus status, String body) {
        FullHttpResponse r = response(status, body);
        r.headers().set("X-Backend", name);
        return r;
    }

    /** Stops listening and closes every connection (a dead backend from now on). */
    @Override
    public void close() {
        if (group.isShuttingDown()) {
            return;
        }
        server.close().syncUninterruptibly();
        for (Channel ch : open) {
            ch.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
