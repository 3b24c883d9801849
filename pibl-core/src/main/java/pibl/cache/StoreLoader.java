package pibl.cache;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Rebuilds the index of a {@link DiskCacheStore} from its directory at start, and empties it for {@code clear()}.
 * Only names this store makes are touched: {@code tmp/*.tmp} and {@code ab/cd/<64 hex>-<16 hex>} (plus stray
 * {@code .tmp} files in the fan-out directories); anything else in the directory is left alone.
 */
final class StoreLoader {
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);

    private final DiskCacheStore store;
    private final Path dir;

    StoreLoader(DiskCacheStore store) {
        this.store = store;
        this.dir = store.directory();
    }

    /** Creates the directory if needed; verifies, prunes and indexes what is there. Never throws. */
    void load() {
        long started = System.nanoTime();
        try {
            Files.createDirectories(dir);
            Files.createDirectories(dir.resolve(EntryFile.TMP_DIR));
        } catch (IOException e) {
            store.health().failed("opening " + dir, e);
            return;
        }
        int removed = deleteTemporaryFiles();
        long now = store.clock().millis();
        Map<String, CacheEntry> newest = new HashMap<>();
        List<Path> files = entryFiles();
        List<CompletableFuture<CacheEntry>> verified = new ArrayList<>(files.size());
        for (Path file : files) { // checksums are read on all disk threads at once
            EntryFile.Name name = EntryFile.parseName(file.getFileName().toString());
            store.versionAtLeast(name.version());
            verified.add(CompletableFuture.supplyAsync(() -> verify(file, name.hash(), name.version()),
                    store.diskExecutor()));
        }
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            CacheEntry entry = verified.get(i).join();
            if (entry == null || entry.keepUntil() <= now) {
                DiskCacheStore.deleteQuietly(file);
                removed++;
                continue;
            }
            String hash = entry.variantHash();
            long version = entry.version();
            CacheEntry other = newest.get(hash);
            if (other != null) {
                CacheEntry loser = other.version() < version ? other : entry;
                DiskCacheStore.deleteQuietly(loser.file());
                removed++;
                if (loser == other) {
                    newest.put(hash, entry);
                }
            } else {
                newest.put(hash, entry);
            }
        }
        newest.values().forEach(store.index()::restore);
        store.cleanUp();
        LOG.info("Cache {}: {} entries, {} bytes indexed, {} files removed, in {} ms", dir, store.entryCount(),
                store.bytes(), removed, (System.nanoTime() - started) / 1_000_000);
    }

    /** The entry stored in a file, or null if the file is truncated, corrupt or misplaced. */
    private CacheEntry verify(Path file, String hash, long version) {
        Path fan = file.getParent();
        String expectedFan = fan.getParent().getFileName().toString() + fan.getFileName();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            EntryFile.Header h = EntryFile.read(ch);
            if (!hash.startsWith(expectedFan) || !hash.equals(EntryFile.variantHash(h.meta().key(), h.meta().vary()))) {
                LOG.debug("Removing misplaced cache file {}", file);
                return null;
            }
            if (EntryFile.bodyCrc(ch, h.regionLength(), h.bodyLength()) != h.bodyCrc()) {
                LOG.debug("Removing cache file {}: body checksum mismatch", file);
                return null;
            }
            return store.newEntry(h.meta(), hash, version, file, h.regionLength(), h.bodyLength(), h.bodyCrc(), null);
        } catch (IOException | RuntimeException e) {
            LOG.debug("Removing cache file {}: {}", file, e.toString());
            return null;
        }
    }

    /**
     * Deletes every entry file; leaves the directories, and {@code tmp/} to writers in flight (their commits are
     * refused and clean up after themselves; leftovers of a crash go at the next start).
     */
    void deleteAll() {
        for (Path file : entryFiles()) {
            DiskCacheStore.deleteQuietly(file);
        }
    }

    private int deleteTemporaryFiles() {
        int removed = 0;
        for (Path file : list(dir.resolve(EntryFile.TMP_DIR))) {
            if (file.getFileName().toString().endsWith(EntryFile.TMP_SUFFIX)) {
                DiskCacheStore.deleteQuietly(file);
                removed++;
            }
        }
        for (Path fan2 : fanOutDirs()) {
            for (Path file : list(fan2)) {
                if (file.getFileName().toString().endsWith(EntryFile.TMP_SUFFIX)) {
                    DiskCacheStore.deleteQuietly(file);
                    removed++;
                }
            }
        }
        return removed;
    }

    private List<Path> entryFiles() {
        List<Path> files = new ArrayList<>();
        for (Path fan2 : fanOutDirs()) {
            for (Path file : list(fan2)) {
                if (EntryFile.parseName(file.getFileName().toString()) != null && Files.isRegularFile(file)) {
                    files.add(file);
                }
            }
        }
        return files;
    }

    private List<Path> fanOutDirs() {
        List<Path> dirs = new ArrayList<>();
        for (Path fan1 : list(dir)) {
            if (EntryFile.isFanOutDir(fan1.getFileName().toString()) && Files.isDirectory(fan1)) {
                for (Path fan2 : list(fan1)) {
                    if (EntryFile.isFanOutDir(fan2.getFileName().toString()) && Files.isDirectory(fan2)) {
                        dirs.add(fan2);
                    }
                }
            }
        }
        return dirs;
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
