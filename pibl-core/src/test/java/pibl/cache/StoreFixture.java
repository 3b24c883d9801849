package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaders;
import pibl.config.CacheConfig;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Builders shared by the store tests: configs, bodies, a write-and-commit shortcut, file inspection. */
final class StoreFixture {
    private StoreFixture() {
    }

    static CacheConfig config(Path dir) {
        return config(dir, 64L << 20, 8L << 20, 4L << 20);
    }

    static CacheConfig config(Path dir, long maxSize, long maxObjectSize, long memorySize) {
        return new CacheConfig(true, dir, Duration.ofSeconds(60), CacheConfig.TtlMode.DEFAULT, maxSize,
                maxObjectSize, memorySize, false, Duration.ZERO);
    }

    /** A store over {@code cfg} whose index has finished loading. */
    static DiskCacheStore opened(CacheConfig cfg, java.time.Clock clock) throws InterruptedException {
        DiskCacheStore store = new DiskCacheStore(cfg, clock);
        if (!store.awaitLoaded(java.time.Duration.ofSeconds(30))) {
            throw new AssertionError("the index did not load in 30 s");
        }
        return store;
    }

    /** The lookup's answer, waiting for a disk thread if it had to go to one. */
    static CacheEntry lookup(CacheStore store, CacheKey key, HttpHeaders req) throws Exception {
        return store.lookup(key, req).get(10, TimeUnit.SECONDS);
    }

    static byte[] body(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Writes {@code body} in chunks of {@code chunk} bytes from pooled buffers the test releases itself. */
    static void writeChunks(CacheWriter w, byte[] body, int chunk) {
        for (int off = 0; off < body.length; off += chunk) {
            ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer();
            try {
                buf.writeBytes(body, off, Math.min(chunk, body.length - off));
                int readerIndex = buf.readerIndex();
                w.write(buf);
                if (buf.readerIndex() != readerIndex) {
                    throw new AssertionError("write() must not consume the caller's buffer");
                }
            } finally {
                buf.release();
            }
        }
    }

    /** What a caller does for a storable response: stored headers, begin, write, commit, wait: the entry or null. */
    static CacheEntry store(CacheStore store, CacheKey key, HttpHeaders req, HttpHeaders resp, byte[] body, long now)
            throws Exception {
        CacheWriter w = store.begin(key, req, 200, "OK", CachePolicy.storedHeaders(resp, now), now, now);
        if (w == null) {
            return null;
        }
        writeChunks(w, body, 16 * 1024 + 7);
        return w.commit().get(10, TimeUnit.SECONDS);
    }

    /** What a 304 does to a stored entry, as {@link CacheFill} does it: merge, refresh, drop if now unstorable. */
    static CompletableFuture<CacheEntry> updateHeaders(CacheStore store, CacheEntry e, HttpHeaders notModified,
                                                       long requestTime, long responseTime) {
        CacheConfig cfg = config(Path.of("unused"));
        HttpHeaders merged = StoredUpdate.updatedHeaders(e.headers(), notModified, responseTime, cfg);
        CacheEntry refreshed = store.refresh(e, merged, requestTime, responseTime);
        if (!StoredUpdate.isStorableAfterRefresh(merged, cfg)) {
            store.remove(refreshed);
        }
        return CompletableFuture.completedFuture(refreshed);
    }

    static byte[] readBody(CacheEntry e) throws IOException {
        try (FileChannel ch = FileChannel.open(e.file(), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate((int) e.bodyLength());
            while (b.hasRemaining()) {
                if (ch.read(b, e.bodyOffset() + b.position()) < 0) {
                    throw new IOException("short file");
                }
            }
            return b.array();
        }
    }

    static byte[] bytes(ByteBuf buf) {
        byte[] out = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), out);
        return out;
    }

    /** Every regular file under {@code dir}, relative. */
    static List<String> files(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }
}
