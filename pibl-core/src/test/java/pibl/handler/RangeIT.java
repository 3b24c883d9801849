package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.cache.CacheEntry;
import pibl.cache.CacheKey;
import pibl.config.CacheConfig;
import pibl.config.PiblConfig;
import pibl.server.ProxyServer;
import pibl.testing.Closer;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.StreamingResponder;
import pibl.testing.TestBackend;
import pibl.testing.TestClock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Range requests (RFC 9110 14) through the cache, over real sockets and real files: parts of stored bodies from
 * the memory tier and from their files, a ranged miss answered from the stream while the whole is stored, and the
 * Range passed through for a key too large to store.
 */
@ExtendWith(NoLeaks.class)
class RangeIT {
    /** Strong: long before the Date PIBL gives the stored response (the origin sends none). */
    private static final String LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT";

    @TempDir
    Path dir;

    private final Closer closer = new Closer();
    private final TestClock clock = new TestClock();
    private TestBackend origin;

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
    }

    /**
     * {@code /any?size=N}: N bytes of {@link StreamingResponder}'s pattern, {@code ETag: "v1"}, max-age=60.
     * {@code &delay} answers after 300 ms, {@code &chunked} without a Content-Length, and {@code &honour} answers a
     * Range itself with a 206 (and {@code X-Origin-Range}), as an origin that supports ranges would.
     */
    private void answer(ChannelHandlerContext ctx, FullHttpRequest req, TestBackend backend) {
        QueryStringDecoder q = new QueryStringDecoder(req.uri());
        int size = Integer.parseInt(q.parameters().get("size").get(0));
        String range = req.headers().get(HttpHeaderNames.RANGE);
        req.release();
        int from = 0;
        int to = size;
        HttpResponseStatus status = HttpResponseStatus.OK;
        HttpHeaders h = new DefaultHttpHeaders();
        if (q.parameters().containsKey("honour") && range != null) { // only the simple form, enough for a test
            String[] fl = range.substring("bytes=".length()).split("-");
            from = Integer.parseInt(fl[0]);
            to = Integer.parseInt(fl[1]) + 1;
            status = HttpResponseStatus.PARTIAL_CONTENT;
            h.set(HttpHeaderNames.CONTENT_RANGE, "bytes " + from + "-" + (to - 1) + "/" + size);
            h.set("X-Origin-Range", "yes");
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(pattern(from, to)), h, new DefaultHttpHeaders());
        h.set(HttpHeaderNames.CACHE_CONTROL, "max-age=60").set(HttpHeaderNames.ETAG, "\"v1\"")
                .set(HttpHeaderNames.LAST_MODIFIED, LAST_MODIFIED)
                .set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
        if (q.parameters().containsKey("chunked")) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        } else {
            h.set(HttpHeaderNames.CONTENT_LENGTH, to - from);
        }
        if (q.parameters().containsKey("delay")) {
            ctx.executor().schedule(() -> ctx.writeAndFlush(r), 300, TimeUnit.MILLISECONDS);
        } else {
            ctx.writeAndFlush(r);
        }
    }

    private static byte[] pattern(long from, long to) {
        byte[] b = new byte[(int) (to - from)];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) StreamingResponder.expectedByte(from + i);
        }
        return b;
    }

    private ProxyServer proxy(long maxObjectSize) throws Exception {
        origin = closer.track(TestBackend.start("origin")).behave(this::answer);
        PiblConfig cfg = ProxyFixture.config(List.of(origin.address())).withCache(new CacheConfig(true, dir,
                Duration.ofSeconds(60), CacheConfig.TtlMode.DEFAULT, 1L << 30, maxObjectSize, 16L << 20, false,
                Duration.ZERO));
        return closer.track(new ProxyServer(cfg, clock).start());
    }

    /** Waits for the entry of {@code path} and says where its body is: in the memory tier or only in its file. */
    private static boolean storedInMemory(ProxyServer proxy, String path) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        CacheKey key = CacheKey.of("http", "test.local", path);
        CacheEntry e = null;
        while (e == null && System.nanoTime() < deadline) {
            e = proxy.cache().store().lookup(key, new DefaultHttpHeaders()).get(5, TimeUnit.SECONDS);
            if (e == null) {
                Thread.sleep(10);
            }
        }
        assertThat(e).as(path + " stored").isNotNull();
        ByteBuf memory = e.retainedMemoryBody();
        if (memory != null) {
            memory.release();
        }
        return memory != null;
    }

    private static void assertPart(RawHttp.Response r, long first, long last, long length, String cache) {
        assertThat(r.status()).as("206 for a satisfiable range: " + r.headers()).isEqualTo(206);
        assertThat(r.header("Content-Range")).isEqualTo("bytes " + first + "-" + last + "/" + length);
        assertThat(r.header("Content-Length")).isEqualTo(String.valueOf(last - first + 1));
        assertThat(r.body()).as("the bytes of the range, no others").isEqualTo(pattern(first, last + 1));
        assertThat(r.header("X-Cache")).isEqualTo(cache);
        assertThat(r.header("ETag")).as("the representation's fields stay on a 206").isEqualTo("\"v1\"");
        assertThat(r.header("Cache-Control")).isEqualTo("max-age=60");
    }

    @Test
    void rangesOfASmallBodyAreSlicesOfTheMemoryTier() throws Exception {
        ProxyServer proxy = proxy(256L << 20);
        String path = "/small?size=1000";
        try (RawHttp http = new RawHttp(proxy.port()); AccessLines log = new AccessLines()) {
            assertThat(http.get(path).header("X-Cache")).isEqualTo("MISS");
            assertThat(storedInMemory(proxy, path)).as("1000 bytes are kept in the memory tier").isTrue();
            clock.advance(Duration.ofSeconds(3));

            RawHttp.Response first = http.get(path, "Range: bytes=0-99");
            assertPart(first, 0, 99, 1000, "HIT");
            assertThat(first.header("Age")).as("a 206 from storage says its age").isEqualTo("3");
            assertPart(http.get(path, "Range: bytes=-10"), 990, 999, 1000, "HIT");
            assertPart(http.get(path, "Range: bytes=990-5000"), 990, 999, 1000, "HIT");
            assertPart(http.get(path, "Range: bytes= 5-9 ,"), 5, 9, 1000, "HIT");
            assertPart(http.get(path, "Range: bytes=5-9", "If-Range: \"v1\""), 5, 9, 1000, "HIT");
            assertPart(http.get(path, "Range: bytes=5-9", "If-Range: " + LAST_MODIFIED), 5, 9, 1000, "HIT");

            RawHttp.Response none = http.get(path, "Range: bytes=1000-");
            assertThat(none.status()).as("no byte of it is in the representation").isEqualTo(416);
            assertThat(none.header("Content-Range")).isEqualTo("bytes */1000");
            assertThat(none.body()).isEmpty();
            assertThat(none.header("X-Cache")).isEqualTo("HIT");

            for (String[] whole : List.of(new String[]{"Range: bytes=0-0,5-5", "several ranges: the whole"},
                    new String[]{"Range: bytes=5-3", "an invalid Range is ignored"},
                    new String[]{"Range: items=0-1", "an unknown unit is ignored"},
                    new String[]{"If-Range: \"v0\"", "If-Range names another representation"},
                    new String[]{"If-Range: W/\"v1\"", "a weak If-Range never matches"})) {
                String[] lines = whole[0].startsWith("If-Range") ? new String[]{"Range: bytes=0-9", whole[0]}
                        : new String[]{whole[0]};
                RawHttp.Response r = http.get(path, lines);
                assertThat(r.status()).as(whole[1]).isEqualTo(200);
                assertThat(r.body()).as(whole[1]).isEqualTo(pattern(0, 1000));
                assertThat(r.header("Accept-Ranges")).as("a whole 200 from storage says ranges work")
                        .isEqualTo("bytes");
                assertThat(r.header("Content-Range")).isNull();
            }
            RawHttp.Response notModified = http.get(path, "Range: bytes=0-9", "If-None-Match: \"v1\"");
            assertThat(notModified.status()).as("conditionals first: a 304 wins over a range (RFC 9110 13.2.2)")
                    .isEqualTo(304);
            RawHttp.Response head = http.send("HEAD " + path + " HTTP/1.1\r\nHost: test.local\r\nRange: bytes=0-9"
                    + "\r\n\r\n").read(true);
            assertThat(head.status()).as("Range applies to GET only").isEqualTo(200);
            assertThat(head.header("Content-Length")).isEqualTo("1000");
            assertThat(log.lines()).as("the access log has the 206 as a HIT")
                    .anyMatch(l -> l.contains("\"GET " + path + " HTTP/1.1\" 206 100 ") && l.contains(" HIT "));
        }
        assertThat(origin.requestCount()).as("every range came from storage").isEqualTo(1);
    }

    @Test
    void rangesOfALargeBodyAreRegionsOfItsFile() throws Exception {
        ProxyServer proxy = proxy(256L << 20);
        int size = 1 << 20;
        String path = "/large?size=" + size;
        try (RawHttp http = new RawHttp(proxy.port())) {
            assertThat(http.get(path).body()).hasSize(size);
            assertThat(storedInMemory(proxy, path)).as("1 MiB is above the memory tier's 512 KiB limit: file only")
                    .isFalse();
            assertPart(http.get(path, "Range: bytes=300000-300099"), 300000, 300099, size, "HIT");
            assertPart(http.get(path, "Range: bytes=100001-899999"), 100001, 899999, size, "HIT");
            assertPart(http.get(path, "Range: bytes=-1"), size - 1, size - 1, size, "HIT");
            assertPart(http.get(path, "Range: bytes=1048000-"), 1048000, size - 1, size, "HIT");
            assertPart(http.get(path, "Range: bytes=0-0"), 0, 0, size, "HIT");
            RawHttp.Response none = http.get(path, "Range: bytes=" + size + "-");
            assertThat(none.status()).isEqualTo(416);
            assertThat(none.header("Content-Range")).isEqualTo("bytes */" + size);
            RawHttp.Response whole = http.get(path);
            assertThat(whole.body()).as("after the parts, the whole is intact").isEqualTo(pattern(0, size));
        }
        assertThat(origin.requestCount()).isEqualTo(1);
    }

    @Test
    void aRangedMissFetchesTheWholeOnceAndAnswersTheRangeFromTheStream() throws Exception {
        ProxyServer proxy = proxy(256L << 20);
        int size = 300_000; // many parts from the backend's decoder: the range spans several
        String path = "/cold?size=" + size;
        try (RawHttp http = new RawHttp(proxy.port())) {
            assertPart(http.get(path, "Range: bytes=100000-199999", "If-Range: \"v1\""), 100000, 199999, size,
                    "MISS");
            TestBackend.Received asked = origin.received().get(0);
            assertThat(asked.headers().contains(HttpHeaderNames.RANGE)).as("the backend is asked for the whole")
                    .isFalse();
            assertThat(asked.headers().contains(HttpHeaderNames.IF_RANGE)).isFalse();
            storedInMemory(proxy, path);
            assertPart(http.get(path, "Range: bytes=0-9"), 0, 9, size, "HIT");
            assertThat(http.get(path).body()).as("the whole was stored, not the part").isEqualTo(pattern(0, size));

            String beyond = "/cold-beyond?size=500";
            RawHttp.Response none = http.get(beyond, "Range: bytes=600-");
            assertThat(none.status()).as("unsatisfiable on a miss too").isEqualTo(416);
            assertThat(none.header("Content-Range")).isEqualTo("bytes */500");
            assertThat(none.header("X-Cache")).isEqualTo("MISS");
            storedInMemory(proxy, beyond);
            assertThat(http.get(beyond).body()).isEqualTo(pattern(0, 500));

            String stale = "/cold-if-range?size=500";
            RawHttp.Response other = http.get(stale, "Range: bytes=0-9", "If-Range: \"v0\"");
            assertThat(other.status()).as("If-Range fails against the backend's response: the whole")
                    .isEqualTo(200);
            assertThat(other.body()).isEqualTo(pattern(0, 500));

            RawHttp.Response chunked = http.get("/cold-chunked?size=500&chunked", "Range: bytes=0-9");
            assertThat(chunked.status()).as("no Content-Length on the miss: nothing to cut against, the whole")
                    .isEqualTo(200);
            assertThat(chunked.body()).isEqualTo(pattern(0, 500));
        }
        assertThat(origin.requestCount()).as("one backend request per URL").isEqualTo(4);
    }

    @Test
    void concurrentRangedMissesAreCollapsedIntoOneFetch() throws Exception {
        ProxyServer proxy = proxy(256L << 20);
        int size = 50_000;
        String path = "/slow?size=" + size + "&delay";
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<RawHttp.Response>> answers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int first = i * 1000;
                answers.add(pool.submit(() -> {
                    try (RawHttp http = new RawHttp(proxy.port())) {
                        return http.get(path, "Range: bytes=" + first + "-" + (first + 99));
                    }
                }));
            }
            List<String> statuses = new ArrayList<>();
            for (int i = 0; i < answers.size(); i++) {
                RawHttp.Response r = answers.get(i).get(10, TimeUnit.SECONDS);
                assertPart(r, i * 1000L, i * 1000L + 99, size, r.header("X-Cache"));
                statuses.add(r.header("X-Cache"));
            }
            assertThat(statuses).as("one leader fetched, the others were served from its entry")
                    .containsOnlyOnce("MISS").containsOnly("MISS", "HIT");
        } finally {
            pool.shutdownNow();
        }
        assertThat(origin.requestCount()).isEqualTo(1);
    }

    @Test
    void aKeyTooLargeToStorePassesTheRangeThroughOnceItIsKnown() throws Exception {
        ProxyServer proxy = proxy(64 << 10);
        try (RawHttp http = new RawHttp(proxy.port())) {
            String declared = "/huge?size=200000&honour";
            RawHttp.Response first = http.get(declared, "Range: bytes=1000-1999");
            assertPart(first, 1000, 1999, 200000, "MISS");
            assertThat(first.header("X-Origin-Range")).as("the first time, its size was not known: the whole fetched,"
                    + " the part cut from it").isNull();
            RawHttp.Response second = http.get(declared, "Range: bytes=2000-2999");
            assertPart(second, 2000, 2999, 200000, "MISS");
            assertThat(second.header("X-Origin-Range")).as("known too large: the origin answers the Range itself")
                    .isEqualTo("yes");
            assertThat(origin.received().get(1).headers().get(HttpHeaderNames.RANGE)).isEqualTo("bytes=2000-2999");

            String streamed = "/huge-chunked?size=200000&honour&chunked";
            assertThat(http.get(streamed, "Range: bytes=0-9").status())
                    .as("no length: the whole, found too large while it streamed").isEqualTo(200);
            RawHttp.Response after = http.get(streamed, "Range: bytes=10-19");
            assertThat(after.header("X-Origin-Range")).as("found too large mid-stream: the next Range goes through")
                    .isEqualTo("yes");
            assertThat(after.body()).isEqualTo(pattern(10, 20));
        }
        assertThat(proxy.cache().store().entryCount()).as("neither the whole nor a 206 was stored").isZero();
        assertThat(origin.requestCount()).isEqualTo(4);
    }
}
