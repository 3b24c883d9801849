package pibl.cache;

import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.testing.NoLeaks;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.StoreFixture.body;
import static pibl.cache.StoreFixture.config;
import static pibl.cache.StoreFixture.files;
import static pibl.cache.StoreFixture.lookup;
import static pibl.cache.StoreFixture.opened;
import static pibl.cache.StoreFixture.writeChunks;
import static pibl.cache.TestHeaders.h;

/**
 * Eight "event loops" storing, replacing, reading, refreshing and invalidating the same few keys (with Vary
 * variants) on the real disk threads, with evictions by size: every body read must be the one its headers
 * announce, and afterwards the directory must hold exactly the indexed files (responses and markers).
 */
@ExtendWith(NoLeaks.class)
class DiskCacheStoreConcurrencyTest {
    @TempDir
    Path dir;

    @Test
    void concurrentWritersReadersAndInvalidationsKeepFilesAndIndexConsistent() throws Exception {
        AtomicInteger verifiedReads = new AtomicInteger();
        try (DiskCacheStore store = opened(config(dir, 2L << 20, 512 * 1024, 256 * 1024), Clock.systemUTC())) {
            ExecutorService loops = Executors.newFixedThreadPool(8);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                long seedOfThread = t;
                done.add(loops.submit(() -> {
                    Random rnd = new Random(seedOfThread);
                    List<CompletableFuture<CacheEntry>> commits = new ArrayList<>();
                    for (int i = 0; i < 150; i++) {
                        CacheKey key = CacheKey.of("http", "h", "/" + rnd.nextInt(12));
                        HttpHeaders req = h("Accept-Encoding: " + (rnd.nextBoolean() ? "gzip" : "br"));
                        int op = rnd.nextInt(10);
                        if (op < 4) {
                            long seed = rnd.nextLong();
                            byte[] body = body(rnd.nextInt(120_000), seed);
                            long now = System.currentTimeMillis();
                            CacheWriter w = store.begin(key, req, 200, "OK", CachePolicy.storedHeaders(
                                    h("Vary: Accept-Encoding", "ETag: \"" + seed + "\"", "X-Seed: " + seed), now),
                                    now, now);
                            writeChunks(w, body, 8192);
                            commits.add(w.commit());
                        } else if (op < 8) {
                            CacheEntry e = lookup(store, key, req);
                            if (e != null && verify(e)) {
                                verifiedReads.incrementAndGet();
                            }
                        } else if (op < 9) {
                            CacheEntry e = lookup(store, key, req);
                            if (e != null) {
                                long now = System.currentTimeMillis();
                                StoreFixture.updateHeaders(store, e, h("X-Refreshed: " + i), now, now);
                            }
                        } else {
                            store.invalidate(key);
                        }
                    }
                    for (CompletableFuture<CacheEntry> c : commits) {
                        c.get(30, TimeUnit.SECONDS);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
            loops.shutdown();
            store.settle();
            for (int k = 0; k < 12; k++) { // at rest: whatever is indexed reads back as it was stored
                for (String encoding : new String[] {"gzip", "br"}) {
                    CacheEntry e = lookup(store, CacheKey.of("http", "h", "/" + k), h("Accept-Encoding: " + encoding));
                    if (e != null) {
                        assertThat(verify(e)).as("an indexed entry has its file: " + e).isTrue();
                        verifiedReads.incrementAndGet();
                    }
                }
            }
            store.settle();
            assertThat(verifiedReads.get()).as("the test did read stored bodies").isPositive();
            assertThat(files(dir)).as("no temporary files, one file per indexed response or marker")
                    .noneMatch(name -> name.endsWith(".tmp")).hasSize((int) store.status().slots());
        }
        try (DiskCacheStore reopened = opened(config(dir), Clock.systemUTC())) {
            assertThat(files(dir)).as("a restart indexes every file").hasSize((int) reopened.status().slots());
        }
    }

    /** Reads the body through an opened channel; false if the file was already replaced or evicted. */
    private static boolean verify(CacheEntry e) throws IOException {
        long seed = Long.parseLong(e.headers().get("X-Seed"));
        byte[] expected = body((int) e.bodyLength(), seed);
        FileChannel ch;
        try {
            ch = FileChannel.open(e.file());
        } catch (NoSuchFileException gone) {
            return false;
        }
        try (ch) {
            ByteBuffer fixed = ByteBuffer.allocate(EntryFile.FIXED);
            EntryFile.readFully(ch, fixed, 0);
            if (fixed.getInt(30) != e.version()) {
                return false; // replaced by a newer version since the lookup
            }
            ByteBuffer b = ByteBuffer.allocate((int) e.bodyLength());
            EntryFile.readFully(ch, b, e.bodyOffset());
            assertThat(b.array()).as("body of %s", e).isEqualTo(expected);
            return true;
        }
    }
}
