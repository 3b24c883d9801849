package pibl.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.testing.ChildProcess;
import pibl.testing.Closer;
import pibl.testing.NoLeaks;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;

import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.TestHeaders.h;

/**
 * The disk cache at scale, in a child JVM with the production flags and a 128 MiB heap: a directory of 200,000
 * small entries written through the store does not keep PIBL from listening, what was written last is a HIT before
 * the index is rebuilt, a corrupt body is never served, and 200,000 more unique URLs fill the cache without
 * running the heap out (the index holds ~31 bytes per entry; before, every entry's headers were on the heap and
 * ~40,000 of them were enough to kill the process).
 */
@ExtendWith(NoLeaks.class)
class CacheAtScaleIT {
    private static final int STORED = 200_000;
    private static final int FILLED = 200_000;
    /** The README's production flags; max-size is raised so that 400,000 one-block entries all stay. */
    private static final List<String> PRODUCTION_FLAGS = List.of("-Xms128m", "-Xmx128m", "-XX:+UseParallelGC",
            "-XX:+ExitOnOutOfMemoryError", "-Dio.netty.leakDetection.level=disabled", "-Dpibl.test.maxSize=" + (4L << 30));
    private static final String BODY = "x".repeat(128);

    private final Closer closer = new Closer();
    private Path dir;

    /**
     * On tmpfs when the machine has one (/dev/shm): the point here is memory and start-up, not the disk, and
     * creating and deleting 400,000 files on a virtual disk with online discard takes minutes that a test run
     * should not spend. The files are real all the same.
     */
    @BeforeEach
    void makeDirectory(@TempDir Path fallback) throws Exception {
        Path shm = Path.of("/dev/shm");
        dir = Files.isDirectory(shm) && Files.isWritable(shm) && Files.getFileStore(shm).getUsableSpace() > (4L << 30)
                ? Files.createTempDirectory(shm, "pibl-scale-") : fallback;
    }

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
        if (dir.startsWith("/dev/shm")) {
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** 200,000 entries as PIBL stores them, through the store, many commits in flight. */
    private void storeEntries(Path cacheDir) throws Exception {
        try (DiskCacheStore store = StoreFixture.opened(StoreFixture.config(cacheDir, 1L << 30, 1 << 20, 0),
                Clock.systemUTC())) {
            ArrayDeque<CompletableFuture<CacheEntry>> inFlight = new ArrayDeque<>();
            for (int i = 0; i < STORED; i++) {
                long now = System.currentTimeMillis();
                CacheWriter w = store.begin(CacheKey.of("http", "test.local", "/stored/" + i), h(), 200, "OK",
                        CachePolicy.storedHeaders(h("Cache-Control: max-age=86400", "Content-Type: text/plain",
                                "Content-Length: 128"), now), now, now);
                StoreFixture.writeChunks(w, BODY.getBytes(StandardCharsets.US_ASCII), 128);
                inFlight.add(w.commit());
                while (inFlight.size() > 512) {
                    assertThat(inFlight.poll().get(30, TimeUnit.SECONDS)).isNotNull();
                }
            }
            for (CompletableFuture<CacheEntry> c : inFlight) {
                assertThat(c.get(30, TimeUnit.SECONDS)).isNotNull();
            }
            assertThat(store.entryCount()).isEqualTo(STORED);
        }
    }

    @Test
    void aCacheOfManySmallObjectsStartsAtOnceServesAtOnceAndFillsInBoundedMemory() throws Exception {
        Path cacheDir = dir.resolve("cache");
        storeEntries(cacheDir);
        CacheKey truncated = CacheKey.of("http", "test.local", "/stored/17");
        try (RandomAccessFile f = new RandomAccessFile(EntryFile.path(cacheDir, truncated.digest()).toFile(), "rw")) {
            f.setLength(f.length() - 1);
        }
        CacheKey corrupt = CacheKey.of("http", "test.local", "/stored/" + (STORED - 2));
        try (RandomAccessFile f = new RandomAccessFile(EntryFile.path(cacheDir, corrupt.digest()).toFile(), "rw")) {
            f.seek(f.length() - 5);
            f.write('!'); // the size is right: only the body's checksum can tell
        }

        TestBackend origin = closer.track(TestBackend.startCounting("origin")).behave((ctx, req, b) -> {
            req.release();
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer("origin " + BODY, StandardCharsets.US_ASCII));
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes())
                    .set(HttpHeaderNames.CACHE_CONTROL, "max-age=86400");
            ctx.writeAndFlush(r);
        });
        ChildProcess pibl = closer.track(ChildProcess.startJava(PRODUCTION_FLAGS, "pibl.testing.ProxyMain",
                List.of("--admin", "--cache", cacheDir.toString(), origin.address())));
        System.out.printf("CacheAtScaleIT: listening %d ms after launch over %d stored entries%n",
                pibl.listenedAfterMillis(), STORED);

        try (RawHttp http = new RawHttp(pibl.port())) {
            RawHttp.Response last = http.get("/stored/" + (STORED - 1));
            JsonNode index = status(pibl).get("cache").get("index");
            assertThat(last.header("X-Cache")).as("the entry written last, found at its own path").isEqualTo("HIT");
            assertThat(last.bodyText()).isEqualTo(BODY);
            assertThat(index.get("loading").asBoolean())
                    .as("served while the index was still being rebuilt: %s", index).isTrue();

            RawHttp.Response cut = http.get("/stored/17");
            assertThat(cut.header("X-Cache")).as("a truncated file is never served").isEqualTo("MISS");
            assertThat(cut.bodyText()).isEqualTo("origin " + BODY);
            RawHttp.Response flipped = http.get("/stored/" + (STORED - 2));
            assertThat(flipped.header("X-Cache")).as("a body that fails its checksum on first read is not served")
                    .isEqualTo("MISS");
            assertThat(flipped.bodyText()).isEqualTo("origin " + BODY);
            assertThat(http.get("/stored/" + (STORED / 2)).header("X-Cache")).isEqualTo("HIT");
        }

        fill(pibl.port());
        assertThat(pibl.isAlive()).as("no OutOfMemoryError: the heap held %d entries", STORED + FILLED).isTrue();
        assertThat(origin.requestCount()).as("every filled URL went to the backend once")
                .isEqualTo(FILLED + 2);
        JsonNode cache = status(pibl).get("cache");
        assertThat(cache.get("index").get("loading").asBoolean()).isFalse();
        assertThat(cache.get("entries").asLong()).as("every stored and filled entry is indexed: %s", cache)
                .isEqualTo(STORED + FILLED);
        try (RawHttp http = new RawHttp(pibl.port())) {
            assertThat(http.get("/filled/0-7").header("X-Cache")).isEqualTo("HIT");
            assertThat(http.get("/stored/3").header("X-Cache")).isEqualTo("HIT");
        }
    }

    /** 200,000 unique URLs, from eight keep-alive connections. */
    private static void fill(int port) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> misses = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                int client = c;
                misses.add(clients.submit(() -> {
                    int n = 0;
                    try (RawHttp http = new RawHttp(port)) {
                        for (int i = 0; i < FILLED / 8; i++) {
                            RawHttp.Response r = http.get("/filled/" + client + "-" + i);
                            assertThat(r.status()).isEqualTo(200);
                            n += "MISS".equals(r.header("X-Cache")) ? 1 : 0;
                        }
                    }
                    return n;
                }));
            }
            int total = 0;
            for (Future<Integer> f : misses) {
                total += f.get(10, TimeUnit.MINUTES);
            }
            assertThat(total).isEqualTo(FILLED);
        } finally {
            clients.shutdownNow();
        }
    }

    private static JsonNode status(ChildProcess pibl) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + pibl.adminPort() + "/status")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new ObjectMapper().readTree(r.body());
    }
}
