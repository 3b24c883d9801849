package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.config.CacheConfig;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;

/**
 * Stored responses in files under {@link CacheConfig#directory()}, with a compact index in memory.
 *
 * <pre>
 *   cache/
 *     3/fa/3fa1...c2          a stored response: header region, then the body ({@link EntryFile})
 *     3/fa/3fa1...c2.7c1e-5.tmp   one being written
 * </pre>
 *
 * <p><b>Memory</b> is bounded by configuration, whatever the responses look like: the {@link CacheIndex} holds
 * 25 bytes per entry up to {@code max-entries}; the headers of the hottest entries and the bodies of the hottest
 * small ones are in the {@link HotTier} (heap up to a 16th of it, and {@code memory-size}); everything else is read
 * from the entry's file when it is asked for, on the key's disk thread, never on an event loop.
 *
 * <p><b>Starting.</b> The index is rebuilt in the background ({@link StoreLoader}); the store serves meanwhile:
 * a key not yet indexed is looked for at its own path, a function of the key. Header checksums are checked when a
 * file's header is read; a body's checksum when the body is first read: a corrupt or truncated file is removed and
 * never served.
 *
 * <p><b>Expiry.</b> An entry is kept while it can still be served: until {@code freshUntil} plus the largest of its
 * {@code stale-while-revalidate}, {@code stale-if-error} and the operator's {@code stale-if-error} grace; one with a
 * validator ({@code ETag}/{@code Last-Modified}) {@link #VALIDATOR_RETENTION} longer, since a 304 then saves sending
 * the body again. Past {@code max-entries} or {@code max-size}, the index's CLOCK evicts the least used.
 *
 * <p><b>Files.</b> Every write goes to a temporary file, renamed over the final name when complete; the file's
 * version is in its header, and whoever opens a file for an entry checks it. Files are written, renamed, deleted
 * and read on the disk threads ({@link DiskThreads}), each key always on the same one. An unusable directory or a
 * full disk never throws to callers: see {@link DiskHealth}.
 */
public final class DiskCacheStore implements CacheStore {
    /** The largest body the memory tier takes, whatever its size. */
    static final int MEMORY_BODY_CAP = 8 << 20;
    static final long VALIDATOR_RETENTION = Duration.ofDays(1).toMillis();
    /** A hit from disk reads header and body in one read up to this size. */
    static final int ONE_READ = 64 << 10;
    /**
     * Writers begun and not yet finished, at most: when the disk falls this far behind, further responses are
     * passed through unstored until it catches up, rather than queue without bound (each waiting writer holds its
     * headers and gathered body: a few KiB of heap).
     */
    static final int MAX_PENDING_WRITERS = 2048;
    /** Seconds in the index count from 2020-01-01T00:00:00Z: an int lasts until 2088. */
    static final long EPOCH_MILLIS = 1_577_836_800_000L;
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);
    private static final CompletableFuture<CacheEntry> NONE = CompletableFuture.completedFuture(null);

    private final CacheConfig cfg;
    private final Clock clock;
    private final Path dir;
    private final DiskThreads disk;
    private final DiskHealth health;
    private final CacheIndex index;
    private final HotTier hot;
    private final VaryNames varyNames = new VaryNames();
    private final Invalidations invalidations = new Invalidations();
    private final HeaderRewriter headerRewriter;
    private final StoreLoader loader;
    private final ScheduledExecutorService manager;
    /** Unique to this process, in temporary file names: the loader removes only other runs' leftovers. */
    private final String run = Integer.toHexString(ThreadLocalRandom.current().nextInt() & 0x7fff_ffff);
    private final AtomicInteger versions = new AtomicInteger(ThreadLocalRandom.current().nextInt());
    private final int memoryBodyLimit;
    private final AtomicInteger pendingWriters = new AtomicInteger();
    private volatile long behindWarnedAt;
    private final java.util.concurrent.atomic.AtomicBoolean loadStarted = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean closed;

    /** Opens the cache directory (creating it if needed) and starts rebuilding the index from it. Never throws. */
    public DiskCacheStore(CacheConfig cfg, Clock clock) {
        this(cfg, clock, false);
    }

    /** With {@code clearFirst}, every stored response is deleted before the store opens ({@code --clear-cache}). */
    public DiskCacheStore(CacheConfig cfg, Clock clock, boolean clearFirst) {
        this(cfg, clock, clearFirst, true);
    }

    /** With {@code load} false the index is not rebuilt until {@link #startLoading()} (the proxy: once it listens). */
    public DiskCacheStore(CacheConfig cfg, Clock clock, boolean clearFirst, boolean load) {
        this.cfg = cfg;
        this.clock = clock;
        this.dir = cfg.directory().toAbsolutePath().normalize();
        this.disk = DiskThreads.forThisMachine();
        this.health = new DiskHealth(clock);
        this.index = new CacheIndex(maxEntries(cfg), cfg.maxSize(), this::nowSeconds, this::removed);
        this.hot = new HotTier(headerBytes(), cfg.memorySize());
        this.memoryBodyLimit = hot.hasMemoryTier() ? memoryBodyLimit(cfg.memorySize()) : 0;
        this.headerRewriter = new HeaderRewriter(this);
        this.loader = new StoreLoader(this);
        this.manager = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pibl-cache-manager");
            t.setDaemon(true);
            return t;
        });
        if (clearFirst) {
            loader.deleteAll();
        }
        if (cfg.enabled()) {
            LOG.info("Cache {}: an index of up to {} entries (at most ~{} MiB of heap), headers of hot entries {} MiB, "
                            + "memory tier {} MiB; loading the index in the background", dir, index.capacity(),
                    Math.max(1, Math.round(index.capacity() * 25 / 0.8 / (1 << 20))), headerBytes() >> 20,
                    cfg.memorySize() >> 20);
            if (load) {
                startLoading();
            }
            manager.scheduleWithFixedDelay(this::expire, 5, 5, TimeUnit.SECONDS);
        } else {
            loader.markLoaded();
        }
    }

    /** Starts rebuilding the index in the background (once). */
    @Override
    public void startLoading() {
        if (cfg.enabled() && loadStarted.compareAndSet(false, true)) {
            manager.execute(loader::load);
        }
    }

    /** {@code cache.max-entries}, or when 0 one entry per 128 bytes of heap (1,048,576 with {@code -Xmx128m}). */
    static long maxEntries(CacheConfig cfg) {
        return cfg.maxEntries() > 0 ? cfg.maxEntries() : Math.max(10_000, Runtime.getRuntime().maxMemory() / 128);
    }

    /** The heap the hot entries' headers may take: a 16th of it, between 1 and 64 MiB. */
    private static long headerBytes() {
        return Math.max(1L << 20, Math.min(64L << 20, Runtime.getRuntime().maxMemory() / 16));
    }

    /**
     * The largest body kept in a memory tier of {@code memorySize} bytes: 1/32 of it (2 MiB for the default 64 MiB),
     * so the tier always holds at least 32 bodies, and at most {@link #MEMORY_BODY_CAP}. Sending from memory is one
     * copy into the socket; measured on io_uring, a 1 MiB hit costs ~330 us of proxy CPU from memory against ~950 us
     * spliced from its file (epoll's sendfile: ~390 us). Larger bodies are sent from their files.
     */
    static int memoryBodyLimit(long memorySize) {
        return (int) Math.min(MEMORY_BODY_CAP, Math.max(0, memorySize / 32));
    }

    // ---- lookups ----

    @Override
    public CompletableFuture<CacheEntry> lookup(CacheKey key, HttpHeaders requestHeaders) {
        Digest primary = key.digest();
        CacheIndex.Slot slot = index.get(primary);
        if (slot == null) {
            return loader.done() ? NONE : onDisk(key, requestHeaders);
        }
        if (slot.isMarker()) {
            Digest variant = variant(key, slot, requestHeaders);
            slot = variant == null ? null : index.get(variant);
            if (slot == null) {
                return variant == null || loader.done() ? NONE : onDisk(key, requestHeaders);
            }
        }
        CacheEntry e = hot.get(slot.digest(), slot.version());
        if (e != null && e.key().equals(key.text()) && Vary.matches(e.varyValues(), requestHeaders)) {
            return CompletableFuture.completedFuture(e);
        }
        return onDisk(key, requestHeaders);
    }

    private Digest variant(CacheKey key, CacheIndex.Slot marker, HttpHeaders requestHeaders) {
        List<String> names = varyNames.names(marker.aux());
        return names == null ? null : EntryFile.variantDigest(key.digest(), key.text(), marker.version(),
                Vary.values(names, requestHeaders));
    }

    /** The lookup, finished on the key's disk thread: the index again, then the files. */
    private CompletableFuture<CacheEntry> onDisk(CacheKey key, HttpHeaders requestHeaders) {
        CompletableFuture<CacheEntry> found = new CompletableFuture<>();
        long began = invalidations.now();
        disk.of(key.digest()).execute(() -> {
            CacheEntry e = null;
            try {
                e = resolve(key, requestHeaders, began);
            } finally {
                found.complete(e);
            }
        });
        return found;
    }

    /** On the key's disk thread: what {@link #lookup} could not answer from memory. */
    private CacheEntry resolve(CacheKey key, HttpHeaders requestHeaders, long began) {
        CacheIndex.Slot slot = index.get(key.digest());
        if (slot == null && !loader.done()) {
            slot = loader.load(key.digest(), began); // not indexed yet: the key's own file
        }
        if (slot != null && slot.isMarker()) {
            Digest variant = variant(key, slot, requestHeaders);
            slot = variant == null ? null : index.get(variant);
            if (slot == null && variant != null && !loader.done()) {
                slot = loader.load(variant, began);
            }
        }
        if (slot == null || slot.isMarker()) {
            return null;
        }
        CacheEntry hotEntry = hot.get(slot.digest(), slot.version());
        CacheEntry e = hotEntry != null ? hotEntry : read(slot);
        return e != null && e.key().equals(key.text()) && Vary.matches(e.varyValues(), requestHeaders) ? e : null;
    }

    /**
     * On the digest's disk thread: the entry of an indexed response, from its file, its body checksum verified on
     * this first read (and the body kept in memory when small). Null, and the file removed, if it is truncated,
     * corrupt, or not the version the index holds.
     */
    private CacheEntry read(CacheIndex.Slot slot) {
        Path file = EntryFile.path(dir, slot.digest());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            int first = (int) Math.min(size, size <= ONE_READ ? ONE_READ : 4096);
            ByteBuf buf = Unpooled.directBuffer(first);
            try {
                ByteBuffer nio = buf.nioBuffer(0, first);
                EntryFile.readFully(ch, nio, 0);
                nio.flip();
                EntryFile.Header h = EntryFile.read(ch, nio.duplicate(), size);
                if (h.kind() != EntryFile.RESPONSE || h.version() != slot.version()) {
                    return null; // replaced since the index was read: the next lookup finds the new one
                }
                ByteBuf body = null;
                boolean verified = slot.verified();
                if (h.bodyLength() <= memoryBodyLimit) {
                    ByteBuf read = buf;
                    buf = null;
                    body = memoryBody(ch, read, h, first);
                    verified = crc(body) == h.bodyCrc();
                } else if (!verified) {
                    verified = EntryFile.bodyCrc(ch, h.regionLength(), h.bodyLength()) == h.bodyCrc();
                }
                if (!verified) {
                    if (body != null) {
                        body.release();
                    }
                    throw new EntryFile.CorruptEntryException("body checksum mismatch");
                }
                index.addFlags(slot.digest(), slot.version(), CacheIndex.VERIFIED);
                CacheEntry e = newEntry(h.meta(), slot.digest(), h.version(), file, h.regionLength(), h.bodyLength(),
                        h.bodyCrc(), body);
                if (body != null) {
                    hot.putBody(slot.digest(), slot.version(), body);
                }
                hot.put(e);
                return e;
            } finally {
                if (buf != null) {
                    buf.release();
                }
            }
        } catch (NoSuchFileException gone) {
            index.remove(slot.digest(), slot.version());
        } catch (EntryFile.CorruptEntryException corrupt) {
            LOG.warn("Removing cache file {}: {}", file, corrupt.getMessage());
            index.remove(slot.digest(), slot.version());
            deleteQuietly(file);
        } catch (IOException e) {
            LOG.debug("Could not read {}: {}", file, e.toString());
        }
        return null;
    }

    /** The body as a direct buffer of its own: sliced out of what was read already, the rest read now. */
    private static ByteBuf memoryBody(FileChannel ch, ByteBuf read, EntryFile.Header h, int have) throws IOException {
        int length = (int) h.bodyLength();
        int inRead = Math.max(0, Math.min(length, have - h.regionLength()));
        ByteBuf body = Unpooled.directBuffer(Math.max(1, length));
        try {
            body.writeBytes(read, h.regionLength(), inRead);
            if (inRead < length) {
                ByteBuffer rest = body.nioBuffer(inRead, length - inRead);
                EntryFile.readFully(ch, rest, h.regionLength() + (long) inRead);
                body.writerIndex(length);
            }
            return body;
        } catch (IOException | RuntimeException e) {
            body.release();
            throw e;
        } finally {
            read.release();
        }
    }

    private static int crc(ByteBuf body) {
        CRC32C crc = new CRC32C();
        crc.update(body.nioBuffer());
        return (int) crc.getValue();
    }

    // ---- writes ----

    @Override
    public CacheWriter begin(CacheKey key, HttpHeaders requestHeaders, int status, String reason,
                             HttpHeaders storedHeaders, long requestTime, long responseTime) {
        if (closed || !cfg.enabled() || !health.writable() || tooFarBehind()) {
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
            if (declared < 0 || declared > cfg.maxObjectSize()) {
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
            varyId = varyNames.intern(names);
            if (varyId < 0) {
                return null; // yet another Vary list, and the table is full
            }
            vary = Vary.values(names, requestHeaders);
            CacheIndex.Slot current = index.peek(primary);
            generation = current != null && current.isMarker() && current.aux() == varyId
                    ? current.version() : versions.incrementAndGet();
            marker = new EntryFile.Marker(key.text(), generation, names);
            digest = EntryFile.variantDigest(primary, key.text(), generation, vary);
        }
        int version = versions.incrementAndGet();
        String why = reason == null ? "" : reason;
        EntryFile.Meta meta = new EntryFile.Meta(key.text(), status, why, requestTime, responseTime, List.of(), vary,
                generation);
        DiskCacheWriter.Pending pending = new DiskCacheWriter.Pending(key, primary, digest, version, meta, stored,
                marker, varyId, EntryFile.tmpPath(dir, digest, run, version), EntryFile.path(dir, digest),
                invalidations.now());
        pendingWriters.incrementAndGet();
        DiskCacheWriter writer = new DiskCacheWriter(this, pending, cfg.maxObjectSize(), declared, memoryBodyLimit);
        writer.done().whenComplete((e, t) -> pendingWriters.decrementAndGet());
        return writer;
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

    /**
     * On the key's disk thread, once the entry file is in place: the marker first (a variant's key must find it),
     * then the entry, unless the key was invalidated or the store cleared or closed since {@code p} began (then the
     * file goes). The entry's body, if given, goes to the memory tier. Null if refused.
     */
    CacheEntry install(DiskCacheWriter.Pending p, int regionLength, long bodyLength, int bodyCrc, ByteBuf memoryBody)
            throws IOException {
        EntryFile.Meta m = p.meta();
        CacheEntry entry = newEntry(m.key(), m.status(), m.reason(), m.requestTime(), m.responseTime(), m.vary(),
                m.generation(), p.storedHeaders(), p.digest(), p.version(), p.target(), regionLength, bodyLength,
                bodyCrc, memoryBody);
        int keep = seconds(entry.keepUntil());
        if (p.marker() != null && !currentMarker(p)) { // new, or evicted since the writer began
            try {
                writeMarker(p);
            } catch (IOException e) {
                refused(p, memoryBody);
                throw e;
            }
            if (!index.put(p.primary(), (int) p.marker().generation(), p.varyId(), keep,
                    CacheIndex.MARKER | CacheIndex.VERIFIED, () -> admits(p))) {
                index.remove(p.primary(), -1);
                deleteQuietly(EntryFile.path(dir, p.primary()));
                refused(p, memoryBody);
                return null;
            }
        }
        int kib = (int) Math.min(Integer.MAX_VALUE, blocksKiB(regionLength + bodyLength));
        if (!index.put(p.digest(), p.version(), kib, keep, CacheIndex.RESPONSE | CacheIndex.VERIFIED, () -> admits(p))) {
            refused(p, memoryBody);
            return null;
        }
        if (p.marker() != null) {
            index.keepAtLeast(p.primary(), (int) p.marker().generation(), keep);
        }
        if (memoryBody != null) {
            hot.putBody(p.digest(), p.version(), memoryBody);
        }
        hot.put(entry);
        health.succeeded();
        return entry;
    }

    private boolean currentMarker(DiskCacheWriter.Pending p) {
        CacheIndex.Slot m = index.peek(p.primary());
        return m != null && m.isMarker() && m.version() == (int) p.marker().generation() && m.aux() == p.varyId();
    }

    /** Not invalidated since it began. (A write committed before close still lands: close waits for it.) */
    private boolean admits(DiskCacheWriter.Pending p) {
        return invalidations.admits(p.primary(), p.began());
    }

    /**
     * Invalidated in the instant between the writer's last check and the index: the file it renamed over the
     * target goes, and with it whatever slot still named that file.
     */
    private void refused(DiskCacheWriter.Pending p, ByteBuf memoryBody) {
        deleteQuietly(p.target());
        index.remove(p.digest(), -1);
        if (memoryBody != null) {
            memoryBody.release();
        }
    }

    /** Whether {@code p} may still be indexed, asked before its file is renamed over the target. */
    boolean admitsNow(DiskCacheWriter.Pending p) {
        return admits(p);
    }

    /** A new marker, written to its temporary file and renamed into place (on the key's disk thread). */
    private void writeMarker(DiskCacheWriter.Pending p) throws IOException {
        int version = (int) p.marker().generation();
        Path target = EntryFile.path(dir, p.primary());
        Path tmp = EntryFile.tmpPath(dir, p.primary(), run, version);
        byte[] file = EntryFile.encode(p.marker(), version);
        if (file == null) {
            throw new IOException("Vary marker too large");
        }
        try (FileChannel ch = DiskCacheWriter.create(tmp)) {
            EntryFile.writeFully(ch, ByteBuffer.wrap(file), 0);
        }
        Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public CacheEntry refresh(CacheEntry entry, HttpHeaders mergedHeaders, long requestTime, long responseTime) {
        Freshness f = CachePolicy.freshness(mergedHeaders, requestTime, responseTime, cfg);
        CacheEntry refreshed = entry.refreshed(mergedHeaders, requestTime, responseTime, f,
                keepUntil(f, CachePolicy.hasValidators(mergedHeaders)));
        if (!closed && index.update(entry.digest(), entry.version(), entry.version(), -1,
                seconds(refreshed.keepUntil()), 0)) {
            hot.put(refreshed);
            disk.of(entry.digest()).execute(() -> headerRewriter.rewrite(refreshed));
        }
        return refreshed;
    }

    @Override
    public void remove(CacheEntry entry) {
        index.remove(entry.digest(), entry.version());
    }

    @Override
    public void invalidate(CacheKey key) {
        Digest d = key.digest();
        invalidations.invalidate(d);
        if (!index.remove(d, -1)) { // a marker too: its variants can no longer be found
            Path file = EntryFile.path(dir, d); // not indexed (yet): the loader must not find it either
            disk.of(d).execute(() -> {
                if (index.peek(d) == null) {
                    deleteQuietly(file);
                }
            });
        }
    }

    /** Every slot that leaves the index: its hot copy goes at once, its file on the key's disk thread. */
    private void removed(CacheIndex.Slot slot, CacheIndex.Removal why) {
        hot.invalidate(slot.digest());
        Path file = EntryFile.path(dir, slot.digest());
        disk.of(slot.digest()).execute(() -> {
            if (index.peek(slot.digest()) == null) { // not re-written meanwhile (writes run on this thread too)
                deleteQuietly(file);
            }
        });
    }

    @Override
    public void clear() {
        invalidations.invalidateAll();
        index.clear();
        hot.clear();
        loader.deleteAll();
    }

    @Override
    public long entryCount() {
        return index.responses();
    }

    @Override
    public long bytes() {
        return index.bytes();
    }

    @Override
    public StoreStatus status() {
        return new StoreStatus(!loader.done(), loader.scanned(), index.slots(), index.capacity());
    }

    /** Waits until the index is rebuilt (tests, and a caller that wants every entry indexed). */
    public boolean awaitLoaded(Duration timeout) throws InterruptedException {
        return loader.await(timeout);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true; // no new writers; writers still streaming give up at their next chunk
        loader.stop();
        manager.shutdownNow();
        try {
            if (!disk.shutdown(30)) {
                LOG.warn("Cache disk work still running after 30 s; leaving it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        hot.clear();
    }

    /** Lets every queued disk task run, twice over (deletions queued by the first round too): for tests. */
    void settle() throws InterruptedException {
        disk.settle();
        disk.settle();
    }

    /** Removes the expired entries now rather than at the next sweep; how many (tests). */
    int expireNow() {
        return index.expire();
    }

    private void expire() {
        try {
            int n = index.expire();
            if (n > 0) {
                LOG.debug("Cache: {} expired entries removed", n);
            }
        } catch (RuntimeException e) {
            LOG.error("Cache expiry sweep failed", e);
        }
    }

    // ---- for the writer, the loader and the header rewriter ----

    Path directory() {
        return dir;
    }

    CacheConfig config() {
        return cfg;
    }

    String run() {
        return run;
    }

    DiskThreads disk() {
        return disk;
    }

    DiskHealth health() {
        return health;
    }

    CacheIndex index() {
        return index;
    }

    HotTier hot() {
        return hot;
    }

    VaryNames varyNames() {
        return varyNames;
    }

    Invalidations invalidations() {
        return invalidations;
    }

    boolean isClosed() {
        return closed;
    }

    int nextVersion() {
        return versions.incrementAndGet();
    }

    long now() {
        return clock.millis();
    }

    int nowSeconds() {
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, Math.floorDiv(clock.millis() - EPOCH_MILLIS, 1000)));
    }

    /** A keep time in epoch millis as index seconds, rounded up. */
    static int seconds(long epochMillis) {
        long s = Math.floorDiv(epochMillis - EPOCH_MILLIS + 999, 1000);
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, s));
    }

    /** What a file of {@code bytes} takes on disk, in KiB: whole 4 KiB blocks. */
    static long blocksKiB(long bytes) {
        return (bytes + 4095) / 4096 * 4;
    }

    /** Builds an entry from a file's meta, with its freshness under the current configuration. */
    CacheEntry newEntry(EntryFile.Meta meta, Digest digest, int version, Path file, long bodyOffset, long bodyLength,
                        int bodyCrc, ByteBuf memoryBody) {
        HttpHeaders headers = new DefaultHttpHeaders();
        for (Map.Entry<String, String> h : meta.headers()) {
            headers.add(h.getKey(), h.getValue());
        }
        return newEntry(meta.key(), meta.status(), meta.reason(), meta.requestTime(), meta.responseTime(), meta.vary(),
                meta.generation(), headers, digest, version, file, bodyOffset, bodyLength, bodyCrc, memoryBody);
    }

    private CacheEntry newEntry(String key, int status, String reason, long requestTime, long responseTime,
                                Map<String, String> vary, long generation, HttpHeaders headers, Digest digest,
                                int version, Path file, long bodyOffset, long bodyLength, int bodyCrc,
                                ByteBuf memoryBody) {
        headers.set(HttpHeaderNames.CONTENT_LENGTH, bodyLength);
        Freshness f = CachePolicy.freshness(headers, requestTime, responseTime, cfg);
        return new CacheEntry(key, digest, version, status, reason, headers, vary, requestTime, responseTime,
                bodyLength, bodyCrc, file, bodyOffset, memoryBody, f, keepUntil(f, CachePolicy.hasValidators(headers)),
                generation);
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

    /** See the class comment, "Expiry". */
    long keepUntil(Freshness f, boolean hasValidators) {
        long window = Math.max(Math.max(f.staleWhileRevalidate(), f.staleIfError()), cfg.staleIfError().toMillis());
        long usable = Freshness.saturatedAdd(f.freshUntil(), window);
        return hasValidators ? Freshness.saturatedAdd(usable, VALIDATOR_RETENTION) : usable;
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.debug("Could not delete {}: {}", file, e.toString());
        }
    }
}
