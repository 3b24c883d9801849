package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * A {@link CacheWriter} into a temporary file of the {@link DiskCacheStore}.
 *
 * <p>Threads: {@code write}/{@code commit}/{@code abort} run on the caller's thread and only hand retained
 * duplicates of the chunks to a {@link SerialExecutor} over the disk pool; the file channel, checksum and position
 * are touched only by those serial tasks. The body is written at the header region's end as it arrives, so only
 * the chunks not yet on disk are in memory, at most {@link #MAX_PENDING_BYTES}: a disk that falls further behind
 * makes the writer give up rather than buffer the response or slow the client. Small bodies are also copied into
 * a memory buffer for the memory tier.
 */
final class DiskCacheWriter implements CacheWriter {
    static final long MAX_PENDING_BYTES = 16L << 20;
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);

    private final DiskCacheStore store;
    private final Pending pending;
    private final long maxObjectSize;
    private final long declaredLength;
    private final int memoryLimit;
    private final SerialExecutor serial;
    private final AtomicLong queuedBytes = new AtomicLong();
    private final CompletableFuture<CacheEntry> result = new CompletableFuture<>();

    // caller thread
    private long received;
    private ByteBuf memory;
    private boolean closed;

    // disk tasks (serial)
    private volatile boolean failed;
    private FileChannel channel;
    private long position;
    private final CRC32C crc = new CRC32C();

    /** What the store needs to create the entry at commit. */
    record Pending(CacheKey key, HttpHeaders requestHeaders, int status, String reason, HttpHeaders storedHeaders,
                   Map<String, String> vary, String variantHash, long version, long requestTime,
                   long responseTime, int regionLength, Path tmp, Path target, long epoch) {
    }

    DiskCacheWriter(DiskCacheStore store, Pending pending, long maxObjectSize, long declaredLength, int memoryLimit) {
        this.store = store;
        this.pending = pending;
        this.maxObjectSize = maxObjectSize;
        this.declaredLength = declaredLength;
        this.memoryLimit = memoryLimit;
        this.serial = new SerialExecutor(store.diskExecutor());
        if (memoryLimit > 0 && declaredLength >= 0 && declaredLength <= memoryLimit) {
            memory = Unpooled.directBuffer((int) declaredLength);
        } else if (memoryLimit > 0 && declaredLength < 0) {
            memory = Unpooled.directBuffer(Math.min(8192, memoryLimit), memoryLimit);
        }
    }

    @Override
    public void write(ByteBuf chunk) {
        if (closed) {
            return;
        }
        if (failed || store.isClosed()) {
            abort();
            return;
        }
        int n = chunk.readableBytes();
        if (n == 0) {
            return;
        }
        received += n;
        if (received > maxObjectSize || (declaredLength >= 0 && received > declaredLength)) {
            abort();
            return;
        }
        if (queuedBytes.addAndGet(n) > MAX_PENDING_BYTES) {
            LOG.debug("Cache disk more than {} bytes behind; not storing {}", MAX_PENDING_BYTES, pending.key());
            queuedBytes.addAndGet(-n);
            abort();
            return;
        }
        if (memory != null) {
            if (received <= memoryLimit) {
                memory.writeBytes(chunk, chunk.readerIndex(), n);
            } else {
                memory.release();
                memory = null;
            }
        }
        ByteBuf data = chunk.retainedDuplicate();
        serial.execute(() -> {
            try {
                if (!failed) {
                    append(data);
                }
            } catch (IOException e) {
                fail(e);
            } finally {
                queuedBytes.addAndGet(-n);
                data.release();
            }
        });
    }

    @Override
    public CompletableFuture<CacheEntry> commit() {
        if (closed) {
            return result;
        }
        closed = true;
        ByteBuf body = memory;
        memory = null;
        serial.execute(() -> finish(body));
        return result;
    }

    @Override
    public void abort() {
        if (closed) {
            return;
        }
        closed = true;
        if (memory != null) {
            memory.release();
            memory = null;
        }
        serial.execute(() -> {
            cleanUp();
            result.complete(null);
        });
    }

    private void append(ByteBuf data) throws IOException {
        ensureOpen();
        ByteBuffer[] buffers = data.nioBufferCount() == 1
                ? new ByteBuffer[] {data.nioBuffer()} : data.nioBuffers();
        for (ByteBuffer b : buffers) {
            int length = b.remaining();
            crc.update(b.duplicate());
            EntryFile.writeFully(channel, b, position);
            position += length;
        }
    }

    private void ensureOpen() throws IOException {
        if (channel != null) {
            return;
        }
        try {
            channel = open(pending.tmp());
        } catch (NoSuchFileException missingDir) {
            Files.createDirectories(pending.tmp().getParent());
            channel = open(pending.tmp());
        }
        position = pending.regionLength();
    }

    private static FileChannel open(Path tmp) throws IOException {
        return FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    private void finish(ByteBuf body) {
        CacheEntry entry = null;
        try {
            if (!failed) {
                entry = seal(body);
                body = null; // the store owns it now
            }
        } catch (IOException e) {
            fail(e);
        } finally {
            if (body != null) {
                body.release();
            }
            result.complete(entry);
        }
    }

    private CacheEntry seal(ByteBuf body) throws IOException {
        ensureOpen();
        long bodyLength = position - pending.regionLength();
        if (declaredLength >= 0 && bodyLength != declaredLength) {
            LOG.debug("Not storing {}: body has {} of {} bytes", pending.key(), bodyLength, declaredLength);
            cleanUp();
            if (body != null) {
                body.release();
            }
            return null;
        }
        pending.storedHeaders().set(HttpHeaderNames.CONTENT_LENGTH, bodyLength);
        EntryFile.Meta meta = new EntryFile.Meta(pending.key().text(), pending.status(), pending.reason(),
                pending.requestTime(), pending.responseTime(), pending.storedHeaders().entries(), pending.vary());
        byte[] region = EntryFile.encode(meta, pending.regionLength());
        if (region == null) {
            throw new IOException("headers outgrew their region");
        }
        int bodyCrc = (int) crc.getValue();
        EntryFile.writeFully(channel, ByteBuffer.wrap(EntryFile.seal(region, bodyLength, bodyCrc)), 0);
        channel.close();
        Files.createDirectories(pending.target().getParent());
        Files.move(pending.tmp(), pending.target(), StandardCopyOption.ATOMIC_MOVE);
        store.health().succeeded();
        // The direct buffer itself, not a read-only view: a view hides the memory address, and the epoll
        // transport then copies the body into a fresh direct buffer on every hit. Readers only ever get
        // retainedDuplicate()s, and nothing writes to them.
        ByteBuf memoryBody = body != null && body.readableBytes() == bodyLength ? body : null;
        if (memoryBody == null && body != null) {
            body.release();
        }
        return store.install(pending, meta, bodyLength, bodyCrc, memoryBody);
    }

    private void fail(IOException e) {
        failed = true;
        if (!store.isClosed()) {
            store.health().failed("writing " + pending.tmp(), e);
        }
        cleanUp();
    }

    private void cleanUp() {
        try {
            if (channel != null) {
                channel.close();
            }
            Files.deleteIfExists(pending.tmp());
        } catch (IOException e) {
            LOG.debug("Could not remove {}: {}", pending.tmp(), e.toString());
        }
    }
}
