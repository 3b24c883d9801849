package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.config.CacheConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
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
 * Stored responses in files under {@link CacheConfig#directory()}, indexed in memory ({@link CacheIndex}).
 *
 * <pre>
 *   cache/
 *     tmp/3fa1...-0000000000000007.tmp     a response being written
 *     3f/a1/3fa1...-0000000000000006       a stored response: header region, then the body (see EntryFile)
 * </pre>
 *
 * <p><b>Expiry.</b> An entry is kept while it can still be served: until {@code freshUntil} plus the largest of its
 * {@code stale-while-revalidate}, {@code stale-if-error} and the operator's {@code stale-if-error} grace. An entry
 * with a validator ({@code ETag}/{@code Last-Modified}) is kept {@link #VALIDATOR_RETENTION} longer, since a 304
 * then saves sending the body again; each revalidation renews it. The same rule removes files at start. Past
 * {@code maxSize}, Caffeine's W-TinyLFU evicts the least useful keys.
 *
 * <p><b>Files.</b> Every write goes to {@code tmp/} and is renamed into place with {@code ATOMIC_MOVE}. Every
 * version of a variant has its own file name, so a removal never deletes the file of the version that replaced it.
 * Files are written and deleted on the disk threads, never on the caller's. At start the directory is scanned
 * ({@link StoreLoader}): truncated, corrupt (checksums), misplaced, expired and temporary files are deleted; files
 * this store did not name are left alone. Bodies up to {@link #memoryBodyLimit(long)} are also kept in memory.
 *
 * <p><b>Failures.</b> An unusable directory or a full disk never throws to callers: see {@link DiskHealth}.
 */
public final class DiskCacheStore implements CacheStore {
    /** The largest body the memory tier takes, whatever its size. */
    static final int MEMORY_BODY_CAP = 8 << 20;
    static final long VALIDATOR_RETENTION = Duration.ofDays(1).toMillis();
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);

    private final CacheConfig cfg;
    private final Clock clock;
    private final Path dir;
    private final ExecutorService disk;
    private final SerialExecutor headerWrites;
    private final HeaderRewriter headerRewriter;
    private final DiskHealth health;
    private final CacheIndex index;
    private final AtomicLong versions = new AtomicLong();
    private volatile boolean closed;

    /** Opens (creating it if needed) the cache directory and rebuilds the index from its files. Never throws. */
    public DiskCacheStore(CacheConfig cfg, Clock clock) {
        this(cfg, clock, newDiskExecutor());
    }

    /** With the given disk executor (tests pass a same-thread one); it is shut down by {@link #close()}. */
    DiskCacheStore(CacheConfig cfg, Clock clock, ExecutorService disk) {
        this.cfg = cfg;
        this.clock = clock;
        this.dir = cfg.directory().toAbsolutePath().normalize();
        this.disk = disk;
        this.headerWrites = new SerialExecutor(disk);
        this.headerRewriter = new HeaderRewriter(this);
        this.health = new DiskHealth(clock);
        Executor caffeineExecutor = task -> {
            try {
                disk.execute(task);
            } catch (RejectedExecutionException shutDown) {
                task.run();
            }
        };
        this.index = new CacheIndex(cfg.maxSize(), cfg.memorySize(), clock, caffeineExecutor);
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
    public CompletableFuture<CacheEntry> lookup(CacheKey key, HttpHeaders requestHeaders) {
        return CompletableFuture.completedFuture(index.lookup(key.text(), requestHeaders));
    }

    @Override
    public CacheWriter begin(CacheKey key, HttpHeaders requestHeaders, int status, String reason,
                             HttpHeaders storedHeaders, long requestTime, long responseTime) {
        if (closed || !cfg.enabled() || !health.writable()) {
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
        HttpHeaders stored = new DefaultHttpHeaders().add(storedHeaders);
        Map<String, String> vary = Vary.values(Vary.names(stored), requestHeaders);
        String variantHash = EntryFile.variantHash(key, vary);
        long version = versions.incrementAndGet();
        String why = reason == null ? "" : reason;
        stored.set(HttpHeaderNames.CONTENT_LENGTH, Long.MAX_VALUE); // the widest value sizes the header region
        byte[] region = EntryFile.encode(new EntryFile.Meta(key.text(), status, why, requestTime, responseTime,
                stored.entries(), vary), 0);
        if (region == null) {
            return null;
        }
        DiskCacheWriter.Pending pending = new DiskCacheWriter.Pending(key,
                new DefaultHttpHeaders().add(requestHeaders), status, why, stored, vary, variantHash, version,
                requestTime, responseTime, region.length, EntryFile.tmpPath(dir, variantHash, version),
                EntryFile.path(dir, variantHash, version), index.epoch());
        int memoryLimit = index.hasMemoryTier() ? memoryBodyLimit(cfg.memorySize()) : 0;
        return new DiskCacheWriter(this, pending, cfg.maxObjectSize(), declared, memoryLimit);
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

    @Override
    public CacheEntry refresh(CacheEntry entry, HttpHeaders mergedHeaders, long requestTime, long responseTime) {
        Freshness f = CachePolicy.freshness(mergedHeaders, requestTime, responseTime, cfg);
        CacheEntry refreshed = entry.refreshed(mergedHeaders, requestTime, responseTime, f,
                keepUntil(f, CachePolicy.hasValidators(mergedHeaders)));
        if (!closed && index.replace(entry.key(), entry.file(), refreshed)) {
            headerWrites.execute(() -> headerRewriter.rewrite(entry.key(), entry.file()));
        }
        return refreshed;
    }

    @Override
    public void remove(CacheEntry entry) {
        index.replace(entry.key(), entry.file(), null);
    }

    @Override
    public void invalidate(CacheKey key) {
        index.invalidate(key.text());
    }

    @Override
    public void clear() {
        index.clear();
        new StoreLoader(this).deleteAll();
    }

    @Override
    public long entryCount() {
        return index.entryCount();
    }

    @Override
    public long bytes() {
        return index.bytes();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true; // no new writers; writers still streaming give up at their next chunk
        disk.shutdown(); // queued work (committed writers, header rewrites, deletions) still runs
        try {
            if (!disk.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("Cache disk work still running after 30 s; leaving it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        index.close();
        index.releaseMemory();
    }

    /** Evicts and expires now rather than on the next access (tests). */
    void cleanUp() {
        index.cleanUp();
    }

    // ---- for the writer, the loader and the header rewriter ----

    Path directory() {
        return dir;
    }

    Executor diskExecutor() {
        return disk;
    }

    DiskHealth health() {
        return health;
    }

    CacheIndex index() {
        return index;
    }

    boolean isClosed() {
        return closed;
    }

    Clock clock() {
        return clock;
    }

    void versionAtLeast(long version) {
        versions.accumulateAndGet(version, Math::max);
    }

    long nextVersion() {
        return versions.incrementAndGet();
    }

    static EntryFile.Meta meta(CacheEntry e) {
        return new EntryFile.Meta(e.key(), e.status(), e.reason(), e.requestTime(), e.responseTime(),
                e.headers().entries(), e.varyValues());
    }

    /** Builds an entry, with its freshness under the current configuration. */
    CacheEntry newEntry(EntryFile.Meta meta, String variantHash, long version, Path file, long bodyOffset,
                        long bodyLength, int bodyCrc, ByteBuf memoryBody) {
        HttpHeaders headers = new DefaultHttpHeaders();
        for (Map.Entry<String, String> h : meta.headers()) {
            headers.add(h.getKey(), h.getValue());
        }
        Freshness f = CachePolicy.freshness(headers, meta.requestTime(), meta.responseTime(), cfg);
        return new CacheEntry(meta.key(), variantHash, version, meta.status(), meta.reason(), headers,
                meta.vary(), meta.requestTime(), meta.responseTime(), bodyLength, bodyCrc, file, bodyOffset,
                memoryBody, f, keepUntil(f, CachePolicy.hasValidators(headers)));
    }

    /** See the class comment, "Expiry". */
    long keepUntil(Freshness f, boolean hasValidators) {
        long window = Math.max(Math.max(f.staleWhileRevalidate(), f.staleIfError()), cfg.staleIfError().toMillis());
        long usable = Freshness.saturatedAdd(f.freshUntil(), window);
        return hasValidators ? Freshness.saturatedAdd(usable, VALIDATOR_RETENTION) : usable;
    }

    /** Indexes a committed file; null (and the file deleted) if the key was invalidated or cleared meanwhile. */
    CacheEntry install(DiskCacheWriter.Pending p, EntryFile.Meta meta, long bodyLength, int bodyCrc,
                       ByteBuf memoryBody) {
        CacheEntry entry = newEntry(meta, p.variantHash(), p.version(), p.target(), p.regionLength(), bodyLength,
                bodyCrc, memoryBody);
        if (!index.install(entry, p.requestHeaders(), p.epoch())) {
            deleteQuietly(p.target());
            return null;
        }
        return entry;
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.debug("Could not delete {}: {}", file, e.toString());
        }
    }
}
