package pibl.cache;

import pibl.testing.TestClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.StoreFixture.body;
import static pibl.cache.StoreFixture.config;
import static pibl.cache.StoreFixture.files;
import static pibl.cache.StoreFixture.readBody;
import static pibl.cache.StoreFixture.store;
import static pibl.cache.TestHeaders.T0;
import static pibl.cache.TestHeaders.date;
import static pibl.cache.TestHeaders.h;

/** What a new store finds in a directory an earlier one (or a crash) left behind. */
class DiskCacheStoreStartupTest {
    private static final CacheKey KEY = CacheKey.of("http", "example.com", "/a");

    @TempDir
    Path dir;
    private final TestClock clock = new TestClock(T0);

    private DiskCacheStore open() {
        return new DiskCacheStore(config(dir), clock, new DirectExecutorService());
    }

    /** Stores one entry with a previous store and returns it (that store closed). */
    private CacheEntry leftBehind(String... responseHeaders) throws Exception {
        try (DiskCacheStore first = open()) {
            return store(first, KEY, h("Accept-Encoding: gzip"), h(responseHeaders), body(20_000, 1), T0);
        }
    }

    @Test
    void aRestartFindsTheEntryWithEverythingItKnew() throws Exception {
        CacheEntry before = leftBehind("Cache-Control: max-age=60", "Vary: Accept-Encoding", "ETag: \"e\"",
                "Content-Type: text/plain; charset=utf-8", "X-Unicode: caf\u00e9", "Date: " + date(-2), "Age: 1");
        try (DiskCacheStore second = open()) {
            CacheEntry after = second.lookup(KEY, h("Accept-Encoding: gzip")).join();
            assertThat(after).isNotNull();
            assertThat(second.lookup(KEY, h()).join()).as("the variant's Vary values were restored").isNull();
            assertThat(after.file()).isEqualTo(before.file());
            assertThat(after.headers().entries()).isEqualTo(before.headers().entries());
            assertThat(after.varyValues()).isEqualTo(before.varyValues());
            assertThat(after.requestTime()).isEqualTo(before.requestTime());
            assertThat(after.responseTime()).isEqualTo(before.responseTime());
            assertThat(after.freshness()).isEqualTo(before.freshness());
            assertThat(after.status()).isEqualTo(200);
            assertThat(readBody(after)).isEqualTo(body(20_000, 1));
            assertThat(after.retainedMemoryBody()).as("memory tier starts empty").isNull();

            CacheEntry next = store(second, KEY, h("Accept-Encoding: gzip"), h("Vary: Accept-Encoding"),
                    body(10, 2), T0);
            assertThat(next.file()).as("versions continue after those on disk").isNotEqualTo(before.file());
            assertThat(before.file()).doesNotExist();
        }
    }

    @Test
    void aTruncatedFileIsRemoved() throws Exception {
        CacheEntry e = leftBehind("Cache-Control: max-age=60");
        try (RandomAccessFile f = new RandomAccessFile(e.file().toFile(), "rw")) {
            f.setLength(f.length() - 10);
        }
        try (DiskCacheStore second = open()) {
            assertThat(second.lookup(KEY, h("Accept-Encoding: gzip")).join()).isNull();
            assertThat(e.file()).doesNotExist();
        }
    }

    @Test
    void aFileTruncatedInsideItsHeaderIsRemoved() throws Exception {
        CacheEntry e = leftBehind("Cache-Control: max-age=60");
        try (RandomAccessFile f = new RandomAccessFile(e.file().toFile(), "rw")) {
            f.setLength(20);
        }
        try (DiskCacheStore second = open()) {
            assertThat(second.entryCount()).isZero();
            assertThat(e.file()).doesNotExist();
        }
    }

    @Test
    void aBitFlipInTheBodyIsCaughtByTheChecksum() throws Exception {
        CacheEntry e = leftBehind("Cache-Control: max-age=60");
        flipBit(e.file(), e.bodyOffset() + 12_345);
        try (DiskCacheStore second = open()) {
            assertThat(second.lookup(KEY, h("Accept-Encoding: gzip")).join()).isNull();
            assertThat(e.file()).doesNotExist();
        }
    }

    @Test
    void aBitFlipInTheHeaderIsCaughtByTheChecksum() throws Exception {
        CacheEntry e = leftBehind("Cache-Control: max-age=60");
        flipBit(e.file(), 100);
        try (DiskCacheStore second = open()) {
            assertThat(second.entryCount()).isZero();
            assertThat(e.file()).doesNotExist();
        }
    }

    @Test
    void aFileUnderAnotherNameIsRemoved() throws Exception {
        CacheEntry e = leftBehind("Cache-Control: max-age=60");
        String otherHash = CacheKey.of("http", "example.com", "/b").hash();
        Path moved = EntryFile.path(dir, otherHash, 99);
        Files.createDirectories(moved.getParent());
        Files.move(e.file(), moved);
        try (DiskCacheStore second = open()) {
            assertThat(second.entryCount()).as("its content does not hash to its name").isZero();
            assertThat(moved).doesNotExist();
        }
    }

    @Test
    void leftoverTemporaryFilesAreRemovedAndForeignFilesKept() throws Exception {
        leftBehind("Cache-Control: max-age=60");
        Files.writeString(dir.resolve("tmp").resolve("abc-0000000000000001.tmp"), "partial");
        Path strayTmp = dir.resolve("ab").resolve("cd").resolve("x.tmp");
        Files.createDirectories(strayTmp.getParent());
        Files.writeString(strayTmp, "partial");
        Files.writeString(dir.resolve("README"), "not ours");
        Files.writeString(dir.resolve("ab").resolve("cd").resolve("notes.txt"), "not ours");
        try (DiskCacheStore second = open()) {
            assertThat(second.entryCount()).isEqualTo(1);
        }
        assertThat(files(dir)).hasSize(3).contains("README", "ab/cd/notes.txt")
                .noneMatch(name -> name.endsWith(".tmp"));
    }

    @Test
    void expiredEntriesWithoutValidatorsAreRemovedAtStart() throws Exception {
        CacheEntry e = leftBehind("Cache-Control: max-age=60");
        clock.advance(Duration.ofSeconds(61));
        try (DiskCacheStore second = open()) {
            assertThat(second.entryCount()).isZero();
            assertThat(e.file()).doesNotExist();
        }
    }

    @Test
    void expiredEntriesWithValidatorsStayForRevalidation() throws Exception {
        CacheEntry e = leftBehind("Cache-Control: max-age=60", "Last-Modified: " + date(-3600));
        clock.advance(Duration.ofSeconds(61));
        try (DiskCacheStore second = open()) {
            CacheEntry found = second.lookup(KEY, h("Accept-Encoding: gzip")).join();
            assertThat(found).isNotNull();
            assertThat(found.freshness().isFresh(clock.millis())).isFalse();
            assertThat(e.file()).exists();
        }
    }

    @Test
    void ofTwoVersionsOfAVariantTheNewerWins() throws Exception {
        CacheEntry e = leftBehind("Cache-Control: max-age=60");
        Path older = EntryFile.path(dir, e.variantHash(), e.version() - 1 + 1000);
        Path newer = EntryFile.path(dir, e.variantHash(), e.version() + 2000);
        Files.copy(e.file(), older);
        Files.move(e.file(), newer);
        try (DiskCacheStore second = open()) {
            assertThat(second.lookup(KEY, h("Accept-Encoding: gzip")).join().file()).isEqualTo(newer);
            assertThat(older).doesNotExist();
        }
    }

    @Test
    void aDisabledCacheTouchesNothing() throws Exception {
        Path unused = dir.resolve("unused");
        var cfg = config(unused);
        var disabled = new pibl.config.CacheConfig(false, unused, cfg.ttl(), cfg.ttlMode(), cfg.maxSize(),
                cfg.maxObjectSize(), cfg.memorySize(), false, cfg.staleIfError());
        try (DiskCacheStore store = new DiskCacheStore(disabled, clock, new DirectExecutorService())) {
            assertThat(store.begin(KEY, h(), 200, "OK", h(), T0, T0)).isNull();
        }
        assertThat(unused).doesNotExist();
    }

    @Test
    void closeFinishesCommittedWritesSoTheNextStartFindsThem() throws Exception {
        byte[] body = body(2_000_000, 5);
        java.util.concurrent.CompletableFuture<CacheEntry> committed;
        CacheWriter streaming;
        try (DiskCacheStore first = new DiskCacheStore(config(dir), clock)) {
            CacheWriter w = first.begin(KEY, h(), 200, "OK", h("Cache-Control: max-age=60"), T0, T0);
            StoreFixture.writeChunks(w, body, 64 * 1024);
            committed = w.commit();
            streaming = first.begin(CacheKey.of("http", "example.com", "/streaming"), h(), 200, "OK", h(), T0, T0);
            StoreFixture.writeChunks(streaming, body(1000, 6), 100);
        }
        assertThat(committed).as("close waited for the committed write").isCompletedWithValueMatching(e -> e != null);
        StoreFixture.writeChunks(streaming, body(1000, 7), 100);
        assertThat(streaming.commit().get()).as("a writer still streaming at close gives up").isNull();
        assertThat(files(dir)).noneMatch(name -> name.endsWith(".tmp"));
        try (DiskCacheStore second = open()) {
            assertThat(readBody(second.lookup(KEY, h()).join())).isEqualTo(body);
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
