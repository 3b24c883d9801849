package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.channel.DefaultFileRegion;
import io.netty.util.ReferenceCounted;

import java.nio.channels.FileChannel;

/**
 * A stored body taken hold of for sending ({@link CacheEntry#openBody()}): a buffer of the memory tier, or a
 * {@link Region} of the entry file; and a part of it, for a 206, taken without reading a byte.
 *
 * <pre>
 *   ReferenceCounted body = entry.openBody();             // 10000 bytes, memory or file
 *   ReferenceCounted part = StoredBody.part(body, 9500, 500);
 *       memory: a retained slice of the buffer            file: a region from bodyOffset + 9500, 500 bytes
 * </pre>
 */
public final class StoredBody {
    private StoredBody() {
    }

    /**
     * The {@code length} bytes of {@code body} from {@code from} on; takes {@code body} (the part owns what it
     * needs of it, and releasing the part releases that).
     */
    public static ReferenceCounted part(ReferenceCounted body, long from, long length) {
        if (body instanceof ByteBuf buf) {
            ByteBuf part = buf.retainedSlice(buf.readerIndex() + Math.toIntExact(from), Math.toIntExact(length));
            buf.release();
            return part;
        }
        if (body instanceof Region region) {
            return region.part(from, length);
        }
        throw new IllegalArgumentException("not a stored body: " + body);
    }

    /**
     * A zero-copy region of an entry file (sendfile on epoll, splice on io_uring: it is a {@link DefaultFileRegion})
     * that owns its open channel and can hand it on to a part of itself.
     */
    static final class Region extends DefaultFileRegion {
        private final FileChannel channel;
        private boolean handedOn;

        Region(FileChannel channel, long position, long count) {
            super(channel, position, count);
            this.channel = channel;
        }

        /** A region over {@code length} bytes from {@code from}, which now owns the channel; releases this one. */
        Region part(long from, long length) {
            if (from < 0 || length < 0 || from + length > count()) {
                throw new IndexOutOfBoundsException(from + "+" + length + " of " + count());
            }
            Region part = new Region(channel, position() + from, length);
            handedOn = true;
            release();
            return part;
        }

        @Override
        protected void deallocate() {
            if (!handedOn) {
                super.deallocate(); // closes the channel
            }
        }
    }
}
