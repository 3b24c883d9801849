package pibl.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;

import java.util.List;
import java.util.function.Consumer;

/**
 * The cleartext port's choice between HTTP/1.1 and h2c by prior knowledge (RFC 9113 section 3.3): a connection
 * whose first 24 bytes are the HTTP/2 preface is HTTP/2, anything else HTTP/1.1. It sits in front of the HTTP/1.1
 * codec, which is there from the start (so that its header timeout covers a client that sends nothing), and
 * decides at the first byte that differs from the preface (a {@code GET} at once, a {@code PRI} later):
 *
 * <pre>
 * "GET / HTTP/1.1..."               → this handler leaves; the bytes go on to the HTTP/1.1 codec
 * "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" → {@code toHttp2} replaces what follows with the HTTP/2 pipeline; the
 *                                      preface and whatever came with it go on to the HTTP/2 codec
 * </pre>
 *
 * {@code Upgrade: h2c} is not this: it is an HTTP/1.1 request, and its upgrade is stripped like any other.
 */
final class PrefaceDetector extends ByteToMessageDecoder {
    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

    private final Consumer<ChannelHandlerContext> toHttp2;

    /** @param toHttp2 swaps the HTTP/1.1 handlers after this one for the HTTP/2 ones */
    PrefaceDetector(Consumer<ChannelHandlerContext> toHttp2) {
        this.toHttp2 = toHttp2;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int n = Math.min(in.readableBytes(), PREFACE.readableBytes());
        if (!ByteBufUtil.equals(in, in.readerIndex(), PREFACE, PREFACE.readerIndex(), n)) {
            ctx.pipeline().remove(this); // what was read goes on to the HTTP/1.1 codec
            return;
        }
        if (n == PREFACE.readableBytes()) {
            toHttp2.accept(ctx);
            ctx.pipeline().remove(this); // the preface goes on to the HTTP/2 codec, which checks it again
        }
    }
}
