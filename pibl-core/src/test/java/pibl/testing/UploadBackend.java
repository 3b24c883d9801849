package pibl.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * A backend that reads request bodies as they stream in, never gathering them: it counts and CRC32s each body and
 * records how each request ended, completely or not, and whether its connection was reset. So a test can check an
 * upload byte-exact, and that an abandoned one never looked complete.
 *
 * <pre>
 * default              reads the whole body, then 200 with "bytes=N crc=HEX"
 * answerAfter(n, 413)  answers once n body bytes are in, and goes on reading (a server rejecting early)
 * resetAfter(n)        resets the connection once n body bytes are in, without answering
 * pause() / resume()   stops / resumes reading every connection (a backend slower than the client)
 * </pre>
 *
 * Its buffers are outside the leak detector: a GiB of them under paranoid detection would cost seconds, and the
 * leaks that matter are PIBL's.
 */
public final class UploadBackend implements AutoCloseable {

    /** One request as the backend saw it end. */
    public record Upload(String method, String uri, HttpHeaders headers, long bytes, long crc, boolean complete,
                         boolean reset) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final List<Channel> open = new CopyOnWriteArrayList<>();
    private final BlockingQueue<Upload> uploads = new LinkedBlockingQueue<>();
    private volatile long answerAfter = Long.MAX_VALUE;
    private volatile int earlyStatus = 200;
    private volatile int earlyBody = 5;
    private final AtomicLong earlyAnswers = new AtomicLong();
    private volatile long resetAfter = Long.MAX_VALUE;
    private volatile boolean paused;
    private final AtomicLong received = new AtomicLong();

    private UploadBackend() throws InterruptedException {
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.ALLOCATOR, new UnpooledByteBufAllocator(true, true))
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        open.add(ch);
                        ch.closeFuture().addListener(f -> open.remove(ch));
                        ch.config().setAutoRead(!paused);
                        ch.pipeline().addLast(new HttpServerCodec(), new Reader());
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    public static UploadBackend start() throws InterruptedException {
        return new UploadBackend();
    }

    public String address() {
        return "127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Answer {@code status} (body {@code early}) once {@code bytes} of a body are in, and read on what follows. */
    public UploadBackend answerAfter(long bytes, int status) {
        return answerAfter(bytes, status, 5);
    }

    /** As {@link #answerAfter(long, int)}, with a body of {@code bodyBytes} bytes ({@code eeee...}). */
    public UploadBackend answerAfter(long bytes, int status, int bodyBytes) {
        this.earlyStatus = status;
        this.earlyBody = bodyBytes;
        this.answerAfter = bytes;
        return this;
    }

    /** Early answers begun so far (written to the connection; maybe not all sent yet). */
    public long earlyAnswers() {
        return earlyAnswers.get();
    }

    /** Reset the connection once {@code bytes} of a body are in. */
    public UploadBackend resetAfter(long bytes) {
        this.resetAfter = bytes;
        return this;
    }

    public UploadBackend pause() {
        paused = true;
        open.forEach(ch -> ch.config().setAutoRead(false));
        return this;
    }

    public UploadBackend resume() {
        paused = false;
        open.forEach(ch -> ch.config().setAutoRead(true));
        return this;
    }

    public int openConnections() {
        return open.size();
    }

    /** The next request to end (completely or not), waiting up to {@code seconds}. */
    public Upload next(int seconds) throws InterruptedException {
        Upload u = uploads.poll(seconds, TimeUnit.SECONDS);
        if (u == null) {
            throw new AssertionError("no request ended at the backend within " + seconds + " s");
        }
        return u;
    }

    /** Body bytes read so far, over every request. */
    public long received() {
        return received.get();
    }

    /** Requests ended so far and not yet taken by {@link #next}. */
    public int pending() {
        return uploads.size();
    }

    private final class Reader extends ChannelInboundHandlerAdapter {
        private HttpRequest head;
        private long bytes;
        private final CRC32 crc = new CRC32();
        private boolean answered;
        private boolean reset;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest request) {
                    head = request;
                    bytes = 0;
                    crc.reset();
                    answered = false;
                }
                if (msg instanceof HttpContent part && head != null) {
                    ByteBuf b = part.content();
                    bytes += b.readableBytes();
                    received.addAndGet(b.readableBytes());
                    for (ByteBuffer nio : b.nioBuffers()) {
                        crc.update(nio);
                    }
                    if (bytes >= resetAfter) {
                        ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                        ctx.close();
                        return;
                    }
                    if (!answered && bytes >= answerAfter) {
                        answered = true;
                        String text = earlyBody == 5 ? "early" : "e".repeat(earlyBody);
                        // Counted once written, not once sent: a large answer to a client that does not read yet
                        // fills the sockets and PIBL's buffers, and its write completes only when the client reads.
                        earlyAnswers.incrementAndGet();
                        ctx.writeAndFlush(TestBackend.response(HttpResponseStatus.valueOf(earlyStatus), text));
                    }
                    if (part instanceof LastHttpContent) {
                        end(true);
                        if (!answered) {
                            FullHttpResponse r = TestBackend.response(HttpResponseStatus.OK,
                                    "bytes=" + bytes + " crc=" + Long.toHexString(crc.getValue()));
                            ctx.writeAndFlush(r);
                        }
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void end(boolean complete) {
            if (head != null) {
                uploads.add(new Upload(head.method().name(), head.uri(), head.headers().copy(), bytes, crc.getValue(),
                        complete, reset));
                head = null;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof IOException) {
                reset = true; // "Connection reset by peer": the proxy aborted the request
            }
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            end(false);
            ctx.fireChannelInactive();
        }
    }

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
