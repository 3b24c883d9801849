package pibl.handler;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.stream.ChunkedInput;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * A {@link FileRegion} read as body parts, for a channel that cannot take a region: an HTTP/2 stream, whose DATA
 * frames are buffers (the codec has no sendfile). {@code ChunkedWriteHandler} pulls one part at a time while the
 * stream is writable, so a large cached file costs one part of heap at a time, not its size, and a stream whose
 * client window is closed stops reading its file.
 *
 * <pre>
 * region of 1 MiB   → 64 parts of 16 KiB (one DATA frame each at the default SETTINGS_MAX_FRAME_SIZE), pooled
 * </pre>
 *
 * The cost against HTTP/1.1's sendfile: each byte is copied twice in user space (file to the JDK's temporary direct
 * buffer, then to the pooled part) and once more by the kernel into the socket, instead of going page cache to
 * socket. Takes the region: releases it when the parts end or the write fails.
 */
final class RegionChunks implements ChunkedInput<HttpContent> {
    /** One DATA frame at the default (and smallest) SETTINGS_MAX_FRAME_SIZE. */
    static final int PART = 16 * 1024;

    private final FileRegion region;
    private long offset;
    private boolean released;

    RegionChunks(FileRegion region) {
        this.region = region;
    }

    @Override
    public boolean isEndOfInput() {
        return offset >= region.count();
    }

    @Override
    public void close() {
        if (!released) {
            released = true;
            region.release();
        }
    }

    @Deprecated
    @Override
    public HttpContent readChunk(io.netty.channel.ChannelHandlerContext ctx) throws IOException {
        return readChunk(ctx.alloc());
    }

    @Override
    public HttpContent readChunk(ByteBufAllocator alloc) throws IOException {
        if (isEndOfInput()) {
            return null;
        }
        int n = (int) Math.min(PART, region.count() - offset);
        ByteBuf part = alloc.buffer(n);
        try {
            Into into = new Into(part, n);
            while (into.left > 0) {
                long moved = region.transferTo(into, offset);
                if (moved <= 0) {
                    throw new IOException("cache file ended at " + offset + " of " + region.count() + " bytes");
                }
                offset += moved;
            }
            return new DefaultHttpContent(part);
        } catch (IOException | RuntimeException e) {
            part.release();
            throw e;
        }
    }

    @Override
    public long length() {
        return region.count();
    }

    @Override
    public long progress() {
        return offset;
    }

    /** Takes at most {@code left} bytes into the part: the region moves no more than one part per call. */
    private static final class Into implements WritableByteChannel {
        private final ByteBuf part;
        private int left;

        Into(ByteBuf part, int left) {
            this.part = part;
            this.left = left;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = Math.min(left, src.remaining());
            ByteBuffer slice = src.duplicate();
            slice.limit(slice.position() + n);
            part.writeBytes(slice);
            src.position(src.position() + n);
            left -= n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
