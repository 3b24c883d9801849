package pibl.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * An HTTP/2 client over h2c prior knowledge, built from Netty's own client codec ({@code Http2FrameCodec} and
 * {@code Http2MultiplexHandler}): one connection, a stream per request. Responses come back whole
 * ({@link #get}); {@link #open} gives the stream channel itself, for tests that drive frames by hand.
 *
 * <pre>
 * try (H2Client h2 = H2Client.connect(port)) {
 *     FullHttpResponse r = h2.get("/a").get(5, SECONDS);   // the caller releases it
 * }
 * </pre>
 */
public final class H2Client implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;
    private final Http2FrameCodec codec;
    private final CompletableFuture<GoAway> goAway = new CompletableFuture<>();

    /** A GOAWAY the server sent: its error code, last stream id and debug text. */
    public record GoAway(long errorCode, int lastStreamId, String debug) {
    }

    private H2Client(int port, Http2Settings settings) throws InterruptedException {
        codec = Http2FrameCodecBuilder.forClient().initialSettings(settings).build();
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(codec, new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()),
                                new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                        if (msg instanceof Http2GoAwayFrame g) {
                                            goAway.complete(new GoAway(g.errorCode(), g.lastStreamId(),
                                                    g.content().toString(StandardCharsets.UTF_8)));
                                        }
                                        ReferenceCountUtil.release(msg);
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        ctx.close(); // the server went away: the test sees it in its futures
                                    }
                                });
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
    }

    public static H2Client connect(int port) throws InterruptedException {
        return new H2Client(port, Http2Settings.defaultSettings());
    }

    /** With the client's own SETTINGS (a small SETTINGS_INITIAL_WINDOW_SIZE, say). */
    public static H2Client connect(int port, Http2Settings settings) throws InterruptedException {
        return new H2Client(port, settings);
    }

    public Channel channel() {
        return channel;
    }

    /** Grants the connection (stream 0) {@code bytes} more of receive window. */
    public void growConnectionWindow(int bytes) {
        channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(bytes)).syncUninterruptibly();
    }

    /** The GOAWAY the server sent. */
    public CompletableFuture<GoAway> goAway() {
        return goAway;
    }

    /** A GET on a new stream; the whole response (aggregated, up to 64 MiB), which the caller releases. */
    public CompletableFuture<FullHttpResponse> get(String path) {
        return get(path, h -> { });
    }

    public CompletableFuture<FullHttpResponse> get(String path, Consumer<Http2Headers> more) {
        CompletableFuture<FullHttpResponse> response = new CompletableFuture<>();
        Http2StreamChannel stream = open(ch -> ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false),
                new HttpObjectAggregator(64 << 20), new SimpleChannelInboundHandler<FullHttpResponse>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                        if (!response.complete(r.retain())) {
                            r.release();
                        }
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        response.completeExceptionally(new IllegalStateException("stream closed without a response"));
                        ctx.fireChannelInactive();
                    }
                }));
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers("GET", path, more), true));
        return response;
    }

    /** The request pseudo-header fields of a request to {@code path} on {@code a.example}. */
    public static Http2Headers headers(String method, String path, Consumer<Http2Headers> more) {
        Http2Headers h = new DefaultHttp2Headers().method(method).path(path).scheme("http").authority("a.example");
        more.accept(h);
        return h;
    }

    /** A new stream channel, its pipeline set up by {@code init}; nothing is sent yet. */
    public Http2StreamChannel open(Consumer<Http2StreamChannel> init) {
        return new Http2StreamChannelBootstrap(channel).handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                init.accept(ch);
            }
        }).open().syncUninterruptibly().getNow();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
