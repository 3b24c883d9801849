package pibl.handler;

import org.junit.jupiter.api.extension.ExtendWith;
import pibl.testing.NoLeaks;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pibl.cache.CacheStatus;
import pibl.server.ProxyServer;
import pibl.testing.Closer;
import pibl.testing.ChildProcess;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;
import pibl.testing.TestClock;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The disk cache in the pipeline, over real sockets and real files. */
@ExtendWith(NoLeaks.class)
class CacheIT {
    @TempDir
    Path dir;

    private final Closer closer = new Closer();
    private final TestClock clock = new TestClock();
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
    }

    private <T extends AutoCloseable> T track(T c) {
        return closer.track(c);
    }

    /** An origin whose paths say how to cache them; each body names the path and its request count. */
    private TestBackend origin() throws InterruptedException {
        TestBackend b = track(TestBackend.start("origin"));
        b.behave((ctx, req, backend) -> {
            String path = req.uri();
            String inm = req.headers().get(HttpHeaderNames.IF_NONE_MATCH);
            String lang = req.headers().get("Accept-Language", "-");
            req.release();
            int n = hits.computeIfAbsent(path.replaceAll("\\?.*", ""), k -> new AtomicInteger()).incrementAndGet();
            if (path.startsWith("/delay")) {
                ctx.executor().schedule(() -> ctx.writeAndFlush(respond(backend, "/max-age/60", n, null, lang)),
                        300, TimeUnit.MILLISECONDS);
                return;
            }
            ctx.writeAndFlush(respond(backend, path, n, inm, lang));
        });
        return b;
    }

    private static FullHttpResponse respond(TestBackend backend, String path, int n, String inm, String lang) {
        if (path.startsWith("/etag") && "\"e1\"".equals(inm)) {
            FullHttpResponse r = backend.named(HttpResponseStatus.NOT_MODIFIED, "");
            r.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
            r.headers().set(HttpHeaderNames.ETAG, "\"e1\"").set(HttpHeaderNames.CACHE_CONTROL, "max-age=0")
                    .set("X-Refreshed", "yes");
            return r;
        }
        FullHttpResponse r = backend.named(HttpResponseStatus.OK, path + " #" + n);
        var h = r.headers();
        if (path.startsWith("/tagged/")) { // /tagged/TAG/...: Surrogate-Key TAG all, Cache-Tag ct-TAG
            String tag = path.split("/")[2];
            h.set(HttpHeaderNames.CACHE_CONTROL, "max-age=600").set("Surrogate-Key", tag + " all")
                    .set("Cache-Tag", "ct-" + tag);
        } else if (path.startsWith("/max-age/")) {
            h.set(HttpHeaderNames.CACHE_CONTROL, "max-age=" + path.substring(9).replaceAll("\\?.*", ""));
        } else if (path.startsWith("/no-store")) {
            h.set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        } else if (path.startsWith("/private")) {
            h.set(HttpHeaderNames.CACHE_CONTROL, "private, max-age=60");
        } else if (path.startsWith("/cookie")) {
            h.set(HttpHeaderNames.CACHE_CONTROL, "max-age=60").set(HttpHeaderNames.SET_COOKIE, "s=1");
        } else if (path.startsWith("/vary-star")) {
            h.set(HttpHeaderNames.CACHE_CONTROL, "max-age=60").set(HttpHeaderNames.VARY, "*");
        } else if (path.startsWith("/vary")) {
            h.set(HttpHeaderNames.CACHE_CONTROL, "max-age=60").set(HttpHeaderNames.VARY, "Accept-Language");
            r.content().writeBytes((" lang=" + lang).getBytes());
            h.set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        } else if (path.startsWith("/etag")) {
            h.set(HttpHeaderNames.CACHE_CONTROL, "max-age=0").set(HttpHeaderNames.ETAG, "\"e1\"");
        } else if (path.startsWith("/public")) {
            h.set(HttpHeaderNames.CACHE_CONTROL, "public, max-age=60");
        } else if (path.startsWith("/status500")) {
            r.setStatus(HttpResponseStatus.INTERNAL_SERVER_ERROR);
        } else if (path.startsWith("/moved")) {
            r.setStatus(HttpResponseStatus.CREATED);
            h.set(HttpHeaderNames.LOCATION, "/max-age/600");
        }
        return r;
    }

    private int count(String path) {
        AtomicInteger n = hits.get(path);
        return n == null ? 0 : n.get();
    }

    private ProxyServer proxy(TestBackend origin, Duration ttl) throws Exception {
        return track(new ProxyServer(ProxyFixture.withCache(ProxyFixture.config(List.of(origin.address())), dir, ttl),
                clock).start());
    }

    private static void awaitEntries(ProxyServer proxy, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (proxy.cache().store().entryCount() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(proxy.cache().store().entryCount()).as("entries committed to disk").isGreaterThanOrEqualTo(n);
    }

    @Test
    void missThenHitWithoutContactingTheBackend() throws Exception {
        ProxyServer proxy = proxy(origin(), Duration.ofSeconds(60));
        try (RawHttp http = new RawHttp(proxy.port())) {
            RawHttp.Response first = http.get("/max-age/60?x=1");
            assertThat(first.header("X-Cache")).isEqualTo("MISS");
            awaitEntries(proxy, 1);
            clock.advance(Duration.ofSeconds(7));
            RawHttp.Response second = http.get("/max-age/60?x=1");
            assertThat(second.header("X-Cache")).isEqualTo("HIT");
            assertThat(second.bodyText()).isEqualTo(first.bodyText());
            assertThat(second.header("Age")).as("RFC 9111 4.2.3 current age").isEqualTo("7");
            assertThat(http.get("/max-age/60?x=2").header("X-Cache")).as("the query is part of the key").isEqualTo("MISS");
            RawHttp.Response head = http.send("HEAD /max-age/60?x=1 HTTP/1.1\r\nHost: test.local\r\n\r\n").read(true);
            assertThat(head.header("X-Cache")).as("HEAD is answered from the stored GET").isEqualTo("HIT");
            assertThat(head.header("Content-Length")).isEqualTo(String.valueOf(first.body().length));
        }
        assertThat(count("/max-age/60")).isEqualTo(2);
        assertThat(proxy.cache().stats().count(CacheStatus.HIT)).isEqualTo(2);
    }

    @Test
    void theLaunchTtlAppliesWithoutExplicitFreshnessAndExpiresByTheClock() throws Exception {
        ProxyServer proxy = proxy(origin(), Duration.ofSeconds(30));
        try (RawHttp http = new RawHttp(proxy.port())) {
            assertThat(http.get("/none").header("X-Cache")).isEqualTo("MISS");
            awaitEntries(proxy, 1);
            clock.advance(Duration.ofSeconds(29));
            assertThat(http.get("/none").header("X-Cache")).isEqualTo("HIT");
            clock.advance(Duration.ofSeconds(2));
            RawHttp.Response expired = http.get("/none");
            assertThat(expired.header("X-Cache")).as("an expired entry is never served as fresh").isEqualTo("MISS");
            assertThat(expired.bodyText()).isEqualTo("/none #2");
            // The origin's own max-age wins over the TTL in the default mode.
            http.get("/max-age/5");
            awaitEntries(proxy, 2);
            clock.advance(Duration.ofSeconds(6));
            assertThat(http.get("/max-age/5").header("X-Cache")).isEqualTo("MISS");
        }
    }

    @Test
    void overrideModeAppliesTheTtlOverTheOriginsMaxAge() throws Exception {
        TestBackend o = origin();
        var cfg = ProxyFixture.withCache(ProxyFixture.config(List.of(o.address())), dir, Duration.ofSeconds(100));
        cfg = cfg.withCache(new pibl.config.CacheConfig(true, dir, Duration.ofSeconds(100),
                pibl.config.CacheConfig.TtlMode.OVERRIDE, 1L << 30, 1L << 20, 1L << 20, false, Duration.ZERO));
        ProxyServer proxy = track(new ProxyServer(cfg, clock).start());
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.get("/max-age/5");
            awaitEntries(proxy, 1);
            clock.advance(Duration.ofSeconds(50));
            assertThat(http.get("/max-age/5").header("X-Cache")).as("override: the TTL, not max-age=5").isEqualTo("HIT");
        }
    }

    @Test
    void responsesThatMustNotBeStoredAreNot() throws Exception {
        ProxyServer proxy = proxy(origin(), Duration.ofSeconds(60));
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (String path : List.of("/no-store", "/private", "/cookie", "/vary-star", "/status500")) {
                http.get(path);
                RawHttp.Response again = http.get(path);
                assertThat(again.header("X-Cache")).as(path).isEqualTo("MISS");
                assertThat(count(path)).as(path + " must reach the backend every time").isEqualTo(2);
            }
            http.get("/max-age/60?auth", "Authorization: Basic YTpi");
            assertThat(http.get("/max-age/60?auth", "Authorization: Basic YTpi").header("X-Cache"))
                    .as("a response to an authorized request without public/s-maxage").isEqualTo("MISS");
            http.get("/public?auth", "Authorization: Basic YTpi");
            awaitEntries(proxy, 1);
            assertThat(http.get("/public?auth", "Authorization: Basic YTpi").header("X-Cache"))
                    .as("public allows storing it").isEqualTo("HIT");
            RawHttp.Response noStore = http.get("/max-age/60?rq", "Cache-Control: no-store");
            assertThat(noStore.header("X-Cache")).isEqualTo("MISS");
            assertThat(http.get("/max-age/60?rq").header("X-Cache")).as("request no-store").isEqualTo("MISS");
        }
    }

    @Test
    void varyVariantsAreStoredAndServedSeparately() throws Exception {
        ProxyServer proxy = proxy(origin(), Duration.ofSeconds(60));
        try (RawHttp http = new RawHttp(proxy.port())) {
            assertThat(http.get("/vary", "Accept-Language: es").bodyText()).endsWith("lang=es");
            assertThat(http.get("/vary", "Accept-Language: en").bodyText()).endsWith("lang=en");
            awaitEntries(proxy, 2);
            RawHttp.Response es = http.get("/vary", "Accept-Language: es");
            RawHttp.Response en = http.get("/vary", "Accept-Language: en");
            assertThat(es.header("X-Cache")).isEqualTo("HIT");
            assertThat(en.header("X-Cache")).isEqualTo("HIT");
            assertThat(es.bodyText()).endsWith("lang=es");
            assertThat(en.bodyText()).endsWith("lang=en");
        }
        assertThat(count("/vary")).isEqualTo(2);
    }

    @Test
    void conditionalRequestsAndRevalidation() throws Exception {
        ProxyServer proxy = proxy(origin(), Duration.ofSeconds(60));
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.get("/max-age/60?c");
            awaitEntries(proxy, 1);
            RawHttp.Response hit = http.get("/max-age/60?c");
            String etagless = hit.header("Date");
            assertThat(etagless).as("a stored response without Date gets one: " + hit.headers()).isNotNull();
            RawHttp.Response notModified = http.get("/max-age/60?c", "If-Modified-Since: " + etagless);
            assertThat(notModified.status()).as("a client's conditional is answered from a fresh entry").isEqualTo(304);
            assertThat(notModified.header("X-Cache")).isEqualTo("HIT");

            RawHttp.Response first = http.get("/etag");
            assertThat(first.header("X-Cache")).isEqualTo("MISS");
            awaitEntries(proxy, 2);
            RawHttp.Response revalidated = http.get("/etag");
            assertThat(revalidated.header("X-Cache")).isEqualTo("REVALIDATED");
            assertThat(revalidated.bodyText()).as("the stored body, not re-sent by the backend").isEqualTo("/etag #1");
            assertThat(revalidated.header("X-Refreshed")).as("headers updated from the 304").isEqualTo("yes");
            RawHttp.Response clientConditional = http.get("/etag", "If-None-Match: \"e1\"");
            assertThat(clientConditional.status()).isEqualTo(304);
            assertThat(clientConditional.header("X-Cache")).isEqualTo("REVALIDATED");
        }
        assertThat(count("/etag")).isEqualTo(3);
    }

    @Test
    void unsafeMethodsInvalidateTheUriAndItsLocation() throws Exception {
        ProxyServer proxy = proxy(origin(), Duration.ofSeconds(60));
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.get("/max-age/60");
            http.get("/max-age/600");
            awaitEntries(proxy, 2);
            assertThat(http.get("/max-age/60").header("X-Cache")).isEqualTo("HIT");
            http.send("POST /max-age/60 HTTP/1.1\r\nHost: test.local\r\nContent-Length: 2\r\n\r\nhi");
            RawHttp.Response post = http.read(false);
            assertThat(post.header("X-Cache")).isEqualTo("BYPASS");
            assertThat(http.get("/max-age/60").header("X-Cache")).as("invalidated by the POST").isEqualTo("MISS");
            http.send("PUT /moved HTTP/1.1\r\nHost: test.local\r\nContent-Length: 0\r\n\r\n");
            assertThat(http.read(false).status()).isEqualTo(201);
            assertThat(http.get("/max-age/600").header("X-Cache")).as("invalidated through Location").isEqualTo("MISS");
            http.send("PURGE /max-age/600 HTTP/1.1\r\nHost: test.local\r\n\r\n");
            assertThat(http.read(false).status()).isEqualTo(200);
        }
    }

    @Test
    void aPurgeByPrefixOrByTagTakesWhatItNamesAndSaysHowMany() throws Exception {
        ProxyServer proxy = proxy(origin(), Duration.ofSeconds(60));
        try (RawHttp http = new RawHttp(proxy.port())) {
            RawHttp.Response first = http.get("/tagged/a/1");
            assertThat(first.header("Surrogate-Key")).as("purge tags are PIBL's: not sent on").isNull();
            assertThat(first.header("Cache-Tag")).isNull();
            http.get("/tagged/a/2");
            http.get("/tagged/b/1");
            http.get("/max-age/600");
            awaitEntries(proxy, 4);
            assertThat(http.get("/tagged/a/1").header("Surrogate-Key")).as("nor from storage").isNull();

            http.send("PURGE / HTTP/1.1\r\nHost: test.local\r\nSurrogate-Key: a\r\n\r\n");
            RawHttp.Response byTag = http.read(false);
            assertThat(byTag.status()).isEqualTo(200);
            assertThat(byTag.bodyText()).contains("purged 2 entries by tags a");
            assertThat(http.get("/tagged/a/1").header("X-Cache")).isEqualTo("MISS");
            assertThat(http.get("/tagged/b/1").header("X-Cache")).isEqualTo("HIT");

            http.send("PURGE / HTTP/1.1\r\nHost: test.local\r\nCache-Tag: ct-b\r\n\r\n");
            assertThat(http.read(false).bodyText()).as("a Cache-Tag names tags too").contains("purged 1 entries");
            awaitEntries(proxy, 2);

            http.send("PURGE /tagged/* HTTP/1.1\r\nHost: test.local\r\n\r\n");
            RawHttp.Response byPrefix = http.read(false);
            assertThat(byPrefix.bodyText()).contains("purged 1 entries by prefix test.local/tagged/");
            assertThat(http.get("/max-age/600").header("X-Cache")).as("outside the prefix").isEqualTo("HIT");
        }
    }

    @Test
    void concurrentColdMissesMakeOneBackendRequest() throws Exception {
        TestBackend o = origin();
        ProxyServer proxy = proxy(o, Duration.ofSeconds(60));
        int clients = 100;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<String>> bodies = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                bodies.add(pool.submit(() -> {
                    try (RawHttp http = new RawHttp(proxy.port())) {
                        go.await();
                        return http.get("/delay").bodyText();
                    }
                }));
            }
            go.countDown();
            for (Future<String> f : bodies) {
                assertThat(f.get(20, TimeUnit.SECONDS)).isEqualTo("/max-age/60 #1");
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(count("/delay")).as("collapsed forwarding: one backend request for 100 clients").isEqualTo(1);
    }

    @Test
    void uncacheableKeysDoNotQueueBehindEachOther() throws Exception {
        TestBackend o = origin();
        o.behave((ctx, req, b) -> {
            req.release();
            FullHttpResponse r = b.named(HttpResponseStatus.OK, "x");
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            ctx.executor().schedule(() -> ctx.writeAndFlush(r), 400, TimeUnit.MILLISECONDS);
        });
        ProxyServer proxy = proxy(o, Duration.ofSeconds(60));
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.get("/slow-no-store"); // learns: not storable
        }
        ExecutorService pool = Executors.newFixedThreadPool(10);
        try {
            long start = System.nanoTime();
            List<Future<Integer>> all = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                all.add(pool.submit(() -> {
                    try (RawHttp http = new RawHttp(proxy.port())) {
                        return http.get("/slow-no-store").status();
                    }
                }));
            }
            for (Future<Integer> f : all) {
                assertThat(f.get(20, TimeUnit.SECONDS)).isEqualTo(200);
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(ms).as("hit-for-miss: ten 400 ms requests run side by side, not one after another")
                    .isLessThan(2500);
        } finally {
            pool.shutdownNow();
        }
        assertThat(o.requestCount()).isEqualTo(11);
    }

    @Test
    void staleEntryIsServedWhenEveryBackendFailsIfAllowed() throws Exception {
        TestBackend o = origin();
        o.behave((ctx, req, b) -> {
            req.release();
            FullHttpResponse r = b.named(HttpResponseStatus.OK, "kept");
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "max-age=10, stale-if-error=600");
            ctx.writeAndFlush(r);
        });
        ProxyServer proxy = proxy(o, Duration.ofSeconds(60));
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.get("/sie");
            awaitEntries(proxy, 1);
        }
        o.close();
        clock.advance(Duration.ofSeconds(60));
        try (RawHttp http = new RawHttp(proxy.port())) {
            RawHttp.Response r = http.get("/sie");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Cache")).isEqualTo("STALE");
            assertThat(r.bodyText()).isEqualTo("kept");
        }
    }

    @Test
    void traversalTargetsTouchNothingOutsideTheCacheDirectory() throws Exception {
        Path cacheDir = dir.resolve("cache");
        TestBackend o = track(TestBackend.start("o"));
        o.behave((ctx, req, b) -> {
            req.release();
            FullHttpResponse r = b.named(HttpResponseStatus.OK, "t");
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "max-age=60");
            ctx.writeAndFlush(r);
        });
        ProxyServer proxy = track(new ProxyServer(ProxyFixture.withCache(ProxyFixture.config(List.of(o.address())),
                cacheDir, Duration.ofSeconds(60)), clock).start());
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (String t : List.of("/../../etc/passwd", "/%2e%2e/%2e%2e/x", "/..%2f..%2fescape", "/a/../../../b")) {
                assertThat(http.get(t).status()).isEqualTo(200);
            }
            awaitEntries(proxy, 4);
        }
        try (Stream<Path> all = Files.walk(dir)) {
            assertThat(all.filter(Files::isRegularFile))
                    .as("every file written lies inside the cache directory")
                    .allMatch(p -> p.startsWith(cacheDir));
        }
    }

    @Test
    void anUnwritableCacheDirectoryStillServesResponses() throws Exception {
        Path blocker = dir.resolve("not-a-dir");
        Files.writeString(blocker, "a file where the cache directory should be");
        TestBackend o = origin();
        ProxyServer proxy = track(new ProxyServer(ProxyFixture.withCache(ProxyFixture.config(List.of(o.address())),
                blocker.resolve("cache"), Duration.ofSeconds(60)), clock).start());
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (int i = 0; i < 3; i++) {
                RawHttp.Response r = http.get("/max-age/60");
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.bodyText()).startsWith("/max-age/60 #");
            }
        }
    }

    @Test
    void entriesSurviveAKill9AndAreServedWithEveryBackendDown() throws Exception {
        TestBackend o = origin();
        Path cacheDir = dir.resolve("persist");
        String body;
        try (ChildProcess first = ChildProcess.startJava(List.of("-Xmx128m"), "pibl.testing.ProxyMain",
                List.of("--cache", cacheDir.toString(), o.address()))) {
            try (RawHttp http = new RawHttp(first.port())) {
                RawHttp.Response r = http.get("/max-age/3600");
                assertThat(r.header("X-Cache")).isEqualTo("MISS");
                body = r.bodyText();
                // The miss lock holds a second request until the first's entry is committed (its file complete
                // and indexed): a HIT here means the file is whole on disk before the kill.
                assertThat(http.get("/max-age/3600").header("X-Cache")).isEqualTo("HIT");
            }
            assertThat(hasEntryFile(cacheDir)).isTrue();
            first.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS); // kill -9
        }
        String deadBackend = o.address();
        o.close();
        try (ChildProcess second = ChildProcess.startJava(List.of("-Xmx128m"), "pibl.testing.ProxyMain",
                List.of("--cache", cacheDir.toString(), deadBackend));
             RawHttp http = new RawHttp(second.port())) {
            RawHttp.Response r = http.get("/max-age/3600");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Cache")).isEqualTo("HIT");
            assertThat(r.bodyText()).isEqualTo(body);
        }
    }

    private static boolean hasEntryFile(Path cacheDir) throws java.io.IOException {
        if (!Files.isDirectory(cacheDir)) {
            return false;
        }
        try (Stream<Path> s = Files.walk(cacheDir)) {
            return s.anyMatch(p -> Files.isRegularFile(p) && !p.toString().endsWith(".tmp")
                    && !cacheDir.relativize(p).startsWith("tmp"));
        }
    }

    @Test
    void clearCacheOnStartEmptiesTheDirectory() throws Exception {
        TestBackend o = origin();
        var config = ProxyFixture.withCache(ProxyFixture.config(List.of(o.address())), dir, Duration.ofSeconds(60));
        try (ProxyServer first = new ProxyServer(config, clock).start(); RawHttp http = new RawHttp(first.port())) {
            http.get("/max-age/600");
            awaitEntries(first, 1);
        }
        try (ProxyServer kept = new ProxyServer(config, clock).start(); RawHttp http = new RawHttp(kept.port())) {
            assertThat(http.get("/max-age/600").header("X-Cache")).as("a restart keeps the cache").isEqualTo("HIT");
        }
        try (ProxyServer cleared = new ProxyServer(config, clock).clearCacheOnStart().start();
             RawHttp http = new RawHttp(cleared.port())) {
            assertThat(cleared.cache().store().entryCount()).isZero();
            assertThat(http.get("/max-age/600").header("X-Cache")).as("--clear-cache").isEqualTo("MISS");
        }
    }
}
