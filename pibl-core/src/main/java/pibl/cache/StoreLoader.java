package pibl.cache;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Rebuilds the index of a {@link DiskCacheStore} from its directory, in the background, while the store serves;
 * and empties the directory for {@code clear()}.
 *
 * <p>One pass over the 4096 directories lists the files; each entry file is loaded on its key's disk thread (so a
 * load never races a write, a rename or a deletion of the same file): its header is read and checked (magic,
 * lengths, size, header checksum), its keep time computed under the current configuration, and it is indexed
 * unless it expired or the key was indexed meanwhile (a lookup found it first, or a new response replaced it).
 * Bodies are not read: their checksums are verified when first served. A file that cannot be read for want of
 * descriptors or an I/O error is left alone, unindexed, and counted in the closing log line.
 * Temporary files of other runs (a crash's leftovers), unsound and expired files are deleted; the files of the
 * format before this one ({@code ab/cd/<64 hex>-<16 hex>}, {@code tmp/}) too; anything else is left alone.
 * Progress is logged every {@link #PROGRESS} and in {@code /status}.
 */
final class StoreLoader {
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);
    private static final Duration PROGRESS = Duration.ofSeconds(5);
    /** Loads queued on the disk threads at once; the scan waits beyond (bounded memory, shared threads). */
    private static final int IN_FLIGHT = 1024;
    /** Entry files are spread over 16 x 256 directories by their digest's first three hex digits. */
    private static final int BUCKETS = 4096;
    private static final Pattern OLD_NAME = Pattern.compile("[0-9a-f]{64}-[0-9a-f]{16}(\\.tmp)?");

    private final DiskCacheStore store;
    private final Path dir;
    private final CountDownLatch loaded = new CountDownLatch(1);
    private final AtomicLong scanned = new AtomicLong();
    private final AtomicLong indexed = new AtomicLong();
    private final AtomicLong removed = new AtomicLong();
    private final AtomicLong unreadable = new AtomicLong();
    private volatile boolean done;
    private volatile boolean stopped;

    StoreLoader(DiskCacheStore store) {
        this.store = store;
        this.dir = store.directory();
    }

    boolean done() {
        return done;
    }

    /** Whether a file may exist that the index does not hold: still loading, or some could not be read. */
    boolean mayHaveUnindexedFiles() {
        return !done || unreadable.get() > 0;
    }

    long scanned() {
        return scanned.get();
    }

    void markLoaded() {
        done = true;
        loaded.countDown();
    }

    boolean await(Duration timeout) throws InterruptedException {
        return loaded.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    void stop() {
        stopped = true;
    }

    /** The background pass; never throws. */
    void load() {
        long started = System.nanoTime();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            store.health().failed("opening " + dir, e);
            markLoaded();
            return;
        }
        Semaphore inFlight = new Semaphore(IN_FLIGHT);
        long lastLog = started;
        int dirs = 0;
        try {
            removeOldFormat();
            for (int b = 0; b < BUCKETS && !stopped; b++) {
                for (Path file : list(bucket(b))) {
                    scan(file, inFlight);
                }
                dirs++;
                if (System.nanoTime() - lastLog > PROGRESS.toNanos()) {
                    lastLog = System.nanoTime();
                    LOG.info("Cache index loading: {} entries indexed from {} files, {}% of the directory",
                            indexed.get(), scanned.get(), dirs * 100 / BUCKETS);
                }
            }
            inFlight.acquire(IN_FLIGHT); // every load queued has run
            inFlight.release(IN_FLIGHT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("Cache index loading failed; the entries not indexed are found when asked for", e);
        }
        markLoaded();
        LOG.info("Cache {}: index loaded, {} entries ({} bytes) from {} files, {} files removed, in {} ms", dir,
                store.entryCount(), store.bytes(), scanned.get(), removed.get(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        if (unreadable.get() > 0) {
            LOG.warn("Cache {}: {} files could not be read (I/O errors, or out of file descriptors) and were left "
                    + "unindexed; they are looked at again at the next start", dir, unreadable.get());
        }
    }

    private void scan(Path file, Semaphore inFlight) throws InterruptedException {
        String name = file.getFileName().toString();
        String run = EntryFile.tmpRun(name);
        if (name.endsWith(EntryFile.TMP_SUFFIX)) {
            if (run != null && !run.equals(store.run())) {
                DiskCacheStore.deleteQuietly(file); // a crash's leftover, not a live writer's
                removed.incrementAndGet();
            }
            return;
        }
        Digest d = EntryFile.parseName(name);
        if (d == null) {
            return;
        }
        scanned.incrementAndGet();
        inFlight.acquire();
        store.disk().of(d).execute(() -> {
            try {
                if (store.index().peek(d) == null) {
                    load(d);
                }
            } finally {
                inFlight.release();
            }
        });
    }

    /**
     * On the digest's disk thread: indexes the file of {@code d} if it is sound and still usable, and returns its
     * slot; null if there is no such file, or it was unsound or expired (then deleted), or could not be read now
     * (left for the next start). Also what a lookup does for a key not indexed yet.
     *
     * <p>An invalidation while the index loads cannot be undone by a load: the store removes the key's slot and
     * file again on this same thread after it ({@link DiskCacheStore#invalidate}), so a load queued before that
     * is undone, and one queued after finds no file.
     */
    CacheIndex.Slot load(Digest d) {
        CacheIndex.Slot present = store.index().peek(d);
        if (present != null) {
            return present;
        }
        Path file = EntryFile.path(dir, d);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            EntryFile.Header h = header(ch, size);
            return h.kind() == EntryFile.MARKER ? indexMarker(d, h) : indexResponse(d, h, size, file);
        } catch (NoSuchFileException gone) {
            return null;
        } catch (EntryFile.CorruptEntryException | RuntimeException unsound) {
            LOG.debug("Removing cache file {}: {}", file, unsound.toString());
            DiskCacheStore.deleteQuietly(file);
            removed.incrementAndGet();
            return null;
        } catch (IOException e) { // out of descriptors, an I/O error: the file may be sound, so it stays
            unreadable.incrementAndGet();
            LOG.debug("Could not read cache file {}: {}", file, e.toString());
            return null;
        }
    }

    /** The header of an entry file of {@code size} bytes, read from its first 4 KiB (and more if it is longer). */
    private static EntryFile.Header header(FileChannel ch, long size) throws IOException {
        ByteBuffer first = ByteBuffer.allocate((int) Math.min(size, 4096));
        EntryFile.readFully(ch, first, 0);
        first.flip();
        return EntryFile.read(ch, first, size);
    }

    private CacheIndex.Slot indexResponse(Digest d, EntryFile.Header h, long size, Path file)
            throws IOException {
        EntryFile.Meta meta = h.meta();
        Digest primary = Digest.of(meta.key());
        Digest expected = meta.vary().isEmpty() ? primary
                : EntryFile.variantDigest(primary, meta.key(), meta.generation(), meta.vary());
        if (!expected.equals(d)) {
            throw new EntryFile.CorruptEntryException("misplaced: not the file of its key");
        }
        HttpHeaders headers = new DefaultHttpHeaders();
        for (Map.Entry<String, String> f : meta.headers()) {
            headers.add(f.getKey(), f.getValue());
        }
        Freshness fresh = CachePolicy.freshness(headers, meta.requestTime(), meta.responseTime(),
                store.rulesFor(meta.key()));
        long keepUntil = store.keepUntil(fresh, CachePolicy.hasValidators(headers));
        if (keepUntil <= store.now()) {
            DiskCacheStore.deleteQuietly(file);
            removed.incrementAndGet();
            return null;
        }
        int keep = CacheIndex.seconds(keepUntil);
        int kib = (int) Math.min(Integer.MAX_VALUE, CacheIndex.blocksKiB(size));
        if (!store.index().putIfAbsent(d, h.version(), kib, keep, CacheIndex.RESPONSE, () -> true)) {
            return store.index().peek(d);
        }
        if (!meta.vary().isEmpty()) {
            store.index().keepAtLeast(primary, (int) meta.generation(), keep);
        }
        indexed.incrementAndGet();
        return store.index().peek(d);
    }

    private CacheIndex.Slot indexMarker(Digest d, EntryFile.Header h) throws IOException {
        EntryFile.Marker m = h.marker();
        if (!Digest.of(m.key()).equals(d) || m.generation() != h.version()) {
            throw new EntryFile.CorruptEntryException("misplaced marker");
        }
        int varyId = store.varyNames().intern(m.names());
        if (varyId < 0) {
            return null;
        }
        // Kept a day for a start; every variant loaded or stored keeps it as long as itself.
        int keep = CacheIndex.seconds(store.now() + Duration.ofDays(1).toMillis());
        store.index().putIfAbsent(d, h.version(), varyId, keep, CacheIndex.MARKER | CacheIndex.VERIFIED, () -> true);
        return store.index().peek(d);
    }

    /** Deletes every entry file, and the leftovers of the older format. The directories stay. */
    void deleteAll() {
        removeOldFormat();
        for (int b = 0; b < BUCKETS; b++) {
            for (Path file : list(bucket(b))) {
                String name = file.getFileName().toString();
                if (EntryFile.parseName(name) != null || name.endsWith(EntryFile.TMP_SUFFIX)) {
                    DiskCacheStore.deleteQuietly(file);
                }
            }
        }
    }

    /** The {@code b}th of the {@link #BUCKETS} directories entry files are spread over ({@code 0/00} .. {@code f/ff}). */
    private Path bucket(int b) {
        return dir.resolve(Integer.toHexString(b >> 8)).resolve(String.format("%02x", b & 0xff));
    }

    /**
     * A purge by prefix or tag ({@link DiskCacheStore#purge}): on {@code executor}, one pass over the directory as
     * the load makes, each entry file's header read on its key's disk thread (so never racing a write, a rename
     * or a deletion of it); a response the ban matches is removed from the index and its file deleted, and so is
     * a Vary marker whose key a prefix matches. Bodies are not read. Completes with how many responses went.
     */
    CompletableFuture<Long> sweep(Ban ban, Executor executor) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                AtomicLong gone = new AtomicLong();
                Semaphore inFlight = new Semaphore(IN_FLIGHT);
                try {
                    for (int b = 0; b < BUCKETS && !stopped; b++) {
                        for (Path file : list(bucket(b))) {
                            Digest d = EntryFile.parseName(file.getFileName().toString());
                            if (d != null) {
                                inFlight.acquire();
                                store.disk().of(d).execute(() -> {
                                    try {
                                        if (purge(d, file, ban)) {
                                            gone.incrementAndGet();
                                        }
                                    } finally {
                                        inFlight.release();
                                    }
                                });
                            }
                        }
                    }
                    inFlight.acquire(IN_FLIGHT);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    LOG.error("Cache purge of {} failed part way", ban.describe(), e);
                }
                done.complete(gone.get());
            });
        } catch (RejectedExecutionException closing) {
            done.complete(0L);
        }
        return done;
    }

    /** On the digest's disk thread: removes the entry of {@code file} if {@code ban} matches it; whether a response went. */
    private boolean purge(Digest d, Path file, Ban ban) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            EntryFile.Header h = header(ch, ch.size());
            boolean response = h.kind() == EntryFile.RESPONSE;
            boolean matches = response ? ban.matches(h.meta().key(), h.meta().headers())
                    : ban.byKey() && ban.matches(h.marker().key(), List.of());
            if (!matches) {
                return false;
            }
            store.index().remove(d, -1); // the file is the key's current one: writes run on this thread too
            DiskCacheStore.deleteQuietly(file);
            return response;
        } catch (IOException | RuntimeException unreadable) { // gone meanwhile, unsound: the loader's business
            LOG.debug("Purge skipped cache file {}: {}", file, unreadable.toString());
            return false;
        }
    }

    /** The format before this one: {@code ab/cd/<64 hex>-<16 hex>} files and {@code tmp/}. */
    private void removeOldFormat() {
        int count = 0;
        for (Path first : list(dir)) {
            String name = first.getFileName().toString();
            if (name.equals("tmp") || EntryFile.isFanOut(name, 2)) {
                for (Path second : list(first)) {
                    if (OLD_NAME.matcher(second.getFileName().toString()).matches()) {
                        DiskCacheStore.deleteQuietly(second);
                        count++;
                    } else if (EntryFile.isFanOut(second.getFileName().toString(), 2)) {
                        for (Path file : list(second)) {
                            if (OLD_NAME.matcher(file.getFileName().toString()).matches()) {
                                DiskCacheStore.deleteQuietly(file);
                                count++;
                            }
                        }
                        DiskCacheStore.deleteQuietly(second); // only if empty
                    }
                }
                DiskCacheStore.deleteQuietly(first); // only if empty
            }
        }
        if (count > 0) {
            LOG.info("Cache {}: {} files of the previous format removed", dir, count);
        }
    }

    private static List<Path> list(Path directory) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(directory)) {
            return out;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory)) {
            stream.forEach(out::add);
        } catch (IOException e) {
            LOG.debug("Could not list {}: {}", directory, e.toString());
        }
        return out;
    }
}
