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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

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
    static final long VALIDATOR_RETENTION = Duration.ofDays(1).toMillis();
    /** A hit from disk reads header and body in one read up to this size. */
    static final int ONE_READ = 64 << 10;
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);

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
    private final DiskLookup lookups;
    private final DiskWrites writes;
    private final ScheduledExecutorService manager;
    /** Sweeps of the directory for purges by prefix or tag, one at a time, off the disk threads' queues. */
    private final ExecutorService purges;
    /** Unique to this process, in temporary file names: the loader removes only other runs' leftovers. */
    private final String run = Integer.toHexString(ThreadLocalRandom.current().nextInt() & 0x7fff_ffff);
    private final AtomicInteger versions = new AtomicInteger(ThreadLocalRandom.current().nextInt());
    private final int memoryBodyLimit;
    private final AtomicBoolean loadStarted = new AtomicBoolean();
    /** Null: {@link #cfg} for every key. */
    private volatile CacheRules rules;
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
        this.memoryBodyLimit = hot.hasMemoryTier() ? HotTier.bodyLimit(cfg.memorySize()) : 0;
        this.headerRewriter = new HeaderRewriter(this);
        this.loader = new StoreLoader(this);
        this.lookups = new DiskLookup(this);
        this.writes = new DiskWrites(this);
        this.manager = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pibl-cache-manager");
            t.setDaemon(true);
            return t;
        });
        this.purges = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pibl-cache-purge");
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

    @Override
    public void rules(CacheRules newRules) {
        this.rules = newRules;
    }

    /** The settings the responses of {@code key} (its text) are judged by: {@link CacheRules}, or {@code cfg}. */
    CacheConfig rulesFor(String key) {
        CacheRules r = rules;
        return r == null ? cfg : r.forKey(CacheKey.parse(key));
    }

    /** Starts rebuilding the index in the background (once). */
    @Override
    public void startLoading() {
        if (cfg.enabled() && loadStarted.compareAndSet(false, true)) {
            manager.execute(loader::load);
        }
    }

    /**
     * {@code cache.max-entries}, or when 0 one entry per 120 bytes of heap: 1,074,790 with {@code -Xmx128m} (whose
     * usable heap is 123 MiB), so that such a PIBL holds a million entries with room for the segments' spread; at
     * the cap the index takes ~34 MiB.
     */
    static long maxEntries(CacheConfig cfg) {
        return cfg.maxEntries() > 0 ? cfg.maxEntries() : Math.max(10_000, Runtime.getRuntime().maxMemory() / 120);
    }

    /** The heap the hot entries' headers may take: a 16th of it, between 1 and 64 MiB. */
    private static long headerBytes() {
        return Math.max(1L << 20, Math.min(64L << 20, Runtime.getRuntime().maxMemory() / 16));
    }

    @Override
    public CompletableFuture<CacheEntry> lookup(CacheKey key, HttpHeaders requestHeaders) {
        CompletableFuture<CacheEntry> found = lookups.lookup(key, requestHeaders);
        return invalidations.hasBans() ? found.thenApply(this::unlessBanned) : found;
    }

    /** An entry a ban made after it matches (its sweep has not reached the file yet) goes now, and is not found. */
    private CacheEntry unlessBanned(CacheEntry e) {
        if (e == null || !invalidations.banned(e.key(), e.headers(), e.responseTime())) {
            return e;
        }
        index.remove(e.digest(), e.version());
        return null;
    }

    @Override
    public CompletableFuture<Long> purge(Ban ban) {
        if (closed || !cfg.enabled()) {
            return CompletableFuture.completedFuture(0L);
        }
        Object active = invalidations.ban(ban, clock.millis()); // in force before the sweep: nothing slips past
        return loader.sweep(ban, purges).whenComplete((n, t) -> invalidations.swept(active, clock.millis()));
    }

    // ---- writes ----

    @Override
    public CacheWriter begin(CacheKey key, HttpHeaders requestHeaders, int status, String reason,
                             HttpHeaders storedHeaders, long requestTime, long responseTime) {
        return closed || !cfg.enabled() ? null
                : writes.begin(key, requestHeaders, status, reason, storedHeaders, requestTime, responseTime);
    }

    @Override
    public CompletableFuture<Void> whenWritable() {
        return writes.whenWritable();
    }

    @Override
    public CacheEntry refresh(CacheEntry entry, HttpHeaders mergedHeaders, long requestTime, long responseTime) {
        Freshness f = CachePolicy.freshness(mergedHeaders, requestTime, responseTime, rulesFor(entry.key()));
        CacheEntry refreshed = entry.refreshed(mergedHeaders, requestTime, responseTime, f,
                keepUntil(f, CachePolicy.hasValidators(mergedHeaders)));
        if (!closed && index.update(entry.digest(), entry.version(), entry.version(), -1,
                CacheIndex.seconds(refreshed.keepUntil()), 0)) {
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
    public boolean invalidate(CacheKey key) {
        Digest d = key.digest();
        invalidations.invalidate(d); // before the slot goes: a writer in flight must find it when it completes
        boolean indexed = index.remove(d, -1); // a marker too: its variants can no longer be found; its file goes
        if (loader.mayHaveUnindexedFiles()) {
            // A load of the old file may be queued on the key's thread already (the loader's, or a lookup's): it
            // would index the key again. Undone here, after it; and the file goes, so no later load (nor the next
            // start's loader) finds it. Once the index holds every file, a key it does not hold has none.
            disk.of(d).execute(() -> {
                index.remove(d, -1);
                deleteQuietly(EntryFile.path(dir, d));
            });
        }
        return indexed;
    }

    /** Every slot that leaves the index: its hot copy goes at once, its file on the key's disk thread. */
    private void removed(CacheIndex.Slot slot, CacheIndex.Removal why) {
        Digest d = slot.digest();
        hot.invalidate(d);
        disk.of(d).execute(() -> {
            if (index.peek(d) == null) { // not re-written meanwhile (writes run on this thread too)
                deleteQuietly(EntryFile.path(dir, d));
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
        return new StoreStatus(!loader.done(), loader.scanned(), index.slots(), index.capacity(),
                writes.stored(), index.evicted());
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
        purges.shutdownNow();
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

    /**
     * The periodic sweep, a segment at a time: after a segment that lost entries, the disk threads delete their
     * files before the next one is swept, so that a mass expiry (a day's entries with one TTL, a clock jump) never
     * queues more than a segment's worth of deletions (a 64th of the index) in memory.
     */
    private void expire() {
        try {
            invalidations.retireBans(clock.millis());
            int n = 0;
            for (int s = 0; s < CacheIndex.SEGMENTS && !closed; s++) {
                int gone = index.expire(s);
                if (gone > 0) {
                    n += gone;
                    disk.settle();
                }
            }
            if (n > 0) {
                LOG.debug("Cache: {} expired entries removed", n);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("Cache expiry sweep failed", e);
        }
    }

    // ---- for the writer, the loader and the header rewriter ----

    Path directory() {
        return dir;
    }

    StoreLoader loader() {
        return loader;
    }

    DiskWrites writes() {
        return writes;
    }

    int memoryBodyLimit() {
        return memoryBodyLimit;
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
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, Math.floorDiv(clock.millis() - CacheIndex.EPOCH_MILLIS, 1000)));
    }

    /** Builds an entry from a file's meta, with its freshness under the current configuration (its key's rules). */
    CacheEntry newEntry(EntryFile.Meta meta, Digest digest, int version, Path file, long bodyOffset, long bodyLength,
                        int bodyCrc, ByteBuf memoryBody) {
        HttpHeaders headers = new DefaultHttpHeaders();
        for (Map.Entry<String, String> h : meta.headers()) {
            headers.add(h.getKey(), h.getValue());
        }
        return newEntry(meta.key(), meta.status(), meta.reason(), meta.requestTime(), meta.responseTime(), meta.vary(),
                meta.generation(), headers, digest, version, file, bodyOffset, bodyLength, bodyCrc, memoryBody);
    }

    CacheEntry newEntry(String key, int status, String reason, long requestTime, long responseTime,
                        Map<String, String> vary, long generation, HttpHeaders headers, Digest digest, int version,
                        Path file, long bodyOffset, long bodyLength, int bodyCrc, ByteBuf memoryBody) {
        headers.set(HttpHeaderNames.CONTENT_LENGTH, bodyLength);
        Freshness f = CachePolicy.freshness(headers, requestTime, responseTime, rulesFor(key));
        return new CacheEntry(key, digest, version, status, reason, headers, vary, requestTime, responseTime,
                bodyLength, bodyCrc, file, bodyOffset, memoryBody, f, keepUntil(f, CachePolicy.hasValidators(headers)),
                generation);
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
