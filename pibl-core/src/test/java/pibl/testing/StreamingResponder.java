package pibl.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link TestBackend.Behaviour} that streams a body of {@code size} deterministic bytes
 * (byte i is {@code (i * 31 + 7) & 0xff}) in 64 KiB chunks, writing only while the socket is
 * writable, and counts the bytes the kernel has accepted, so a test can see backpressure.
 */
public final class StreamingResponder implements TestBackend.Behaviour {
    private static final int CHUNK = 64 * 1024;
    /** The pattern repeats every 256 bytes, so every chunk is a window on this array. */
    private static final byte[] PATTERN = new byte[CHUNK + 256];

    static {
        for (int i = 0; i < PATTERN.length; i++) {
            PATTERN[i] = (byte) expectedByte(i);
        }
    }
    private final long size;
    private final AtomicLong written = new AtomicLong();

    public StreamingResponder(long size) {
        this.size = size;
    }

    public static int expectedByte(long i) {
        return (int) ((i * 31 + 7) & 0xff);
    }

    /** Whether {@code buf[0..n)} is the body from {@code offset} on ({@code n} at most 64 KiB). */
    public static boolean matches(byte[] buf, int n, long offset) {
        int start = (int) (offset & 0xff);
        return java.util.Arrays.mismatch(buf, 0, n, PATTERN, start, start + n) < 0;
    }

    /** Body bytes flushed to the socket so far. */
    public long written() {
        return written.get();
    }

    @Override
    public void handle(ChannelHandlerContext ctx, FullHttpRequest request, TestBackend backend) {
        request.release();
        DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_LENGTH, size);
        head.headers().set("X-Backend", backend.name());
        ctx.write(head);
        Pump pump = new Pump(ctx);
        ctx.pipeline().addLast(pump);
        pump.pump();
    }

    private final class Pump extends ChannelInboundHandlerAdapter {
        private final ChannelHandlerContext ctx;
        private long offset;

        Pump(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        void pump() {
            while (offset < size && ctx.channel().isWritable()) {
                int n = (int) Math.min(CHUNK, size - offset);
                ByteBuf buf = Unpooled.wrappedBuffer(PATTERN, (int) (offset & 0xff), n);
                offset += n;
                ctx.writeAndFlush(new DefaultHttpContent(buf)).addListener(f -> {
                    if (f.isSuccess()) {
                        written.addAndGet(n);
                    }
                });
            }
            if (offset >= size) {
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                ctx.pipeline().remove(this);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext c) {
            if (c.channel().isWritable()) {
                pump();
            }
            c.fireChannelWritabilityChanged();
        }
    }
}
