package pibl.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend that can die and come back on the same port, for health-check tests. Every request
 * gets the same treatment: a status (200 by default, body and {@code X-Backend} = name) or no
 * answer at all ({@link #hang()}). Counts what it answered, per status.
 *
 * <pre>
 * PortBackend b = PortBackend.start("b1", 0);   // any free port, kept across stop()/restart()
 * b.answer(500);  b.hang();  b.stop();  b.restart();
 * </pre>
 */
public final class PortBackend implements AutoCloseable {
    private static final int HANG = -1;

    private final String name;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final List<Channel> open = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<TestBackend.Received> received = new ConcurrentLinkedQueue<>();
    private final Map<Integer, AtomicInteger> answered = new ConcurrentHashMap<>();
    private final AtomicInteger hung = new AtomicInteger();
    private volatile int status = 200;
    private volatile Channel server;
    private final int port;

    private PortBackend(String name, int port) throws InterruptedException {
        this.name = name;
        this.server = bind(port);
        this.port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Listens on 127.0.0.1:{@code port}, or a free port when 0. */
    public static PortBackend start(String name, int port) throws InterruptedException {
        return new PortBackend(name, port);
    }

    private Channel bind(int p) throws InterruptedException {
        return new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        open.add(ch);
                        ch.closeFuture().addListener(f -> open.remove(ch));
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                        handle(ctx, req);
                                    }
                                });
                    }
                })
                .bind("127.0.0.1", p).sync().channel();
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest req) {
        received.add(new TestBackend.Received(req.method().name(), req.uri(), req.headers().copy(),
                req.content().toString(StandardCharsets.UTF_8)));
        int s = status;
        if (s == HANG) {
            hung.incrementAndGet();
            return;
        }
        answered.computeIfAbsent(s, k -> new AtomicInteger()).incrementAndGet();
        FullHttpResponse r = TestBackend.response(HttpResponseStatus.valueOf(s), name);
        r.headers().set("X-Backend", name);
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        HttpUtil.setKeepAlive(r, keepAlive);
        if (keepAlive) {
            ctx.writeAndFlush(r);
        } else {
            ctx.writeAndFlush(r).addListener(f -> ctx.close());
        }
    }

    /** Answer every request from now on with {@code code}. */
    public PortBackend answer(int code) {
        this.status = code;
        return this;
    }

    /** Read every request from now on and never answer. */
    public PortBackend hang() {
        this.status = HANG;
        return this;
    }

    /** Stops listening and drops every connection: connects are refused from now on. */
    public PortBackend stop() {
        Channel s = server;
        if (s != null) {
            server = null;
            s.close().syncUninterruptibly();
        }
        for (Channel ch : open) {
            ch.close().syncUninterruptibly();
        }
        return this;
    }

    /** Listens again on the same port. */
    public PortBackend restart() throws InterruptedException {
        if (server == null) {
            server = bind(port);
        }
        return this;
    }

    public String name() {
        return name;
    }

    public int port() {
        return port;
    }

    public String address() {
        return "127.0.0.1:" + port;
    }

    /** Requests answered with {@code code} so far. */
    public int answered(int code) {
        AtomicInteger n = answered.get(code);
        return n == null ? 0 : n.get();
    }

    /** Requests read and left unanswered so far. */
    public int hung() {
        return hung.get();
    }

    public int requestCount() {
        return received.size();
    }

    public List<TestBackend.Received> received() {
        return List.copyOf(received);
    }

    @Override
    public void close() {
        if (group.isShuttingDown()) {
            return;
        }
        stop();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
