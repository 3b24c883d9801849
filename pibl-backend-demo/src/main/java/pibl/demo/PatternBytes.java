package pibl.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.stream.ChunkedInput;

import java.nio.ByteBuffer;

/**
 * The deterministic body behind {@code /download}, {@code /chunked} and the {@code /files/*.bin} files.
 *
 * <p>Byte {@code i} (counting from 0 at the first body byte) is
 * <pre>{@code
 *   byte(i) = (i * 31 + 7) & 0xff
 * }</pre>
 * so a body starts {@code 07 26 45 64 83 ...} and repeats every 256 bytes. A client can verify any body byte-exactly
 * with {@link #byteAt(long)} without holding it.
 *
 * <p>Because the pattern has a period of 256, one shared read-only buffer of {@code CHUNK_SIZE + 256} bytes holds
 * every possible chunk: the chunk that starts at body offset {@code o} is the slice starting at {@code o & 0xff}.
 * Chunks are therefore zero-copy slices and a 1 GiB body costs no more memory than a 1 KiB one. The shared buffer is
 * unreleasable, so the slices handed to the pipeline need no reference counting of their own.
 */
final class PatternBytes implements ChunkedInput<ByteBuf> {

    /** Bytes per chunk handed to {@link io.netty.handler.stream.ChunkedWriteHandler}. */
    static final int CHUNK_SIZE = 64 * 1024;

    private static final ByteBuf PATTERN = createPattern();

    private final long length;
    private long offset;

    /** A body of exactly {@code length} pattern bytes. */
    PatternBytes(long length) {
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0: " + length);
        }
        this.length = length;
    }

    /** The value of body byte {@code index}, as an unsigned number 0..255. */
    static int byteAt(long index) {
        return (int) ((index * 31 + 7) & 0xff);
    }

    @Override
    public boolean isEndOfInput() {
        return offset >= length;
    }

    @Override
    public ByteBuf readChunk(ByteBufAllocator allocator) {
        if (isEndOfInput()) {
            return null;
        }
        int size = (int) Math.min(CHUNK_SIZE, length - offset);
        ByteBuf chunk = PATTERN.slice((int) (offset & 0xff), size);
        offset += size;
        return chunk;
    }

    @Deprecated
    @Override
    public ByteBuf readChunk(ChannelHandlerContext ctx) {
        return readChunk(ctx.alloc());
    }

    @Override
    public void close() {
        // Nothing to release: every chunk is a slice of the shared, unreleasable pattern.
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public long progress() {
        return offset;
    }

    private static ByteBuf createPattern() {
        ByteBuffer direct = ByteBuffer.allocateDirect(CHUNK_SIZE + 256);
        for (int i = 0; i < direct.capacity(); i++) {
            direct.put(i, (byte) byteAt(i));
        }
        return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(direct));
    }
}
