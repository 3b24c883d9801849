package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.testing.NoLeaks;
import pibl.testing.TestClock;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static pibl.cache.StoreFixture.body;
import static pibl.cache.StoreFixture.bytes;
import static pibl.cache.StoreFixture.config;
import static pibl.cache.StoreFixture.files;
import static pibl.cache.StoreFixture.lookup;
import static pibl.cache.StoreFixture.opened;
import static pibl.cache.StoreFixture.readBody;
import static pibl.cache.StoreFixture.store;
import static pibl.cache.StoreFixture.writeChunks;
import static pibl.cache.TestHeaders.T0;
import static pibl.cache.TestHeaders.date;
import static pibl.cache.TestHeaders.h;

@ExtendWith(NoLeaks.class)
class DiskCacheStoreTest {
    private static final CacheKey KEY = CacheKey.of("http", "example.com", "/a?b=1");

    @TempDir
    Path dir;
    private final TestClock clock = new TestClock(T0);
    private DiskCacheStore store;

    @BeforeEach
    void open() throws Exception {
        store = opened(config(dir), clock);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private void reopen(pibl.config.CacheConfig cfg) throws Exception {
        store.close();
        store = opened(cfg, clock);
    }

    @Test
    void aStoredResponseIsOneFileNamedByTheKeysDigestWithTheBodyRightAfterItsHeader() throws Exception {
        byte[] body = body(100_000, 1);
        CacheEntry e = store(store, KEY, h(), h("Content-Type: application/octet-stream", "ETag: \"1\"",
                "Transfer-Encoding: chunked", "Date: " + date(0)), body, T0);

        assertThat(e).isNotNull();
        assertThat(lookup(store, KEY, h())).isSameAs(e);
        assertThat(readBody(e)).isEqualTo(body);
        String hex = KEY.digest().hex();
        assertThat(dir.relativize(e.file()).toString()).as("4096 directories, nothing of the URI in the path")
                .isEqualTo(hex.charAt(0) + "/" + hex.substring(1, 3) + "/" + hex);
        assertThat(e.bodyOffset()).as("no padding to a 4 KiB boundary: header, a little slack, the body")
                .isLessThan(1024).isGreaterThan(EntryFile.FIXED + EntryFile.SLACK);
        assertThat(Files.size(e.file())).isEqualTo(e.bodyOffset() + body.length);
        assertThat(e.headers().get("Content-Length")).as("set from what was stored").isEqualTo("100000");
        assertThat(e.headers().contains("Transfer-Encoding")).isFalse();
        assertThat(e.status()).isEqualTo(200);
        assertThat(e.reason()).isEqualTo("OK");
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
            assertThat(region.position()).isEqualTo(e.bodyOffset());
            assertThat(region.count()).isEqualTo(body.length);
        } finally {
            region.release();
        }
        assertThat(store.entryCount()).isEqualTo(1);
        assertThat(store.bytes()).as("whole 4 KiB blocks, as the disk counts them")
                .isEqualTo(CacheIndex.blocksKiB(e.bodyOffset() + body.length) * 1024);
    }

    @Test
    void aSmallResponseTakesOneBlockOnDisk() throws Exception {
        CacheEntry e = store(store, KEY, h(), h("Cache-Control: max-age=86400", "Content-Type: text/plain",
                "Date: " + date(0), "ETag: \"abc\"", "Last-Modified: " + date(-60)), body(128, 1), T0);
        assertThat(Files.size(e.file())).as("nginx's file for the same response is one block too").isLessThan(4096);
        assertThat(store.bytes()).isEqualTo(4096);
    }

    @Test
    void theMemoryTierTakesBodiesUpToAThirtySecondOfItsSize() throws Exception {
        assertThat(HotTier.bodyLimit(64L << 20)).as("the default tier").isEqualTo(2 << 20);
        assertThat(HotTier.bodyLimit(1L << 30)).as("capped").isEqualTo(HotTier.MEMORY_BODY_CAP);
        assertThat(HotTier.bodyLimit(0)).as("no tier").isZero();

        // config(dir) has a 4 MiB tier: 128 KiB bodies are kept in memory, 129 KiB ones only on disk.
        CacheEntry in = store(store, KEY, h(), h("Cache-Control: max-age=60"), body(128 << 10, 3), T0);
        CacheEntry out = store(store, CacheKey.of("http", "example.com", "/other"), h(),
                h("Cache-Control: max-age=60"), body((128 << 10) + 1024, 4), T0);
        ByteBuf memory = in.retainedMemoryBody();
        try {
            assertThat(memory).isNotNull();
        } finally {
            memory.release();
        }
        assertThat(out.retainedMemoryBody()).isNull();
        assertThat(readBody(out)).isEqualTo(body((128 << 10) + 1024, 4));
    }

    @Test
    void aLargeBodyIsStreamedToItsFileAndServedFromIt() throws Exception {
        byte[] body = body(3_000_000, 2);
        CacheEntry e = store(store, KEY, h(), h("Cache-Control: max-age=60"), body, T0);
        assertThat(readBody(e)).isEqualTo(body);
        assertThat(e.retainedMemoryBody()).as("above the memory-tier threshold").isNull();
        assertThat(lookup(store, KEY, h())).isSameAs(e);
    }

    @Test
    void emptyBodiesAreStoredToo() throws Exception {
        CacheEntry e = store(store, KEY, h(), h("Content-Length: 0"), new byte[0], T0);
        assertThat(e.bodyLength()).isZero();
        assertThat(readBody(e)).isEmpty();
        assertThat(lookup(store, KEY, h())).isSameAs(e);
    }

    @Test
    void aNewVersionReplacesTheFileInPlaceAndAnOldEntryCannotServeTheNewBytes() throws Exception {
        CacheEntry v1 = store(store, KEY, h(), h("ETag: \"1\"", "X-Pad: " + "p".repeat(300)), body(5_000_000, 1),
                T0);
        CacheEntry v2 = store(store, KEY, h(), h("ETag: \"2\""), body(5_000_000, 2), T0);
        store.settle();

        assertThat(v2.file()).isEqualTo(v1.file()).exists();
        assertThat(lookup(store, KEY, h())).isSameAs(v2);
        assertThat(files(dir)).as("one file per key").hasSize(1);
        assertThatThrownBy(v1::newBodyRegion).as("v1's offsets over v2's bytes would serve garbage")
                .isInstanceOf(NoSuchFileException.class);
        FileRegion fromV2 = v2.newBodyRegion();
        fromV2.release();
    }

    @Test
    void varyVariantsAreStoredAndReplacedSeparatelyBehindOneMarker() throws Exception {
        HttpHeaders resp = h("Vary: Accept-Encoding", "Cache-Control: max-age=60");
        CacheEntry gzip = store(store, KEY, h("Accept-Encoding: gzip"), resp, body(10, 1), T0);
        CacheEntry br = store(store, KEY, h("Accept-Encoding: br"), resp, body(10, 2), T0);
        CacheEntry none = store(store, KEY, h(), resp, body(10, 3), T0);

        assertThat(store.entryCount()).as("three responses; the marker is not one").isEqualTo(3);
        assertThat(lookup(store, KEY, h("Accept-Encoding: gzip"))).isSameAs(gzip);
        assertThat(lookup(store, KEY, h("Accept-Encoding:  br "))).isSameAs(br);
        assertThat(lookup(store, KEY, h())).isSameAs(none);
        assertThat(lookup(store, KEY, h("Accept-Encoding: zstd"))).isNull();
        assertThat(gzip.file()).isNotEqualTo(br.file());
        assertThat(gzip.file().getParent().getParent()).as("a key's variants live next to it")
                .isEqualTo(EntryFile.path(dir, KEY.digest()).getParent().getParent());
        assertThat(EntryFile.path(dir, KEY.digest())).as("the key's own file is its Vary marker").exists();

        CacheEntry gzip2 = store(store, KEY, h("Accept-Encoding: gzip"), resp, body(10, 4), T0);
        assertThat(store.entryCount()).as("the new gzip response replaced the old one only").isEqualTo(3);
        assertThat(lookup(store, KEY, h("Accept-Encoding: gzip"))).isSameAs(gzip2);
        assertThat(br.file()).exists();
    }

    @Test
    void invalidateMakesEveryVariantUnreachableAndDeletesTheFiles() throws Exception {
        HttpHeaders resp = h("Vary: Accept-Encoding", "Cache-Control: max-age=60");
        store(store, KEY, h("Accept-Encoding: gzip"), resp, body(10, 1), T0);
        CacheEntry plain = store(store, CacheKey.of("http", "example.com", "/plain"), h(), h("Cache-Control: max-age=60"),
                body(10, 2), T0);
        CacheEntry other = store(store, CacheKey.of("http", "example.com", "/other"), h(), resp, body(10, 3), T0);

        store.invalidate(CacheKey.of("http", "EXAMPLE.com:80", "/a?b=1"));
        store.invalidate(CacheKey.of("http", "example.com", "/plain"));
        store.settle();

        assertThat(lookup(store, KEY, h("Accept-Encoding: gzip"))).isNull();
        assertThat(EntryFile.path(dir, KEY.digest())).as("the marker is gone").doesNotExist();
        assertThat(plain.file()).doesNotExist();
        assertThat(other.file()).exists();
        CacheEntry again = store(store, KEY, h("Accept-Encoding: gzip"), resp, body(10, 9), T0);
        assertThat(lookup(store, KEY, h("Accept-Encoding: gzip"))).as("a new marker, new variants").isSameAs(again);
        assertThat(readBody(again)).isEqualTo(body(10, 9));
    }

    @Test
    void aWriterBegunBeforeAnInvalidationStoresNothing() throws Exception {
        CacheWriter w = store.begin(KEY, h(), 200, "OK", h(), T0, T0);
        writeChunks(w, body(100, 1), 10);
        store.invalidate(KEY);
        assertThat(w.commit().get(5, TimeUnit.SECONDS)).as("the response predates the unsafe request").isNull();
        store.settle();
        assertThat(lookup(store, KEY, h())).isNull();
        assertThat(files(dir)).isEmpty();
    }

    @Test
    void maxSizeEvictionRemovesFiles() throws Exception {
        reopen(config(dir, 100 * 1024, 20 * 1024, 0));
        for (int i = 0; i < 20; i++) {
            store(store, CacheKey.of("http", "example.com", "/" + i), h(), h(), body(10 * 1024, i), T0);
        }
        store.settle();
        assertThat(store.bytes()).as("each entry takes 3 blocks: 12 KiB").isLessThanOrEqualTo(100 * 1024).isPositive();
        assertThat(store.entryCount()).isBetween(1L, 8L);
        assertThat(files(dir)).as("one file per indexed entry, evicted ones deleted").hasSize((int) store.entryCount());
    }

    @Test
    void maxEntriesBoundsTheIndexAndEvictionKeepsWhatIsRead() throws Exception {
        reopen(config(dir).withMaxEntries(640));
        CacheKey popular = CacheKey.of("http", "example.com", "/popular");
        store(store, popular, h(), h("Cache-Control: max-age=600"), body(10, 0), T0);
        for (int i = 0; i < 5_000; i++) {
            store(store, CacheKey.of("http", "example.com", "/once/" + i), h(), h("Cache-Control: max-age=600"),
                    body(10, i), T0);
            if (i % 50 == 0) {
                assertThat(lookup(store, popular, h())).as("read now and then, it stays (CLOCK)").isNotNull();
            }
        }
        store.settle();
        assertThat(store.status().slots()).as("never past max-entries").isLessThanOrEqualTo(640);
        assertThat(store.entryCount()).isGreaterThan(300);
        assertThat(store.status().stored()).as("every response was stored, then most evicted").isEqualTo(5_001);
        assertThat(store.status().evicted()).isEqualTo(5_001 - store.entryCount());
        assertThat(lookup(store, popular, h())).isNotNull();
        assertThat(files(dir)).as("evicted entries took their files with them").hasSize((int) store.entryCount());
    }

    @Test
    void entriesExpireWithTheClockOnceUnusable() throws Exception {
        CacheEntry plain = store(store, KEY, h(), h("Cache-Control: max-age=10, stale-if-error=20"), body(10, 1), T0);
        CacheKey tagged = CacheKey.of("http", "example.com", "/tagged");
        CacheEntry withEtag = store(store, tagged, h(), h("Cache-Control: max-age=10", "ETag: \"x\""), body(10, 2), T0);

        clock.advance(Duration.ofSeconds(29));
        assertThat(store.expireNow()).isZero();
        assertThat(lookup(store, KEY, h())).as("still usable on error").isSameAs(plain);

        clock.advance(Duration.ofSeconds(2));
        assertThat(store.expireNow()).isEqualTo(1);
        store.settle();
        assertThat(lookup(store, KEY, h())).isNull();
        assertThat(plain.file()).doesNotExist();
        assertThat(lookup(store, tagged, h())).as("a validator keeps it for revalidation").isSameAs(withEtag);

        clock.advance(Duration.ofMillis(DiskCacheStore.VALIDATOR_RETENTION));
        assertThat(lookup(store, tagged, h())).as("a lookup does not return what expired").isNull();
        store.settle();
        assertThat(withEtag.file()).doesNotExist();
    }

    @Test
    void aRefreshRewritesTheHeaderInPlaceAndKeepsTheBody() throws Exception {
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
        assertThat(lookup(store, KEY, h())).isSameAs(refreshed);
        ByteBuf memory = refreshed.retainedMemoryBody();
        assertThat(bytes(memory)).isEqualTo(body);
        memory.release();

        reopen(config(dir));
        CacheEntry reloaded = lookup(store, KEY, h());
        assertThat(reloaded.headers().get("Cache-Control")).as("the header on disk was rewritten")
                .isEqualTo("max-age=300");
        assertThat(reloaded.responseTime()).isEqualTo(now);
        assertThat(readBody(reloaded)).isEqualTo(body);
    }

    @Test
    void aRefreshThatOutgrowsTheRegionRewritesTheFileWithTheSameBody() throws Exception {
        byte[] body = body(3000, 8);
        CacheEntry e = store(store, KEY, h(), h("ETag: \"v1\""), body, T0);
        String big = "x".repeat(6000);
        CacheEntry refreshed = StoreFixture.updateHeaders(store, e, h("X-Big: " + big), T0, T0).get(5, TimeUnit.SECONDS);
        store.settle();

        CacheEntry current = lookup(store, KEY, h());
        assertThat(current.version()).as("a new version of the file").isNotEqualTo(e.version());
        assertThat(current.bodyOffset()).isGreaterThan(6000);
        assertThat(current.headers().get("X-Big")).isEqualTo(big);
        assertThat(readBody(current)).isEqualTo(body);
        assertThat(refreshed.headers().get("X-Big")).isEqualTo(big);
        assertThat(files(dir)).hasSize(1);

        reopen(config(dir));
        assertThat(readBody(lookup(store, KEY, h()))).isEqualTo(body);
    }

    @Test
    void a304ThatForbidsStorageRemovesTheVariantButStillServes() throws Exception {
        CacheEntry e = store(store, KEY, h(), h("ETag: \"v1\""), body(10, 1), T0);
        CacheEntry refreshed = StoreFixture.updateHeaders(store, e, h("Cache-Control: no-store"), T0, T0).get();
        store.settle();
        assertThat(refreshed.headers().get("Cache-Control")).isEqualTo("no-store");
        assertThat(lookup(store, KEY, h())).isNull();
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
        assertThat(lookup(store, CacheKey.of("http", "example.com", "/1"), h())).isNull();
        assertThat(files(dir)).as("only files this store did not make remain").containsExactly("not-ours.txt");
    }

    @Test
    void theMemoryTierIsBoundedAndReleasesWhatItEvicts() throws Exception {
        // A 1 MB tier takes bodies up to 31,250 bytes: forty 30 kB bodies cannot all stay in it.
        reopen(config(dir, 64L << 20, 8L << 20, 1_000_000));
        List<CacheEntry> entries = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            entries.add(store(store, CacheKey.of("http", "h", "/" + i), h(), h(), body(30_000, i), T0));
        }
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
        reopen(config(dir, 64L << 20, 8L << 20, 64_000));
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
    void aColdEntryIsReadOnItsDiskThreadThenServedFromMemory() throws Exception {
        CacheEntry stored = store(store, KEY, h(), h("Cache-Control: max-age=60", "X-A: 1"), body(2000, 5), T0);
        reopen(config(dir));
        CompletableFuture<CacheEntry> cold = store.lookup(KEY, h());
        CacheEntry read = cold.get(5, TimeUnit.SECONDS);
        assertThat(read.headers().get("X-A")).isEqualTo("1");
        assertThat(read.version()).isEqualTo(stored.version());
        CompletableFuture<CacheEntry> hot = store.lookup(KEY, h());
        assertThat(hot).as("headers and body now in memory: answered at once, no thread hop").isDone();
        assertThat(hot.get()).isSameAs(read);
        ByteBuf memory = read.retainedMemoryBody();
        try {
            assertThat(bytes(memory)).isEqualTo(body(2000, 5));
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
        store.settle();
        assertThat(files(dir)).isEmpty();
        assertThat(lookup(store, KEY, h())).isNull();
    }
}
