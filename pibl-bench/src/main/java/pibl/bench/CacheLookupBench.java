package pibl.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import pibl.cache.CacheEntry;
import pibl.cache.CacheKey;
import pibl.cache.CachePolicy;
import pibl.cache.CacheStore;
import pibl.cache.CacheWriter;
import pibl.cache.DiskCacheStore;
import pibl.config.CacheConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What a cacheable request costs before any byte moves: the in-memory index lookup of a {@link DiskCacheStore}
 * holding {@value #ENTRIES} entries of 1 KiB, and the RFC 9111 reuse decision on the entry found.
 *
 * <pre>
 *   setup:   10 000 x begin(GET http://shop.example/products/i, 200, Cache-Control: max-age=3600) / write / commit
 *   lookup(http://shop.example/products/&lt;random i&gt;)   -&gt; entry        (hit)
 *   lookup(http://shop.example/missing/&lt;random i&gt;)    -&gt; null         (miss)
 *   reuse(entry.freshness(), request headers, now)     -&gt; FRESH
 * </pre>
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CacheLookupBench {
    static final int ENTRIES = 10_000;
    private static final int BODY = 1024;
    /** Commits in flight at once while filling; keeps the writers well under the store's pending-bytes cap. */
    private static final int BATCH = 500;

    private Path dir;
    private CacheStore store;
    private CacheKey[] hits;
    private CacheKey[] misses;
    private HttpHeaders request;
    private HttpHeaders requestWithMaxAge;
    private CacheEntry entry;
    private long now;

    /** Each benchmark thread walks its own pseudo-random sequence of key indexes. */
    @State(Scope.Thread)
    public static class Cursor {
        private final int[] order = new int[1 << 14];
        private int i;

        @Setup
        public void setup() {
            SplittableRandom random = new SplittableRandom(Thread.currentThread().getId());
            for (int k = 0; k < order.length; k++) {
                order[k] = random.nextInt(ENTRIES);
            }
        }

        int next() {
            i = (i + 1) & (order.length - 1);
            return order[i];
        }
    }

    @Setup(Level.Trial)
    public void fill() throws Exception {
        dir = Files.createTempDirectory("pibl-bench-cache");
        CacheConfig cfg = CacheConfig.defaults().withDirectory(dir).withTtl(Duration.ofHours(1));
        store = new DiskCacheStore(cfg, Clock.systemUTC());
        request = requestHeaders();
        requestWithMaxAge = requestHeaders().set(HttpHeaderNames.CACHE_CONTROL, "max-age=600");
        hits = new CacheKey[ENTRIES];
        misses = new CacheKey[ENTRIES];
        ByteBuf body = Unpooled.wrappedBuffer(new byte[BODY]);
        List<CompletableFuture<CacheEntry>> commits = new ArrayList<>(BATCH);
        for (int i = 0; i < ENTRIES; i++) {
            hits[i] = CacheKey.of("http", "shop.example", "/products/" + i);
            misses[i] = CacheKey.of("http", "shop.example", "/missing/" + i);
            long t = System.currentTimeMillis();
            CacheWriter w = store.begin(hits[i], request, 200, "OK", responseHeaders(), t, t);
            if (w == null) {
                throw new IllegalStateException("the store refused entry " + i);
            }
            w.write(body.duplicate());
            commits.add(w.commit());
            if (commits.size() == BATCH || i == ENTRIES - 1) {
                for (CompletableFuture<CacheEntry> c : commits) {
                    if (c.get(30, TimeUnit.SECONDS) == null) {
                        throw new IllegalStateException("a commit stored nothing (disk full?) in " + dir);
                    }
                }
                commits.clear();
            }
        }
        body.release();
        if (store.entryCount() != ENTRIES) {
            throw new IllegalStateException("expected " + ENTRIES + " entries, the store has " + store.entryCount());
        }
        entry = store.lookup(hits[ENTRIES / 2], request).join();
        now = System.currentTimeMillis();
        if (CachePolicy.reuse(entry.freshness(), request, now) != CachePolicy.Reuse.FRESH) {
            throw new IllegalStateException("a just-stored entry must be fresh");
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        store.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static HttpHeaders requestHeaders() {
        return new DefaultHttpHeaders()
                .add(HttpHeaderNames.HOST, "shop.example")
                .add(HttpHeaderNames.USER_AGENT, "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
                .add(HttpHeaderNames.ACCEPT, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
                .add(HttpHeaderNames.ACCEPT_ENCODING, "gzip, deflate, br");
    }

    private static HttpHeaders responseHeaders() {
        return new DefaultHttpHeaders()
                .add(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream")
                .add(HttpHeaderNames.CONTENT_LENGTH, BODY)
                .add(HttpHeaderNames.CACHE_CONTROL, "max-age=3600")
                .add(HttpHeaderNames.ETAG, "\"5f3c-400\"")
                .add("X-Backend", "b1");
    }

    @Benchmark
    public CacheEntry lookupHit(Cursor c) {
        return store.lookup(hits[c.next()], request).join();
    }

    @Benchmark
    public CacheEntry lookupMiss(Cursor c) {
        return store.lookup(misses[c.next()], request).join();
    }

    /** A client without {@code Cache-Control}: the common case. */
    @Benchmark
    public CachePolicy.Reuse reuse() {
        return CachePolicy.reuse(entry.freshness(), request, now);
    }

    /** {@code Cache-Control: max-age=600} from the client: parsed and checked against the entry's age. */
    @Benchmark
    public CachePolicy.Reuse reuseClientMaxAge() {
        return CachePolicy.reuse(entry.freshness(), requestWithMaxAge, now);
    }

    /** What a hit costs the cache handler before serving: lookup, then the reuse decision at the current time. */
    @Benchmark
    public CachePolicy.Reuse lookupHitAndReuse(Cursor c) {
        CacheEntry e = store.lookup(hits[c.next()], request).join();
        return CachePolicy.reuse(e.freshness(), request, System.currentTimeMillis());
    }
}
