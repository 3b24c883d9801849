package pibl.cache;

import io.netty.buffer.ByteBuf;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The write side of a {@link DiskCacheStore}: {@link #begin} decides where a response goes (its key's file, or a
 * variant's behind the key's Vary marker) and whether the disk can take it now; {@link #install}, the last step of
 * a {@link DiskCacheWriter} on the key's disk thread once the file is complete, writes the marker (first, so that
 * the key finds its variants), then indexes the entry unless the key was invalidated since the writer began, then
 * puts it in the hot tier.
 */
final class DiskWrites {
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);
    /**
     * Writers begun and not yet finished, at most: when the disk falls this far behind, further responses are
     * passed through unstored until it catches up, rather than queue without bound (each waiting writer holds its
     * headers and gathered body: a few KiB of heap).
     */
    static final int MAX_PENDING_WRITERS = 2048;
    /**
     * Past this many waiting writers the store says it is behind ({@link #whenWritable}): new misses wait for the
     * disk to come back under {@link #CAUGHT_UP} instead of adding to the queue, so that the cores go to the disk
     * threads rather than to responses that could not be stored anyway. Hits are never held.
     */
    static final int BEHIND = 1024;
    static final int CAUGHT_UP = 256;
    private final DiskCacheStore store;
    private final AtomicInteger pendingWriters = new AtomicInteger();
    private final WriterMemory memory = new WriterMemory();
    private final LongAdder stored = new LongAdder();
    private final Object caughtUpLock = new Object();
    private CompletableFuture<Void> caughtUp = CompletableFuture.completedFuture(null);
    private volatile long behindWarnedAt;

    DiskWrites(DiskCacheStore store) {
        this.store = store;
    }

    CacheWriter begin(CacheKey key, HttpHeaders requestHeaders, int status, String reason,
                             HttpHeaders storedHeaders, long requestTime, long responseTime) {
        if (!store.health().writable() || tooFarBehind()) {
            return null;
        }
        long declared = -1;
        String contentLength = storedHeaders.get(HttpHeaderNames.CONTENT_LENGTH);
        if (contentLength != null) {
            try {
                declared = Long.parseLong(contentLength.trim());
            } catch (NumberFormatException e) {
                return null;
            }
            if (declared < 0 || declared > store.config().maxObjectSize()) {
                return null;
            }
        }
        HttpHeaders stored = storedHeaders; // the caller's to give: CachePolicy.storedHeaders made it for this write
        if (headerBytes(stored) > EntryFile.MAX_REGION / 2) {
            return null; // a header region that large is no response to keep
        }
        Digest primary = key.digest();
        Digest digest = primary;
        Map<String, String> vary = Map.of();
        long generation = 0;
        EntryFile.Marker marker = null;
        int varyId = -1;
        List<String> names = Vary.names(stored);
        if (!names.isEmpty()) {
            varyId = store.varyNames().intern(names);
            if (varyId < 0) {
                return null; // yet another Vary list, and the table is full
            }
            vary = Vary.values(names, requestHeaders);
            CacheIndex.Slot current = store.index().peek(primary);
            generation = current != null && current.isMarker() && current.aux() == varyId
                    ? current.version() : store.nextVersion();
            marker = new EntryFile.Marker(key.text(), generation, names);
            digest = EntryFile.variantDigest(primary, key.text(), generation, vary);
        }
        int version = store.nextVersion();
        String why = reason == null ? "" : reason;
        EntryFile.Meta meta = new EntryFile.Meta(key.text(), status, why, requestTime, responseTime, List.of(), vary,
                generation);
        Invalidations invalidations = store.invalidations();
        long began = invalidations.writerBegins(primary);
        int waiting = pendingWriters.incrementAndGet();
        DiskCacheWriter writer;
        try {
            PendingWrite pending = new PendingWrite(key, primary, digest, version, meta, stored,
                    marker, varyId, EntryFile.tmpPath(store.directory(), digest, store.run(), version),
                    EntryFile.path(store.directory(), digest), began);
            writer = new DiskCacheWriter(store, pending, store.config().maxObjectSize(), declared,
                    store.memoryBodyLimit());
        } catch (RuntimeException | Error e) { // out of direct memory, say: nothing may stay counted
            writerDone(primary);
            throw e;
        }
        if (waiting >= BEHIND) {
            fallBehind();
        }
        writer.done().whenComplete((e, t) -> writerDone(primary));
        return writer;
    }

    private void writerDone(Digest primary) {
        store.invalidations().writerDone(primary);
        if (pendingWriters.decrementAndGet() <= CAUGHT_UP) {
            catchUp();
        }
    }

    WriterMemory memory() {
        return memory;
    }

    /** Responses committed to the index since start. */
    long stored() {
        return stored.sum();
    }

    /** Completes when the disk is not behind: at once unless {@link #BEHIND} writers wait. */
    CompletableFuture<Void> whenWritable() {
        synchronized (caughtUpLock) {
            return caughtUp;
        }
    }

    private void fallBehind() {
        synchronized (caughtUpLock) {
            if (caughtUp.isDone() && pendingWriters.get() >= BEHIND) {
                caughtUp = new CompletableFuture<>();
            }
        }
    }

    private void catchUp() {
        CompletableFuture<Void> done;
        synchronized (caughtUpLock) {
            done = caughtUp;
        }
        done.complete(null); // outside the lock: waiters resume on their own event loops
    }

    private boolean tooFarBehind() {
        if (pendingWriters.get() < MAX_PENDING_WRITERS) {
            return false;
        }
        long now = System.nanoTime();
        if (now - behindWarnedAt > TimeUnit.SECONDS.toNanos(10)) {
            behindWarnedAt = now;
            LOG.warn("Cache disk {} writes behind: passing responses through unstored until it catches up",
                    MAX_PENDING_WRITERS);
        }
        return true;
    }

    /** Roughly what the headers take in a header region. */
    private static long headerBytes(HttpHeaders headers) {
        long n = 0;
        for (java.util.Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
             it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            n += 8 + e.getKey().length() + e.getValue().length();
        }
        return n;
    }


    /**
     * On the key's disk thread, once the entry file is in place: the marker first (a variant's key must find it),
     * then the entry, unless the key was invalidated or the store cleared or closed since {@code p} began (then the
     * file goes). The entry's body, if given, goes to the memory tier. Null if refused.
     */
    CacheEntry install(PendingWrite p, int regionLength, long bodyLength, int bodyCrc, ByteBuf memoryBody)
            throws IOException {
        EntryFile.Meta m = p.meta();
        CacheEntry entry = store.newEntry(m.key(), m.status(), m.reason(), m.requestTime(), m.responseTime(), m.vary(),
                m.generation(), p.storedHeaders(), p.digest(), p.version(), p.target(), regionLength, bodyLength,
                bodyCrc, memoryBody);
        int keep = CacheIndex.seconds(entry.keepUntil());
        if (p.marker() != null && !currentMarker(p)) { // new, or evicted since the writer began
            try {
                writeMarker(p);
            } catch (IOException e) {
                refused(p, memoryBody);
                throw e;
            }
            if (!store.index().put(p.primary(), (int) p.marker().generation(), p.varyId(), keep,
                    CacheIndex.MARKER | CacheIndex.VERIFIED, () -> admits(p))) {
                store.index().remove(p.primary(), -1);
                DiskCacheStore.deleteQuietly(EntryFile.path(store.directory(), p.primary()));
                refused(p, memoryBody);
                return null;
            }
        }
        int kib = (int) Math.min(Integer.MAX_VALUE, CacheIndex.blocksKiB(regionLength + bodyLength));
        if (!store.index().put(p.digest(), p.version(), kib, keep, CacheIndex.RESPONSE | CacheIndex.VERIFIED, () -> admits(p))) {
            refused(p, memoryBody);
            return null;
        }
        if (p.marker() != null) {
            store.index().keepAtLeast(p.primary(), (int) p.marker().generation(), keep);
        }
        if (memoryBody != null) {
            store.hot().putBody(p.digest(), p.version(), memoryBody);
        }
        store.hot().put(entry);
        store.health().succeeded();
        stored.increment();
        return entry;
    }

    private boolean currentMarker(PendingWrite p) {
        CacheIndex.Slot m = store.index().peek(p.primary());
        return m != null && m.isMarker() && m.version() == (int) p.marker().generation() && m.aux() == p.varyId();
    }

    /** Not invalidated, nor banned, since it began. (A write committed before close still lands: close waits for it.) */
    private boolean admits(PendingWrite p) {
        return store.invalidations().admits(p.primary(), p.began(), p.key().text(), p.storedHeaders());
    }

    /**
     * Invalidated in the instant between the writer's last check and the index: the file it renamed over the
     * target goes, and with it whatever slot still named that file.
     */
    private void refused(PendingWrite p, ByteBuf memoryBody) {
        DiskCacheStore.deleteQuietly(p.target());
        store.index().remove(p.digest(), -1);
        if (memoryBody != null) {
            memoryBody.release();
        }
    }

    /** Whether {@code p} may still be indexed, asked before its file is renamed over the target. */
    boolean admitsNow(PendingWrite p) {
        return admits(p);
    }

    /** A new marker, written to its temporary file and renamed into place (on the key's disk thread). */
    private void writeMarker(PendingWrite p) throws IOException {
        int version = (int) p.marker().generation();
        Path target = EntryFile.path(store.directory(), p.primary());
        Path tmp = EntryFile.tmpPath(store.directory(), p.primary(), store.run(), version);
        byte[] file = EntryFile.encode(p.marker(), version);
        if (file == null) {
            throw new IOException("Vary marker too large");
        }
        try (FileChannel ch = EntryFile.create(tmp)) {
            EntryFile.writeFully(ch, ByteBuffer.wrap(file), 0);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    }

}
