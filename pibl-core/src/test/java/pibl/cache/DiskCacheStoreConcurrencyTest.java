package pibl.cache;

import pibl.testing.LeakCheck;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.StoreFixture.body;
import static pibl.cache.StoreFixture.config;
import static pibl.cache.StoreFixture.files;
import static pibl.cache.StoreFixture.writeChunks;
import static pibl.cache.TestHeaders.h;

/**
 * Several "event loops" storing, replacing, reading, refreshing and invalidating the same keys on the real disk
 * threads, with evictions: every body read must be the one its headers announce, and afterwards the directory
 * must hold exactly the indexed files.
 */
class DiskCacheStoreConcurrencyTest {
    @TempDir
    Path dir;

    @Test
    void concurrentWritersReadersAndInvalidationsKeepFilesAndIndexConsistent() throws Exception {
        AtomicInteger verifiedReads = new AtomicInteger();
        LeakCheck leakCheck = new LeakCheck();
        try (DiskCacheStore store = new DiskCacheStore(config(dir, 2L << 20, 512 * 1024, 256 * 1024),
                Clock.systemUTC())) {
            ExecutorService loops = Executors.newFixedThreadPool(8);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                done.add(loops.submit(() -> {
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    List<CompletableFuture<CacheEntry>> commits = new ArrayList<>();
                    for (int i = 0; i < 150; i++) {
                        CacheKey key = CacheKey.of("http", "h", "/" + rnd.nextInt(12));
                        HttpHeaders req = h("Accept-Encoding: " + (rnd.nextBoolean() ? "gzip" : "br"));
                        int op = rnd.nextInt(10);
                        if (op < 4) {
                            long seed = rnd.nextLong();
                            byte[] body = body(rnd.nextInt(120_000), seed);
                            long now = System.currentTimeMillis();
                            CacheWriter w = store.begin(key, req, 200, "OK", h("Vary: Accept-Encoding",
                                    "ETag: \"" + seed + "\"", "X-Seed: " + seed), now, now);
                            writeChunks(w, body, 8192);
                            commits.add(w.commit());
                        } else if (op < 8) {
                            CacheEntry e = store.lookup(key, req).join();
                            if (e != null && verify(e)) {
                                verifiedReads.incrementAndGet();
                            }
                        } else if (op < 9) {
                            CacheEntry e = store.lookup(key, req).join();
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
            store.cleanUp();
        }
        assertThat(verifiedReads.get()).as("the test did read stored bodies").isPositive();
        try (leakCheck) {
            assertThat(leakCheck.leaks()).as("every chunk and memory body released").isEmpty();
        }

        try (DiskCacheStore reopened = new DiskCacheStore(config(dir), Clock.systemUTC())) {
            assertThat(files(dir)).as("no temporary files, one file per entry")
                    .noneMatch(name -> name.endsWith(".tmp")).hasSize((int) reopened.entryCount());
        }
    }

    /** Reads the body through an opened channel; false if the file was already replaced or evicted. */
    private static boolean verify(CacheEntry e) throws IOException {
        long seed = Long.parseLong(e.headers().get("X-Seed"));
        byte[] expected = body((int) e.bodyLength(), seed);
        FileChannel ch;
        try {
            ch = FileChannel.open(e.file(), StandardOpenOption.READ);
        } catch (NoSuchFileException gone) {
            return false;
        }
        try (ch) {
            ByteBuffer b = ByteBuffer.allocate((int) e.bodyLength());
            while (b.hasRemaining()) {
                if (ch.read(b, e.bodyOffset() + b.position()) < 0) {
                    throw new AssertionError("short body in " + e);
                }
            }
            assertThat(b.array()).as("body of %s", e).isEqualTo(expected);
            return true;
        }
    }
}
