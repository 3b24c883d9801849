package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pibl.testing.LeakCheck;
import pibl.testing.TestClock;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.StoreFixture.body;
import static pibl.cache.StoreFixture.bytes;
import static pibl.cache.StoreFixture.config;
import static pibl.cache.StoreFixture.files;
import static pibl.cache.StoreFixture.readBody;
import static pibl.cache.StoreFixture.store;
import static pibl.cache.StoreFixture.writeChunks;
import static pibl.cache.TestHeaders.T0;
import static pibl.cache.TestHeaders.date;
import static pibl.cache.TestHeaders.h;

class DiskCacheStoreTest {
    private static final CacheKey KEY = CacheKey.of("http", "example.com", "/a?b=1");

    @TempDir
    Path dir;
    private final TestClock clock = new TestClock(T0);
    private DiskCacheStore store;
    private final LeakCheck leakCheck = new LeakCheck();

    @BeforeEach
    void open() {
        store = new DiskCacheStore(config(dir), clock, new DirectExecutorService());
    }

    @AfterEach
    void close() throws InterruptedException {
        store.close();
        try (leakCheck) {
            assertThat(leakCheck.leaks()).as("every ByteBuf released").isEmpty();
        }
    }

    @Test
    void storedBodyIsByteExactAtItsOffsetAndInMemory() throws Exception {
        byte[] body = body(100_000, 1);
        CacheEntry e = store(store, KEY, h(), h("Content-Type: application/octet-stream", "ETag: \"1\"",
                "Transfer-Encoding: chunked", "Date: " + date(0)), body, T0);

        assertThat(e).isNotNull();
        assertThat(store.lookup(KEY, h()).join()).isSameAs(e);
        assertThat(readBody(e)).isEqualTo(body);
        assertThat(e.bodyOffset()).as("body at a 4 KiB boundary after the header region").isEqualTo(4096);
        assertThat(Files.size(e.file())).isEqualTo(e.bodyOffset() + body.length);
        assertThat(e.headers().get("Content-Length")).as("set from what was stored").isEqualTo("100000");
        assertThat(e.headers().contains("Transfer-Encoding")).isFalse();
        assertThat(e.status()).isEqualTo(200);
        assertThat(e.reason()).isEqualTo("OK");
        assertThat(e.file().startsWith(dir)).isTrue();
        assertThat(dir.relativize(e.file()).toString())
                .isEqualTo(KEY.hash().substring(0, 2) + "/" + KEY.hash().substring(2, 4) + "/" + KEY.hash() + "-"
                        + String.format("%016x", 1));
        ByteBuf memory = e.retainedMemoryBody();
        try {
            assertThat(memory).isNotNull();
            assertThat(memory.isDirect()).as("sent without a heap-to-direct copy").isTrue();
            assertThat(memory.hasMemoryAddress())
                    .as("a view that hides the address makes the epoll transport copy it on every hit").isTrue();
            assertThat(bytes(memory)).isEqualTo(body);
            ByteBuf second = e.retainedMemoryBody();
            try {
                assertThat(bytes(second)).as("each reader gets its own indices").isEqualTo(body);
            } finally {
                second.release();
            }
        } finally {
            memory.release();
        }
        FileRegion region = e.newBodyRegion();
        try {
            assertThat(region.position()).isEqualTo(4096);
            assertThat(region.count()).isEqualTo(body.length);
        } finally {
            region.release();
        }
        assertThat(store.entryCount()).isEqualTo(1);
        assertThat(store.bytes()).isEqualTo(4096 + 100_000);
    }

    @Test
    void theMemoryTierTakesBodiesUpToAThirtySecondOfItsSize() throws Exception {
        assertThat(DiskCacheStore.memoryBodyLimit(64L << 20)).as("the default tier").isEqualTo(2 << 20);
        assertThat(DiskCacheStore.memoryBodyLimit(1L << 30)).as("capped").isEqualTo(DiskCacheStore.MEMORY_BODY_CAP);
        assertThat(DiskCacheStore.memoryBodyLimit(0)).as("no tier").isZero();

        // config(dir) has a 4 MiB tier: 128 KiB bodies are kept in memory, 129 KiB ones only on disk.
        CacheEntry in = store(store, KEY, h(), h("Cache-Control: max-age=60"), body(128 << 10, 3), 1000);
        CacheEntry out = store(store, CacheKey.of("http", "example.com", "/other"), h(),
                h("Cache-Control: max-age=60"), body((128 << 10) + 1024, 4), 1000);
        ByteBuf memory = in.retainedMemoryBody();
        try {
            assertThat(memory).isNotNull();
        } finally {
            memory.release();
        }
        assertThat(out.retainedMemoryBody()).isNull();
    }

    @Test
    void writesRunOnTheDiskThreadsAndCommitCompletesThere() throws Exception {
        store.close();
        try (DiskCacheStore async = new DiskCacheStore(config(dir), Clock.systemUTC())) {
            byte[] body = body(3_000_000, 2);
            CacheEntry e = store(async, KEY, h(), h("Cache-Control: max-age=60"), body, System.currentTimeMillis());
            assertThat(readBody(e)).isEqualTo(body);
            assertThat(e.retainedMemoryBody()).as("above the memory-tier threshold").isNull();
            assertThat(async.lookup(KEY, h()).join()).isSameAs(e);
        }
    }

    @Test
    void emptyBodiesAreStoredToo() throws Exception {
        CacheEntry e = store(store, KEY, h(), h("Content-Length: 0"), new byte[0], T0);
        assertThat(e.bodyLength()).isZero();
        assertThat(readBody(e)).isEmpty();
        assertThat(store.lookup(KEY, h()).join()).isSameAs(e);
    }

    @Test
    void varyVariantsAreStoredAndReplacedSeparately() throws Exception {
        HttpHeaders resp = h("Vary: Accept-Encoding", "Cache-Control: max-age=60");
        CacheEntry gzip = store(store, KEY, h("Accept-Encoding: gzip"), resp, body(10, 1), T0);
        CacheEntry br = store(store, KEY, h("Accept-Encoding: br"), resp, body(10, 2), T0);
        CacheEntry none = store(store, KEY, h(), resp, body(10, 3), T0);

        assertThat(store.entryCount()).isEqualTo(3);
        assertThat(store.lookup(KEY, h("Accept-Encoding: gzip")).join()).isSameAs(gzip);
        assertThat(store.lookup(KEY, h("Accept-Encoding:  br ")).join()).isSameAs(br);
        assertThat(store.lookup(KEY, h()).join()).isSameAs(none);
        assertThat(store.lookup(KEY, h("Accept-Encoding: zstd")).join()).isNull();
        assertThat(gzip.file()).isNotEqualTo(br.file());

        CacheEntry gzip2 = store(store, KEY, h("Accept-Encoding: gzip"), resp, body(10, 4), T0);
        assertThat(store.entryCount()).as("the new gzip response replaced the old one only").isEqualTo(3);
        assertThat(store.lookup(KEY, h("Accept-Encoding: gzip")).join()).isSameAs(gzip2);
        assertThat(gzip.file()).as("the replaced version's file is deleted").doesNotExist();
        assertThat(gzip2.file()).exists();
        assertThat(br.file()).exists();
    }

    @Test
    void aNewVersionNeverLosesItsFileToTheRemovalOfTheOld() throws Exception {
        CacheEntry v1 = store(store, KEY, h(), h("ETag: \"1\""), body(10, 1), T0);
        CacheEntry v2 = store(store, KEY, h(), h("ETag: \"2\""), body(10, 2), T0);
        store.cleanUp();
        assertThat(v1.file()).doesNotExist();
        assertThat(v2.file()).exists();
        assertThat(store.lookup(KEY, h()).join()).isSameAs(v2);
        assertThat(files(dir)).hasSize(1);
    }

    @Test
    void invalidateRemovesEveryVariantAndItsFile() throws Exception {
        HttpHeaders resp = h("Vary: Accept-Encoding", "Cache-Control: max-age=60");
        CacheEntry a = store(store, KEY, h("Accept-Encoding: gzip"), resp, body(10, 1), T0);
        CacheEntry b = store(store, KEY, h(), resp, body(10, 2), T0);
        CacheEntry other = store(store, CacheKey.of("http", "example.com", "/other"), h(), resp, body(10, 3), T0);

        store.invalidate(CacheKey.of("http", "EXAMPLE.com:80", "/a?b=1"));

        assertThat(store.lookup(KEY, h()).join()).isNull();
        assertThat(store.lookup(KEY, h("Accept-Encoding: gzip")).join()).isNull();
        assertThat(a.file()).doesNotExist();
        assertThat(b.file()).doesNotExist();
        assertThat(other.file()).exists();
        assertThat(store.entryCount()).isEqualTo(1);
    }

    @Test
    void aWriterBegunBeforeAnInvalidationStoresNothing() throws Exception {
        CacheWriter w = store.begin(KEY, h(), 200, "OK", h(), T0, T0);
        writeChunks(w, body(100, 1), 10);
        store.invalidate(KEY);
        assertThat(w.commit().get(5, TimeUnit.SECONDS)).as("the response predates the unsafe request").isNull();
        assertThat(store.lookup(KEY, h()).join()).isNull();
        assertThat(files(dir)).isEmpty();
    }

    @Test
    void maxSizeEvictionRemovesFiles() throws Exception {
        store.close();
        store = new DiskCacheStore(config(dir, 100 * 1024, 20 * 1024, 0), clock, new DirectExecutorService());
        for (int i = 0; i < 20; i++) {
            store(store, CacheKey.of("http", "example.com", "/" + i), h(), h(), body(10 * 1024, i), T0);
        }
        store.cleanUp();
        assertThat(store.bytes()).isLessThanOrEqualTo(100 * 1024).isPositive();
        assertThat(store.entryCount()).isBetween(1L, 7L);
        assertThat(files(dir)).as("one file per indexed entry, evicted ones deleted").hasSize((int) store.entryCount());
    }

    @Test
    void entriesExpireWithTheClockOnceUnusable() throws Exception {
        CacheEntry plain = store(store, KEY, h(), h("Cache-Control: max-age=10, stale-if-error=20"), body(10, 1), T0);
        CacheKey tagged = CacheKey.of("http", "example.com", "/tagged");
        CacheEntry withEtag = store(store, tagged, h(), h("Cache-Control: max-age=10", "ETag: \"x\""), body(10, 2), T0);

        clock.advance(Duration.ofSeconds(29));
        store.cleanUp();
        assertThat(store.lookup(KEY, h()).join()).as("still usable on error").isSameAs(plain);

        clock.advance(Duration.ofSeconds(2));
        store.cleanUp();
        assertThat(store.lookup(KEY, h()).join()).isNull();
        assertThat(plain.file()).doesNotExist();
        assertThat(store.lookup(tagged, h()).join()).as("a validator keeps it for revalidation").isSameAs(withEtag);

        clock.advance(Duration.ofMillis(DiskCacheStore.VALIDATOR_RETENTION));
        store.cleanUp();
        assertThat(store.lookup(tagged, h()).join()).isNull();
        assertThat(withEtag.file()).doesNotExist();
    }

    @Test
    void updateHeadersRewritesTheHeaderInPlaceAndKeepsTheBody() throws Exception {
        byte[] body = body(5000, 7);
        CacheEntry e = store(store, KEY, h(), h("Cache-Control: max-age=10", "ETag: \"v1\"", "X-Old: 1",
                "Date: " + date(0)), body, T0);
        clock.advance(Duration.ofSeconds(100));
        long now = clock.millis();

        CacheEntry refreshed = StoreFixture.updateHeaders(store, e, h("Cache-Control: max-age=300", "ETag: \"v1\"",
                "Date: " + date(100), "Content-Length: 0"), now - 5, now).get(5, TimeUnit.SECONDS);

        assertThat(refreshed.file()).isEqualTo(e.file());
        assertThat(refreshed.headers().get("Cache-Control")).isEqualTo("max-age=300");
        assertThat(refreshed.headers().get("X-Old")).isEqualTo("1");
        assertThat(refreshed.headers().get("Content-Length")).isEqualTo("5000");
        assertThat(refreshed.freshness().isFresh(now)).isTrue();
        assertThat(refreshed.freshUntil()).isEqualTo(now + 300_000 - 5);
        assertThat(store.lookup(KEY, h()).join()).isSameAs(refreshed);
        ByteBuf memory = refreshed.retainedMemoryBody();
        assertThat(bytes(memory)).isEqualTo(body);
        memory.release();

        store.close();
        store = new DiskCacheStore(config(dir), clock, new DirectExecutorService());
        CacheEntry reloaded = store.lookup(KEY, h()).join();
        assertThat(reloaded.headers().get("Cache-Control")).as("the header on disk was rewritten")
                .isEqualTo("max-age=300");
        assertThat(reloaded.responseTime()).isEqualTo(now);
        assertThat(readBody(reloaded)).isEqualTo(body);
    }

    @Test
    void updateHeadersThatOutgrowTheRegionMoveTheEntryToANewFile() throws Exception {
        byte[] body = body(3000, 8);
        CacheEntry e = store(store, KEY, h(), h("ETag: \"v1\""), body, T0);
        String big = "x".repeat(6000);
        CacheEntry refreshed = StoreFixture.updateHeaders(store, e, h("X-Big: " + big), T0, T0).get(5, TimeUnit.SECONDS);

        CacheEntry current = store.lookup(KEY, h()).join();
        assertThat(current.file()).isNotEqualTo(e.file());
        assertThat(current.bodyOffset()).isEqualTo(8192);
        assertThat(current.headers().get("X-Big")).isEqualTo(big);
        assertThat(readBody(current)).isEqualTo(body);
        assertThat(e.file()).doesNotExist();
        assertThat(refreshed.headers().get("X-Big")).isEqualTo(big);

        store.close();
        store = new DiskCacheStore(config(dir), clock, new DirectExecutorService());
        assertThat(readBody(store.lookup(KEY, h()).join())).isEqualTo(body);
    }

    @Test
    void a304ThatForbidsStorageRemovesTheVariantButStillServes() throws Exception {
        CacheEntry e = store(store, KEY, h(), h("ETag: \"v1\""), body(10, 1), T0);
        CacheEntry refreshed = StoreFixture.updateHeaders(store, e, h("Cache-Control: no-store"), T0, T0).get();
        assertThat(refreshed.headers().get("Cache-Control")).isEqualTo("no-store");
        assertThat(store.lookup(KEY, h()).join()).isNull();
        assertThat(e.file()).doesNotExist();
    }

    @Test
    void clearEmptiesIndexAndDirectory() throws Exception {
        for (int i = 0; i < 5; i++) {
            store(store, CacheKey.of("http", "example.com", "/" + i), h(), h(), body(100, i), T0);
        }
        Files.writeString(dir.resolve("not-ours.txt"), "keep");
        store.clear();
        assertThat(store.entryCount()).isZero();
        assertThat(store.lookup(CacheKey.of("http", "example.com", "/1"), h()).join()).isNull();
        assertThat(files(dir)).as("only files this store did not make remain").containsExactly("not-ours.txt");
    }

    @Test
    void memoryTierIsBoundedAndReleasesWhatItEvicts() throws Exception {
        store.close();
        // A 1 MB tier takes bodies up to 31,250 bytes: forty 30 kB bodies cannot all stay in it.
        store = new DiskCacheStore(config(dir, 64L << 20, 8L << 20, 1_000_000), clock, new DirectExecutorService());
        List<CacheEntry> entries = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            entries.add(store(store, CacheKey.of("http", "h", "/" + i), h(), h(), body(30_000, i), T0));
        }
        store.cleanUp();
        assertThat(entries).as("every body went to the tier first").allMatch(e -> e.memoryBody() != null);
        List<CacheEntry> inMemory = entries.stream().filter(e -> e.memoryBody().refCnt() > 0).toList();
        assertThat(inMemory.size()).as("1 MB hold at most 33 bodies of 30 kB").isBetween(1, 33);
        CacheEntry evicted = entries.stream().filter(e -> e.memoryBody().refCnt() == 0).findFirst().orElseThrow();
        assertThat(evicted.retainedMemoryBody()).as("an evicted body falls back to the file").isNull();
        assertThat(readBody(evicted)).isEqualTo(body(30_000, entries.indexOf(evicted)));

        store.close();
        assertThat(entries).as("close releases memory bodies").allMatch(e -> e.memoryBody().refCnt() == 0);
    }

    @Test
    void aTierSmallerThanABufferPageStillTakesTinyBodiesOfUnknownLength() throws Exception {
        store.close();
        store = new DiskCacheStore(config(dir, 64L << 20, 8L << 20, 64_000), clock, new DirectExecutorService());
        CacheWriter w = store.begin(KEY, h(), 200, "OK", h("Cache-Control: max-age=60"), T0, T0);
        writeChunks(w, body(1000, 7), 100); // no Content-Length: the writer cannot size its buffer up front
        CacheEntry e = w.commit().get();
        ByteBuf memory = e.retainedMemoryBody();
        try {
            assertThat(bytes(memory)).isEqualTo(body(1000, 7));
        } finally {
            memory.release();
        }
    }

    @Test
    void abortLeavesNothingBehind() throws Exception {
        CacheWriter w = store.begin(KEY, h(), 200, "OK", h(), T0, T0);
        writeChunks(w, body(1000, 1), 100);
        w.abort();
        w.write(Unpooled.EMPTY_BUFFER);
        assertThat(w.commit().get()).isNull();
        assertThat(files(dir)).isEmpty();
        assertThat(store.lookup(KEY, h()).join()).isNull();
    }
}
