package pibl.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.netty.buffer.ByteBuf;
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
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Stored responses in files under {@link CacheConfig#directory()}, indexed in memory by Caffeine.
 *
 * <p><b>Index.</b> Key text to {@link Variants}, weighed by file size (KiB) against {@link CacheConfig#maxSize()};
 * W-TinyLFU picks what to evict. Small bodies (up to {@link #MEMORY_BODY_LIMIT}) are also kept in a second Caffeine
 * cache bounded by {@link CacheConfig#memorySize()}, whose removal releases the buffer.
 *
 * <p><b>Expiry.</b> An entry is kept while it can still be served: until {@code freshUntil} plus the largest of its
 * {@code stale-while-revalidate}, {@code stale-if-error} and the operator's {@code stale-if-error} grace. An entry
 * with a validator ({@code ETag}/{@code Last-Modified}) is kept {@link #VALIDATOR_RETENTION} longer, since a 304
 * then saves sending the body again; each revalidation renews it. The same rule removes files at start.
 *
 * <p><b>Files.</b> See {@link EntryFile}. Every write goes to {@code tmp/} and is renamed into place with
 * {@code ATOMIC_MOVE}; every version of a variant has its own file name, so a removal can never delete the file of
 * the version that replaced it: the removal listener deletes only files no longer referenced by the index. Files
 * are deleted on the disk threads, never on the caller's. At start the directory is scanned, and truncated, corrupt
 * (checksum), misplaced, expired and temporary files are deleted; files this store did not name are left alone.
 *
 * <p><b>Failures.</b> An unusable directory or a full disk never throws to callers: see {@link DiskHealth}.
 */
public final class DiskCacheStore implements CacheStore {
    static final int MEMORY_BODY_LIMIT = 256 * 1024;
    static final long VALIDATOR_RETENTION = Duration.ofDays(1).toMillis();
    private static final long MAX_EXPIRY_NANOS = TimeUnit.DAYS.toNanos(365);
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);

    private final CacheConfig cfg;
    private final Clock clock;
    private final Path dir;
    private final ExecutorService disk;
    private final Executor caffeineExecutor;
    private final SerialExecutor headerWrites;
    private final DiskHealth health;
    private final Cache<String, Variants> index;
    private final Cache<Path, ByteBuf> memory;
    private final AtomicLong versions = new AtomicLong();
    private final AtomicLong epoch = new AtomicLong();
    private final Cache<String, Long> invalidatedAt;
    private volatile long clearedAt;
    private volatile boolean closed;

    /** Opens (creating it if needed) the cache directory and rebuilds the index from its files. */
    public DiskCacheStore(CacheConfig cfg, Clock clock) {
        this(cfg, clock, newDiskExecutor());
    }

    /** With the given disk executor (tests pass a same-thread one); it is shut down by {@link #close()}. */
    DiskCacheStore(CacheConfig cfg, Clock clock, ExecutorService disk) {
        this.cfg = cfg;
        this.clock = clock;
        this.dir = cfg.directory().toAbsolutePath().normalize();
        this.disk = disk;
        this.caffeineExecutor = task -> {
            try {
                disk.execute(task);
            } catch (RejectedExecutionException shutDown) {
                task.run();
            }
        };
        this.headerWrites = new SerialExecutor(disk);
        this.health = new DiskHealth(clock);
        this.index = Caffeine.newBuilder()
                .executor(caffeineExecutor)
                .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
                .maximumWeight(Math.max(1, cfg.maxSize() / 1024))
                .weigher((String key, Variants v) -> v.weightKiB())
                .expireAfter(new KeepUntil())
                .removalListener(this::onRemoval)
                .build();
        this.memory = cfg.memorySize() <= 0 ? null : Caffeine.newBuilder()
                .executor(caffeineExecutor)
                .maximumWeight(cfg.memorySize())
                .weigher((Path p, ByteBuf b) -> b.readableBytes())
                .removalListener((Path p, ByteBuf b, RemovalCause c) -> {
                    if (b != null) {
                        b.release();
                    }
                })
                .build();
        this.invalidatedAt = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(Duration.ofMinutes(10))
                .build();
        if (cfg.enabled()) {
            new StoreLoader(this).load();
        }
    }

    private static ExecutorService newDiskExecutor() {
        int threads = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "pibl-cache-disk-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    // ---- the API ----

    @Override
    public CacheEntry lookup(CacheKey key, HttpHeaders requestHeaders) {
        Variants variants = index.getIfPresent(key.text());
        if (variants == null) {
            return null;
        }
        long now = clock.millis();
        CacheEntry best = null;
        for (CacheEntry e : variants.entries()) {
            if (e.keepUntil() > now && Vary.matches(e.varyValues(), requestHeaders)
                    && (best == null || e.responseTime() > best.responseTime()
                    || (e.responseTime() == best.responseTime() && e.version() > best.version()))) {
                best = e;
            }
        }
        return best;
    }

    @Override
    public CacheWriter begin(CacheKey key, HttpHeaders requestHeaders, int status, String reason,
                             HttpHeaders responseHeaders, long requestTime, long responseTime) {
        if (closed || !cfg.enabled() || !health.writable()) {
            return null;
        }
        long declared = -1;
        String contentLength = responseHeaders.get(HttpHeaderNames.CONTENT_LENGTH);
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
        HttpHeaders stored = CachePolicy.storedHeaders(responseHeaders, responseTime);
        List<String> varyNames = Vary.names(stored);
        if (varyNames.contains("*")) {
            return null;
        }
        Map<String, String> vary = Vary.values(varyNames, requestHeaders);
        String variantHash = EntryFile.variantHash(key, vary);
        long version = versions.incrementAndGet();
        stored.set(HttpHeaderNames.CONTENT_LENGTH, Long.MAX_VALUE); // widest value, to size the header region
        DiskCacheWriter.Pending pending = new DiskCacheWriter.Pending(key, new DefaultHttpHeaders().add(requestHeaders),
                status, reason == null ? "" : reason, stored, vary, variantHash, version, requestTime, responseTime,
                0, EntryFile.tmpPath(dir, variantHash, version), EntryFile.path(dir, variantHash, version),
                epoch.get());
        byte[] region = EntryFile.encode(meta(pending), 0);
        if (region == null) {
            return null;
        }
        pending = new DiskCacheWriter.Pending(pending.key(), pending.requestHeaders(), status, pending.reason(), stored,
                vary, variantHash, version, requestTime, responseTime, region.length, pending.tmp(), pending.target(),
                pending.epoch());
        int memoryLimit = memory == null ? 0 : (int) Math.min(MEMORY_BODY_LIMIT, cfg.memorySize());
        return new DiskCacheWriter(this, pending, cfg.maxObjectSize(), declared, memoryLimit);
    }

    @Override
    public CompletableFuture<CacheEntry> updateHeaders(CacheEntry entry, HttpHeaders notModifiedHeaders,
                                                       long requestTime, long responseTime) {
        HttpHeaders merged = CachePolicy.updatedHeaders(entry.headers(), notModifiedHeaders, responseTime, cfg);
        CacheEntry refreshed = entry.refreshed(merged, requestTime, responseTime,
                CachePolicy.freshness(merged, requestTime, responseTime, cfg), 0);
        refreshed = entry.refreshed(merged, requestTime, responseTime, refreshed.freshness(), keepUntil(refreshed));
        CacheControl cc = CacheControl.of(merged);
        boolean keep = !closed && !cc.has("no-store") && !cc.has("private") && !Vary.isWildcard(merged);
        CacheEntry replacement = keep ? refreshed : null;
        boolean[] replaced = {false};
        index.asMap().computeIfPresent(entry.key(), (k, old) -> {
            Variants updated = old.replacing(entry.file(), replacement);
            if (updated == null) {
                return old;
            }
            replaced[0] = true;
            return updated.entries().isEmpty() ? null : updated;
        });
        if (replaced[0] && keep) {
            headerWrites.execute(() -> rewriteHeader(entry.key(), entry.file()));
        }
        return CompletableFuture.completedFuture(refreshed);
    }

    @Override
    public void invalidate(CacheKey key) {
        invalidatedAt.put(key.text(), epoch.incrementAndGet());
        index.invalidate(key.text());
    }

    @Override
    public void clear() {
        clearedAt = epoch.incrementAndGet();
        index.invalidateAll();
        index.cleanUp();
        if (memory != null) {
            memory.invalidateAll();
            memory.cleanUp();
        }
        new StoreLoader(this).deleteAll();
    }

    @Override
    public long entryCount() {
        return index.asMap().values().stream().mapToLong(v -> v.entries().size()).sum();
    }

    @Override
    public long bytes() {
        return index.asMap().values().stream().mapToLong(Variants::bytes).sum();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        index.cleanUp();
        disk.shutdown();
        try {
            if (!disk.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("Cache disk work still running after 30 s; leaving it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (memory != null) {
            memory.invalidateAll();
            memory.cleanUp();
        }
    }

    /** Evicts and expires now rather than on the next access (tests). */
    void cleanUp() {
        index.cleanUp();
        if (memory != null) {
            memory.cleanUp();
        }
    }

    // ---- for the writer and the loader ----

    Path directory() {
        return dir;
    }

    Executor diskExecutor() {
        return disk;
    }

    DiskHealth health() {
        return health;
    }

    boolean isClosed() {
        return closed;
    }

    CacheConfig config() {
        return cfg;
    }

    Clock clock() {
        return clock;
    }

    void versionAtLeast(long version) {
        versions.accumulateAndGet(version, Math::max);
    }

    static EntryFile.Meta meta(DiskCacheWriter.Pending p) {
        return new EntryFile.Meta(p.key().text(), p.status(), p.reason(), p.requestTime(), p.responseTime(),
                p.storedHeaders().entries(), p.vary());
    }

    static EntryFile.Meta meta(CacheEntry e) {
        return new EntryFile.Meta(e.key(), e.status(), e.reason(), e.requestTime(), e.responseTime(),
                e.headers().entries(), e.varyValues());
    }

    /** Builds an entry with its freshness under the current configuration. */
    CacheEntry newEntry(EntryFile.Meta meta, String variantHash, long version, Path file, long bodyOffset,
                        long bodyLength, int bodyCrc, ByteBuf memoryBody) {
        HttpHeaders headers = new DefaultHttpHeaders();
        for (Map.Entry<String, String> h : meta.headers()) {
            headers.add(h.getKey(), h.getValue());
        }
        Freshness f = CachePolicy.freshness(headers, meta.requestTime(), meta.responseTime(), cfg);
        CacheEntry e = new CacheEntry(meta.key(), variantHash, version, meta.status(), meta.reason(), headers,
                meta.vary(), meta.requestTime(), meta.responseTime(), bodyLength, bodyCrc, file, bodyOffset,
                memoryBody, f, 0);
        return e.refreshed(e.headers(), e.requestTime(), e.responseTime(), f, keepUntil(e));
    }

    /** See the class comment, "Expiry". */
    long keepUntil(CacheEntry e) {
        Freshness f = e.freshness();
        long window = Math.max(Math.max(f.staleWhileRevalidate(), f.staleIfError()), cfg.staleIfError().toMillis());
        long usable = Freshness.saturatedAdd(f.freshUntil(), window);
        return e.hasValidators() ? Freshness.saturatedAdd(usable, VALIDATOR_RETENTION) : usable;
    }

    /** Indexes a committed file; null (and the file deleted) if the key was invalidated or cleared meanwhile. */
    CacheEntry install(DiskCacheWriter.Pending p, long bodyLength, int bodyCrc, ByteBuf memoryBody) {
        CacheEntry entry = newEntry(meta(p), p.variantHash(), p.version(), p.target(), p.regionLength(), bodyLength,
                bodyCrc, memoryBody);
        if (memoryBody != null) {
            memory.put(p.target(), memoryBody);
        }
        long now = clock.millis();
        boolean[] accepted = {false};
        index.asMap().compute(p.key().text(), (k, old) -> {
            Long invalidated = invalidatedAt.getIfPresent(k);
            if (closed || clearedAt > p.epoch() || (invalidated != null && invalidated > p.epoch())) {
                return old;
            }
            accepted[0] = true;
            return Variants.with(old, entry, p.requestHeaders(), now);
        });
        if (!accepted[0]) {
            if (memoryBody != null) {
                memory.invalidate(p.target());
            }
            deleteQuietly(p.target());
            return null;
        }
        return entry;
    }

    /** Indexes an entry found at start. */
    void restore(CacheEntry entry) {
        long now = clock.millis();
        index.asMap().compute(entry.key(), (k, old) -> Variants.with(old, entry, null, now));
    }

    // ---- removal and header rewrites (disk threads) ----

    private void onRemoval(String key, Variants removed, RemovalCause cause) {
        if (removed == null) {
            return;
        }
        Variants current = index.getIfPresent(key);
        Set<Path> live = new HashSet<>();
        if (current != null) {
            current.entries().forEach(e -> live.add(e.file()));
        }
        for (CacheEntry e : removed.entries()) {
            if (!live.contains(e.file())) {
                if (memory != null) {
                    memory.invalidate(e.file());
                }
                deleteQuietly(e.file());
            }
        }
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.debug("Could not delete {}: {}", file, e.toString());
        }
    }

    /**
     * Writes the indexed entry's current header into its file: in place when it fits the region (the body is not
     * touched, so concurrent readers are unaffected; a crash mid-write fails the header checksum at the next
     * start), otherwise into a new version of the file with the body copied by {@code transferTo}.
     */
    private void rewriteHeader(String key, Path file) {
        Variants variants = index.getIfPresent(key);
        CacheEntry current = variants == null ? null : variants.find(file);
        if (current == null) {
            return;
        }
        try {
            byte[] region = EntryFile.encode(meta(current), (int) current.bodyOffset());
            if (region != null) {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    EntryFile.writeFully(ch, ByteBuffer.wrap(EntryFile.seal(region, current.bodyLength(),
                            current.bodyCrc())), 0);
                }
                return;
            }
            moveToLargerRegion(current);
        } catch (NoSuchFileException gone) {
            LOG.debug("Entry file vanished before its header was rewritten: {}", file);
        } catch (IOException e) {
            health.failed("rewriting the header of " + file, e);
        }
    }

    private void moveToLargerRegion(CacheEntry current) throws IOException {
        long version = versions.incrementAndGet();
        Path tmp = EntryFile.tmpPath(dir, current.variantHash(), version);
        Path target = EntryFile.path(dir, current.variantHash(), version);
        byte[] region = EntryFile.encode(meta(current), 0);
        if (region == null) {
            return;
        }
        Files.createDirectories(tmp.getParent());
        try (FileChannel src = FileChannel.open(current.file(), StandardOpenOption.READ);
             FileChannel dst = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            EntryFile.writeFully(dst, ByteBuffer.wrap(EntryFile.seal(region, current.bodyLength(),
                    current.bodyCrc())), 0);
            dst.position(region.length);
            long done = 0;
            while (done < current.bodyLength()) {
                done += src.transferTo(current.bodyOffset() + done, current.bodyLength() - done, dst);
            }
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw e;
        }
        Files.createDirectories(target.getParent());
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        CacheEntry moved = current.movedTo(target, version, region.length);
        boolean[] swapped = {false};
        index.asMap().computeIfPresent(current.key(), (k, old) -> {
            Variants updated = old.find(current.file()) == current ? old.replacing(current.file(), moved) : null;
            swapped[0] = updated != null;
            return updated == null ? old : updated;
        });
        if (!swapped[0]) {
            deleteQuietly(target);
        }
    }

    /** Caffeine expiry: each key lives until the latest {@link #keepUntil} of its variants. */
    private final class KeepUntil implements Expiry<String, Variants> {
        @Override
        public long expireAfterCreate(String key, Variants value, long currentTime) {
            long millis = value.keepUntil() - TimeUnit.NANOSECONDS.toMillis(currentTime);
            if (millis <= 0) {
                return 0;
            }
            return millis >= TimeUnit.NANOSECONDS.toMillis(MAX_EXPIRY_NANOS)
                    ? MAX_EXPIRY_NANOS : TimeUnit.MILLISECONDS.toNanos(millis);
        }

        @Override
        public long expireAfterUpdate(String key, Variants value, long currentTime, long currentDuration) {
            return expireAfterCreate(key, value, currentTime);
        }

        @Override
        public long expireAfterRead(String key, Variants value, long currentTime, long currentDuration) {
            return currentDuration;
        }
    }
}
