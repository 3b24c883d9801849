package pibl.testing;

import io.netty.bootstrap.ServerBootstrap;
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
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.Mapping;
import pibl.config.TlsConfig;

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
 *
 * <p>{@link #startTls} makes it an HTTPS origin: it records the SNI name of each ClientHello and counts the
 * handshakes that succeeded and failed; {@link #serve} swaps its certificate for the handshakes after.
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
    private volatile SslContext tls;
    private final List<String> serverNames = new CopyOnWriteArrayList<>();
    private final AtomicInteger handshakes = new AtomicInteger();
    private final AtomicInteger handshakeFailures = new AtomicInteger();
    private final AtomicInteger closeNotifies = new AtomicInteger();

    private TestBackend(String name, boolean recording, SslContext tls) throws InterruptedException {
        this.name = name;
        this.recording = recording;
        this.tls = tls;
        this.server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        open.add(ch);
                        ch.closeFuture().addListener(f -> open.remove(ch));
                        if (TestBackend.this.tls != null) {
                            addTls(ch);
                        }
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
        return new TestBackend(name, true, null);
    }

    /** One that only counts requests: for tests that send hundreds of thousands. */
    public static TestBackend startCounting(String name) throws InterruptedException {
        return new TestBackend(name, false, null);
    }

    /** An HTTPS origin serving {@code certificate} (Netty's server context, the JDK's provider). */
    public static TestBackend startTls(String name, TlsConfig.Certificate certificate) throws Exception {
        return new TestBackend(name, true, serverContext(certificate));
    }

    /** The handshakes from now on show {@code certificate}. */
    public TestBackend serve(TlsConfig.Certificate certificate) throws Exception {
        this.tls = serverContext(certificate);
        return this;
    }

    private static SslContext serverContext(TlsConfig.Certificate certificate) throws Exception {
        return SslContextBuilder.forServer(certificate.cert().toFile(), certificate.key().toFile())
                .sslProvider(SslProvider.JDK).build();
    }

    /** SNI first (recording the name asked for), then the handshake's outcome counted. */
    private void addTls(Channel ch) {
        ch.pipeline().addLast(new SniHandler((Mapping<String, SslContext>) host -> {
            serverNames.add(host == null ? NO_SNI : host);
            return tls;
        }));
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof SslHandshakeCompletionEvent done) {
                    (done.isSuccess() ? handshakes : handshakeFailures).incrementAndGet();
                } else if (evt instanceof SslCloseCompletionEvent closed && closed.isSuccess()) {
                    closeNotifies.incrementAndGet();
                }
                ctx.fireUserEventTriggered(evt);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close(); // a refused handshake: the client's doing, and the test's to look at
            }
        });
    }

    /** What {@link #serverNames} records for a ClientHello without SNI. */
    public static final String NO_SNI = "(none)";

    /** The SNI name of each ClientHello, in order; {@link #NO_SNI} for one without. */
    public List<String> serverNames() {
        return List.copyOf(serverNames);
    }

    /** TLS handshakes completed. */
    public int handshakes() {
        return handshakes.get();
    }

    /** TLS sessions the client ended cleanly, with a close_notify alert. */
    public int closeNotifies() {
        return closeNotifies.get();
    }

    /** TLS handshakes that failed (the client refused the certificate, say). */
    public int handshakeFailures() {
        return handshakeFailures.get();
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
