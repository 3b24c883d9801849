package pibl.cache;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.config.CacheConfig;
import pibl.testing.NoLeaks;
import pibl.testing.TestClock;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.StoreFixture.body;
import static pibl.cache.StoreFixture.config;
import static pibl.cache.StoreFixture.files;
import static pibl.cache.StoreFixture.lookup;
import static pibl.cache.StoreFixture.opened;
import static pibl.cache.StoreFixture.readBody;
import static pibl.cache.StoreFixture.store;
import static pibl.cache.TestHeaders.T0;
import static pibl.cache.TestHeaders.date;
import static pibl.cache.TestHeaders.h;

/** What a new store finds in a directory an earlier one (or a crash) left behind, loaded or still loading. */
@ExtendWith(NoLeaks.class)
class DiskCacheStoreStartupTest {
    private static final CacheKey KEY = CacheKey.of("http", "example.com", "/a");

    @TempDir
    Path dir;
    private final TestClock clock = new TestClock(T0);

    /** A store whose index is not loading: every lookup goes to the key's own file. */
    private DiskCacheStore notLoaded() {
        return new DiskCacheStore(config(dir), clock, false, false);
    }

    /** Stores one entry with a previous store and returns it (that store closed). */
    private CacheEntry leftBehind(String... responseHeaders) throws Exception {
        try (DiskCacheStore first = opened(config(dir), clock)) {
            return store(first, KEY, h("Accept-Encoding: gzip"), h(responseHeaders), body(20_000, 1), T0);
        }
    }

    @Test
    void aRestartFindsTheEntryWithEverythingItKnewLoadedOrNot() throws Exception {
        CacheEntry before = leftBehind("Cache-Control: max-age=60", "Vary: Accept-Encoding", "ETag: \"e\"",
                "Content-Type: text/plain; charset=utf-8", "X-Unicode: caf\u00e9", "Date: " + date(-2), "Age: 1");
        for (boolean loaded : new boolean[] {false, true}) {
            try (DiskCacheStore second = loaded ? opened(config(dir), clock) : notLoaded()) {
                CacheEntry after = lookup(second, KEY, h("Accept-Encoding: gzip"));
                assertThat(after).as("loaded=" + loaded).isNotNull();
                assertThat(lookup(second, KEY, h())).as("the variant's Vary values were restored").isNull();
                assertThat(after.file()).isEqualTo(before.file());
                assertThat(after.headers().entries()).isEqualTo(before.headers().entries());
                assertThat(after.varyValues()).isEqualTo(before.varyValues());
                assertThat(after.requestTime()).isEqualTo(before.requestTime());
                assertThat(after.responseTime()).isEqualTo(before.responseTime());
                assertThat(after.freshness()).isEqualTo(before.freshness());
                assertThat(after.status()).isEqualTo(200);
                assertThat(readBody(after)).isEqualTo(body(20_000, 1));
            }
        }
    }

    @Test
    void whileTheIndexLoadsALookupReadsTheKeysOwnFileAndIndexesIt() throws Exception {
        leftBehind("Cache-Control: max-age=60");
        try (DiskCacheStore second = notLoaded()) {
            assertThat(second.status().loading()).isTrue();
            assertThat(second.entryCount()).as("nothing indexed yet").isZero();
            assertThat(lookup(second, KEY, h())).isNotNull();
            assertThat(second.entryCount()).as("found at its path, now indexed").isEqualTo(1);
            assertThat(lookup(second, CacheKey.of("http", "example.com", "/never"), h())).isNull();

            second.startLoading();
            assertThat(second.awaitLoaded(Duration.ofSeconds(10))).isTrue();
            assertThat(second.entryCount()).as("the loader skips what a lookup indexed").isEqualTo(1);
            assertThat(second.status().loading()).isFalse();
        }
    }

    @Test
    void aTruncatedBodyIsNeverServedAndItsFileIsRemoved() throws Exception {
        for (boolean loaded : new boolean[] {false, true}) {
            CacheEntry e = leftBehind("Cache-Control: max-age=60");
            try (RandomAccessFile f = new RandomAccessFile(e.file().toFile(), "rw")) {
                f.setLength(f.length() - 10);
            }
            try (DiskCacheStore second = loaded ? opened(config(dir), clock) : notLoaded()) {
                assertThat(lookup(second, KEY, h("Accept-Encoding: gzip"))).as("loaded=" + loaded).isNull();
                second.settle();
                assertThat(e.file()).doesNotExist();
            }
        }
    }

    @Test
    void aBitFlipInTheBodyIsCaughtWhenTheBodyIsFirstRead() throws Exception {
        for (int size : new int[] {20_000, 6_000_000}) { // into memory, and sent from the file
            CacheEntry e;
            try (DiskCacheStore first = opened(config(dir), clock)) {
                e = store(first, KEY, h(), h("Cache-Control: max-age=60"), body(size, 1), T0);
            }
            flipBit(e.file(), e.bodyOffset() + 12_345);
            try (DiskCacheStore second = opened(config(dir), clock)) {
                assertThat(second.entryCount()).as("loading reads headers only: bodies are checked on first read")
                        .isEqualTo(1);
                assertThat(lookup(second, KEY, h())).as(size + " bytes").isNull();
                second.settle();
                assertThat(e.file()).doesNotExist();
                assertThat(second.entryCount()).isZero();
            }
        }
    }

    @Test
    void aFileTruncatedInsideItsHeaderOrWithAFlippedHeaderBitIsRemovedAtLoad() throws Exception {
        CacheEntry e = leftBehind("Cache-Control: max-age=60");
        try (RandomAccessFile f = new RandomAccessFile(e.file().toFile(), "rw")) {
            f.setLength(20);
        }
        try (DiskCacheStore second = opened(config(dir), clock)) {
            assertThat(second.entryCount()).isZero();
            assertThat(e.file()).doesNotExist();
        }
        CacheEntry again = leftBehind("Cache-Control: max-age=60");
        flipBit(again.file(), 60);
        try (DiskCacheStore third = opened(config(dir), clock)) {
            assertThat(third.entryCount()).isZero();
            assertThat(again.file()).doesNotExist();
        }
    }

    @Test
    void aFileUnderAnotherKeysNameIsRemoved() throws Exception {
        CacheEntry e = leftBehind("Cache-Control: max-age=60");
        Path moved = EntryFile.path(dir, CacheKey.of("http", "example.com", "/b").digest());
        Files.createDirectories(moved.getParent());
        Files.move(e.file(), moved);
        try (DiskCacheStore second = opened(config(dir), clock)) {
            assertThat(second.entryCount()).as("its key does not hash to its name").isZero();
            assertThat(moved).doesNotExist();
        }
    }

    @Test
    void otherRunsTemporaryFilesAndTheOldFormatAreRemovedAndForeignFilesKept() throws Exception {
        CacheEntry e = leftBehind("Cache-Control: max-age=60");
        Path crashLeftover = e.file().resolveSibling(e.file().getFileName() + ".1a2b-5.tmp");
        Files.writeString(crashLeftover, "partial");
        Path oldFormat = dir.resolve("ab").resolve("cd").resolve("ab".repeat(32) + "-" + "0".repeat(16));
        Files.createDirectories(oldFormat.getParent());
        Files.writeString(oldFormat, "PIBL1...");
        Files.createDirectories(dir.resolve("tmp"));
        Files.writeString(dir.resolve("tmp").resolve("cd".repeat(32) + "-" + "0".repeat(15) + "1.tmp"), "partial");
        Files.writeString(dir.resolve("README"), "not ours");
        Files.writeString(e.file().resolveSibling("notes.txt"), "not ours");
        try (DiskCacheStore second = opened(config(dir), clock)) {
            assertThat(second.entryCount()).isEqualTo(1);
        }
        String here = dir.relativize(e.file().getParent()).toString();
        assertThat(files(dir)).containsExactlyInAnyOrder("README", here + "/notes.txt",
                dir.relativize(e.file()).toString());
    }

    @Test
    void expiredEntriesWithoutValidatorsAreRemovedAtStartAndThoseWithValidatorsStay() throws Exception {
        CacheEntry plain = leftBehind("Cache-Control: max-age=60");
        clock.advance(Duration.ofSeconds(61));
        try (DiskCacheStore second = opened(config(dir), clock)) {
            assertThat(second.entryCount()).isZero();
            assertThat(plain.file()).doesNotExist();
        }
        CacheEntry tagged = leftBehind("Cache-Control: max-age=60", "Last-Modified: " + date(-3600));
        clock.advance(Duration.ofSeconds(61));
        try (DiskCacheStore third = opened(config(dir), clock)) {
            CacheEntry found = lookup(third, KEY, h("Accept-Encoding: gzip"));
            assertThat(found).isNotNull();
            assertThat(found.freshness().isFresh(clock.millis())).isFalse();
            assertThat(tagged.file()).exists();
        }
    }

    @Test
    void anInvalidationWhileLoadingWinsOverTheFileOnDisk() throws Exception {
        leftBehind("Cache-Control: max-age=60");
        try (DiskCacheStore second = notLoaded()) {
            second.invalidate(KEY);
            second.startLoading();
            assertThat(second.awaitLoaded(Duration.ofSeconds(10))).isTrue();
            assertThat(lookup(second, KEY, h("Accept-Encoding: gzip"))).isNull();
            second.settle();
            assertThat(second.entryCount()).isZero();
        }
    }

    @Test
    void aLoadQueuedBeforeAnInvalidationCannotBringThePurgedEntryBack() throws Exception {
        CacheEntry old = leftBehind("Cache-Control: max-age=60");
        try (DiskCacheStore second = notLoaded()) {
            CountDownLatch blocked = new CountDownLatch(1);
            second.disk().of(KEY.digest()).execute(() -> {
                try {
                    blocked.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            CompletableFuture<CacheEntry> racing = second.lookup(KEY, h()); // its load waits on the key's thread
            second.invalidate(KEY); // the PURGE, while that load is queued
            blocked.countDown();
            racing.get(10, TimeUnit.SECONDS); // concurrent with the PURGE: either answer is right
            second.settle();
            assertThat(lookup(second, KEY, h())).as("purged, whatever the queued load found").isNull();
            assertThat(second.entryCount()).isZero();
            assertThat(old.file()).doesNotExist();
        }
        try (DiskCacheStore third = opened(config(dir), clock)) {
            assertThat(lookup(third, KEY, h())).as("nor does the next start find it").isNull();
        }
    }

    @Test
    void aFileThatCannotBeReadIsLeftWhereItIs() throws Exception {
        CacheEntry e = leftBehind("Cache-Control: max-age=60");
        Files.delete(e.file());
        Files.createDirectory(e.file()); // opens, but every read fails with EISDIR, as EMFILE or EIO would
        try (DiskCacheStore second = opened(config(dir), clock)) {
            assertThat(lookup(second, KEY, h())).isNull();
            assertThat(e.file()).as("not unsound, only unreadable now: not deleted").isDirectory();
        }
    }

    @Test
    void clearFirstStartsEmpty() throws Exception {
        leftBehind("Cache-Control: max-age=60");
        try (DiskCacheStore cleared = new DiskCacheStore(config(dir), clock, true)) {
            assertThat(cleared.awaitLoaded(Duration.ofSeconds(10))).isTrue();
            assertThat(cleared.entryCount()).isZero();
            assertThat(lookup(cleared, KEY, h("Accept-Encoding: gzip"))).isNull();
        }
        assertThat(files(dir)).isEmpty();
    }

    @Test
    void aDisabledCacheTouchesNothing() throws Exception {
        Path unused = dir.resolve("unused");
        var cfg = config(unused);
        var disabled = new CacheConfig(false, unused, cfg.ttl(), cfg.ttlMode(), cfg.maxSize(),
                cfg.maxObjectSize(), cfg.memorySize(), false, cfg.staleIfError());
        try (DiskCacheStore store = new DiskCacheStore(disabled, clock)) {
            assertThat(store.begin(KEY, h(), 200, "OK", h(), T0, T0)).isNull();
        }
        assertThat(unused).doesNotExist();
    }

    @Test
    void closeFinishesCommittedWritesSoTheNextStartFindsThem() throws Exception {
        byte[] body = body(2_000_000, 5);
        CompletableFuture<CacheEntry> committed;
        CacheWriter streaming;
        try (DiskCacheStore first = opened(config(dir), clock)) {
            CacheWriter w = first.begin(KEY, h(), 200, "OK", h("Cache-Control: max-age=60"), T0, T0);
            StoreFixture.writeChunks(w, body, 64 * 1024);
            committed = w.commit();
            streaming = first.begin(CacheKey.of("http", "example.com", "/streaming"), h(), 200, "OK", h(), T0, T0);
            StoreFixture.writeChunks(streaming, body(1000, 6), 100);
        }
        assertThat(committed).as("close waited for the committed write").isCompletedWithValueMatching(e -> e != null);
        StoreFixture.writeChunks(streaming, body(1000, 7), 100);
        assertThat(streaming.commit().get(5, TimeUnit.SECONDS)).as("a writer still streaming at close gives up")
                .isNull();
        assertThat(files(dir)).noneMatch(name -> name.endsWith(".tmp"));
        try (DiskCacheStore second = opened(config(dir), clock)) {
            assertThat(readBody(lookup(second, KEY, h()))).isEqualTo(body);
            assertThat(second.entryCount()).isEqualTo(1);
        }
    }

    private static void flipBit(Path file, long position) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(position);
            int b = f.read();
            f.seek(position);
            f.write(b ^ 0x10);
        }
    }
}
