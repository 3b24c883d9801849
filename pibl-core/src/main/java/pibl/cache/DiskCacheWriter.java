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
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * A {@link CacheWriter} into an entry file of the {@link DiskCacheStore}.
 *
 * <p>A body up to {@link #BUFFERED} bytes (or up to the memory tier's limit, when it goes there) is gathered in
 * memory and written with its header at commit, in one task on the key's disk thread: create the file (under its
 * final name when the key has none, else a temporary one renamed over it), one gathering write, index. That is
 * most responses, and it is why a fill costs one thread hand-off and three or four system calls. A larger body is streamed to the temporary file as it arrives, chunk by
 * chunk on the same thread, the header written last; only the chunks not yet on disk are in memory, at most
 * {@link #MAX_PENDING_BYTES}: a disk that falls further behind makes the writer give up rather than buffer the
 * response or slow the client. What all writers hold in memory together is bounded too (the store's
 * {@link WriterMemory}): past it, a writer streams instead.
 *
 * <p>Threads: {@code write}/{@code commit}/{@code abort} run on the caller's thread (the exchange's event loop) and
 * only hand retained duplicates or the gathered buffer to the disk thread; the file channel, checksum and position
 * are touched only there.
 */
final class DiskCacheWriter implements CacheWriter {
    static final long MAX_PENDING_BYTES = 16L << 20;
    /** Bodies up to this are gathered in memory and written in one go at commit. */
    static final int BUFFERED = 64 << 10;
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);

    private final DiskCacheStore store;
    private final PendingWrite pending;
    private final WriterMemory memory;
    private final long maxObjectSize;
    private final long declaredLength;
    private final int memoryLimit;
    private final Executor disk;
    private final AtomicLong queuedBytes = new AtomicLong();
    private final CompletableFuture<CacheEntry> result = new CompletableFuture<>();

    // caller thread
    private long received;
    private ByteBuf gathered;
    private long gatheredBudget;
    private boolean streaming;
    private boolean closed;

    // disk thread
    private volatile boolean failed;
    private FileChannel channel;
    /** The file being written, deleted if the write fails or is abandoned: the temporary one, or the target. */
    private Path writing;
    private long position;
    private final CRC32C crc = new CRC32C();
    /** The header region's size, fixed when streaming starts (the body goes after it); 0 for a gathered body. */
    private int regionLength;

    DiskCacheWriter(DiskCacheStore store, PendingWrite pending, long maxObjectSize, long declaredLength,
                    int memoryLimit) {
        this.store = store;
        this.pending = pending;
        this.memory = store.writes().memory();
        this.maxObjectSize = maxObjectSize;
        this.declaredLength = declaredLength;
        this.memoryLimit = memoryLimit;
        this.disk = store.disk().of(pending.digest());
        int gatherUpTo = Math.max(BUFFERED, memoryLimit);
        if (declaredLength > gatherUpTo) {
            streaming = true;
        } else {
            int initial = Math.max(1, declaredLength >= 0 ? (int) declaredLength : Math.min(8192, gatherUpTo));
            if (reserve(initial)) {
                try {
                    gathered = Unpooled.directBuffer(initial, gatherUpTo);
                } catch (RuntimeException | Error e) { // out of direct memory: give the reservation back
                    releaseGathered();
                    throw e;
                }
            } else {
                streaming = true;
            }
        }
    }

    private boolean reserve(long bytes) {
        if (!memory.reserveGathered(bytes)) {
            return false;
        }
        gatheredBudget += bytes;
        return true;
    }

    /**
     * Makes the gathered buffer hold {@code size} bytes, its new capacity reserved first (the budget counts what
     * is allocated, not what was received); false if the budget cannot take it.
     */
    private boolean grow(int size) {
        if (size <= gathered.capacity()) {
            return true;
        }
        int capacity = gathered.alloc().calculateNewCapacity(size, gathered.maxCapacity());
        if (!reserve(capacity - gathered.capacity())) {
            return false;
        }
        gathered.capacity(capacity);
        return true;
    }

    private void releaseGathered() {
        if (gathered != null) {
            gathered.release();
            gathered = null;
        }
        memory.releaseGathered(gatheredBudget);
        gatheredBudget = 0;
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
        if (!streaming) {
            if (received <= gathered.maxCapacity() && grow((int) received)) {
                gathered.writeBytes(chunk, chunk.readerIndex(), n);
                return;
            }
            startStreaming(); // too large to gather, or the budget is spent: to the file from here on
        }
        append(chunk.retainedDuplicate());
    }

    /** Hands what was gathered to the file, and every later chunk with it. */
    private void startStreaming() {
        streaming = true;
        ByteBuf soFar = gathered;
        gathered = null;
        if (soFar != null && soFar.isReadable()) {
            append(soFar.retainedDuplicate());
        }
        if (soFar != null) {
            soFar.release();
        }
        memory.releaseGathered(gatheredBudget);
        gatheredBudget = 0;
    }

    private void append(ByteBuf data) {
        int n = data.readableBytes();
        boolean mine = queuedBytes.addAndGet(n) <= MAX_PENDING_BYTES;
        if (!mine || !memory.reserveStreaming(n)) {
            LOG.debug("Cache disk too far behind ({} for this writer, {} for all); not storing {}",
                    MAX_PENDING_BYTES, WriterMemory.STREAMING_BUDGET, pending.key());
            queuedBytes.addAndGet(-n);
            data.release();
            abort();
            return;
        }
        disk.execute(() -> {
            try {
                if (!failed) {
                    ensureOpen();
                    writeAt(data, position);
                    position += n;
                }
            } catch (IOException e) {
                fail(e);
            } finally {
                queuedBytes.addAndGet(-n);
                memory.releaseStreaming(n);
                data.release();
            }
        });
    }

    /** Completes once the writer is finished, committed or not (the same future {@link #commit()} returns). */
    CompletableFuture<CacheEntry> done() {
        return result;
    }

    @Override
    public CompletableFuture<CacheEntry> commit() {
        if (closed) {
            return result;
        }
        closed = true;
        ByteBuf body = gathered;
        long budget = gatheredBudget;
        gathered = null;
        gatheredBudget = 0;
        disk.execute(() -> {
            CacheEntry entry = null;
            try {
                entry = streaming ? finishStreamed() : writeWhole(body);
            } catch (IOException e) {
                fail(e);
            } finally {
                memory.releaseGathered(budget);
                result.complete(entry);
            }
        });
        return result;
    }

    @Override
    public void abort() {
        if (closed) {
            return;
        }
        closed = true;
        releaseGathered();
        disk.execute(() -> {
            cleanUp();
            result.complete(null);
        });
    }

    /** The whole response in one go: header and gathered body, one write, rename, index. Takes {@code body}. */
    private CacheEntry writeWhole(ByteBuf body) throws IOException {
        try {
            long length = body.readableBytes();
            if (!complete(length)) {
                return null;
            }
            crc.update(body.nioBuffer());
            byte[] header = sealedHeader(length, 0);
            if (header == null) {
                return null;
            }
            // A key's first file is created under its final name: on this thread, which every read, load and
            // deletion of the key's files also runs on, nobody can see it half-written, and a crash half-way
            // leaves a file whose size or checksums fail. A file that exists is replaced with a rename, so that
            // whoever still reads the old one keeps reading it whole.
            FileChannel direct = EntryFile.createIfAbsent(pending.target());
            boolean renamed = direct == null;
            writing = renamed ? pending.tmp() : pending.target();
            try (FileChannel ch = direct != null ? direct : EntryFile.create(pending.tmp())) {
                channel = ch;
                ByteBuffer[] parts = {ByteBuffer.wrap(header), body.nioBuffer()};
                long total = parts[0].remaining() + length;
                long done = 0;
                while (done < total) {
                    done += ch.write(parts);
                }
            }
            channel = null;
            ByteBuf toMemory = null;
            if (length <= memoryLimit) { // the direct buffer itself: a read-only view would make epoll copy it per hit
                if (body.capacity() > length + (length >> 3)) {
                    body.capacity((int) length); // grown by doubling while gathered: the tier weighs what it holds
                }
                toMemory = body;
                body = null;
            }
            return place(header.length, length, toMemory, renamed);
        } finally {
            if (body != null) {
                body.release();
            }
        }
    }

    private CacheEntry finishStreamed() throws IOException {
        if (failed) {
            return null;
        }
        ensureOpen();
        long length = position - regionLength;
        byte[] header = complete(length) ? sealedHeader(length, regionLength) : null;
        if (header == null) {
            cleanUp();
            return null;
        }
        EntryFile.writeFully(channel, ByteBuffer.wrap(header), 0);
        channel.close();
        channel = null;
        return place(regionLength, length, null, true);
    }

    private boolean complete(long length) {
        if (declaredLength >= 0 && length != declaredLength) {
            LOG.debug("Not storing {}: body has {} of {} bytes", pending.key(), length, declaredLength);
            return false;
        }
        return true;
    }

    /** The header region for a body of {@code bodyLength}, sealed; null if the headers do not fit. */
    private byte[] sealedHeader(long bodyLength, int region) {
        pending.storedHeaders().set(HttpHeaderNames.CONTENT_LENGTH, bodyLength);
        byte[] encoded = EntryFile.encode(meta(), pending.version(), region);
        return encoded == null ? null : EntryFile.seal(encoded, bodyLength, (int) crc.getValue());
    }

    private EntryFile.Meta meta() {
        EntryFile.Meta m = pending.meta();
        return new EntryFile.Meta(m.key(), m.status(), m.reason(), m.requestTime(), m.responseTime(),
                pending.storedHeaders().entries(), m.vary(), m.generation());
    }

    /**
     * Renames the complete file into place (unless it was written there) and indexes it. Takes
     * {@code memoryBody}.
     */
    private CacheEntry place(int region, long length, ByteBuf memoryBody, boolean rename) throws IOException {
        if (!store.writes().admitsNow(pending)) { // invalidated meanwhile: never rename over what is there
            if (memoryBody != null) {
                memoryBody.release();
            }
            cleanUp(); // the file written: the temporary one, or ours at the target (created where nothing was)
            return null;
        }
        try {
            if (rename) {
                Files.move(pending.tmp(), pending.target(), StandardCopyOption.ATOMIC_MOVE);
            }
            writing = null; // in place: from now on the store's
        } catch (IOException e) {
            if (memoryBody != null) {
                memoryBody.release();
            }
            throw e;
        }
        return store.writes().install(pending, region, length, (int) crc.getValue(), memoryBody);
    }

    private void ensureOpen() throws IOException {
        if (channel == null) {
            // The region is sized for the widest Content-Length: the header is written last, over it.
            pending.storedHeaders().set(HttpHeaderNames.CONTENT_LENGTH, Long.MAX_VALUE);
            byte[] widest = EntryFile.encode(meta(), pending.version(), 0);
            if (widest == null) {
                throw new IOException("headers too large for a header region");
            }
            regionLength = widest.length;
            writing = pending.tmp();
            channel = EntryFile.create(pending.tmp());
            position = regionLength;
        }
    }

    private void writeAt(ByteBuf data, long at) throws IOException {
        ByteBuffer[] buffers = data.nioBufferCount() == 1 ? new ByteBuffer[] {data.nioBuffer()} : data.nioBuffers();
        long pos = at;
        for (ByteBuffer b : buffers) {
            int length = b.remaining();
            crc.update(b.duplicate());
            EntryFile.writeFully(channel, b, pos);
            pos += length;
        }
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
                channel = null;
            }
            if (writing != null) {
                Files.deleteIfExists(writing);
                writing = null;
            }
        } catch (IOException e) {
            LOG.debug("Could not remove {}: {}", writing, e.toString());
        }
    }
}
