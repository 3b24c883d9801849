package pibl.handler;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.config.PiblConfig;
import pibl.server.ProxyServer;
import pibl.testing.Closer;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;
import pibl.testing.TestClock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The response directives beyond {@code Cache-Control}, over real sockets: targeted fields (RFC 9213), heuristic
 * freshness (RFC 9111 4.2.2) and HEAD responses updating a stored GET (4.3.5).
 */
@ExtendWith(NoLeaks.class)
class CacheDirectivesIT {
    @TempDir
    Path dir;

    private final Closer closer = new Closer();
    private final TestClock clock = new TestClock();
    /** The origin's answer: its fields are set on every response, GET or HEAD. */
    private final AtomicReference<UnaryOperator<FullHttpResponse>> answer = new AtomicReference<>(r -> r);
    private TestBackend origin;

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
    }

    private ProxyServer proxy(UnaryOperator<PiblConfig> tune) throws Exception {
        origin = closer.track(TestBackend.start("origin"));
        origin.behave((ctx, req, backend) -> {
            boolean head = HttpMethod.HEAD.equals(req.method());
            req.release();
            FullHttpResponse r = backend.named(HttpResponseStatus.OK, "body v1");
            r.headers().set(HttpHeaderNames.DATE, DateFormatter.format(new Date(clock.millis())));
            r = answer.get().apply(r);
            if (head) {
                r.content().clear(); // Content-Length stays: that of the GET
            }
            ctx.writeAndFlush(r);
        });
        PiblConfig cfg = ProxyFixture.withCache(ProxyFixture.config(List.of(origin.address())), dir,
                Duration.ofSeconds(60));
        return closer.track(new ProxyServer(tune.apply(cfg), clock).start());
    }

    private static void awaitEntries(ProxyServer proxy, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (proxy.cache().store().entryCount() != n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(proxy.cache().store().entryCount()).as("entries committed").isEqualTo(n);
    }

    @Test
    void pibls_own_field_governs_its_cache_and_never_leaves_it() throws Exception {
        answer.set(r -> {
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                    .set("CDN-Cache-Control", "no-store")
                    .set("PIBL-Cache-Control", "max-age=60");
            return r;
        });
        ProxyServer proxy = proxy(c -> c);
        try (RawHttp http = new RawHttp(proxy.port())) {
            RawHttp.Response first = http.get("/a");
            assertThat(first.header("X-Cache")).isEqualTo("MISS");
            assertThat(first.header("PIBL-Cache-Control")).as("removed before the response leaves PIBL").isNull();
            assertThat(first.header("Cache-Control")).as("for the browsers and caches after PIBL").isEqualTo("no-store");
            assertThat(first.header("CDN-Cache-Control")).as("for a CDN in front of PIBL").isEqualTo("no-store");
            awaitEntries(proxy, 1);
            clock.advance(Duration.ofSeconds(30));
            RawHttp.Response hit = http.get("/a");
            assertThat(hit.header("X-Cache")).as("stored for max-age=60 despite no-store elsewhere").isEqualTo("HIT");
            assertThat(hit.header("Age")).isEqualTo("30");
            assertThat(hit.header("PIBL-Cache-Control")).as("stored, but not sent").isNull();
            assertThat(hit.header("CDN-Cache-Control")).isEqualTo("no-store");
        }
        assertThat(origin.requestCount()).isEqualTo(1);
    }

    @Test
    void cdn_cache_control_beats_cache_control_and_expires() throws Exception {
        answer.set(r -> {
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "max-age=600")
                    .set(HttpHeaderNames.EXPIRES, DateFormatter.format(new Date(clock.millis() + 600_000)))
                    .set("CDN-Cache-Control", "max-age=10");
            return r;
        });
        ProxyServer proxy = proxy(c -> c);
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.get("/b");
            awaitEntries(proxy, 1);
            clock.advance(Duration.ofSeconds(9));
            assertThat(http.get("/b").header("X-Cache")).isEqualTo("HIT");
            clock.advance(Duration.ofSeconds(2));
            assertThat(http.get("/b").header("X-Cache")).as("CDN-Cache-Control's 10 s, not 600 s").isEqualTo("MISS");
        }
        assertThat(origin.requestCount()).isEqualTo(2);
    }

    @Test
    void the_heuristic_keeps_a_response_with_only_last_modified_fresh_for_a_tenth_of_its_age() throws Exception {
        long modified = clock.millis() - 1_000_000; // 1,000 s old: fresh for 100 s
        answer.set(r -> {
            r.headers().set(HttpHeaderNames.LAST_MODIFIED, DateFormatter.format(new Date(modified)));
            return r;
        });
        ProxyServer proxy = proxy(c -> {
            PiblConfig noTtl = ProxyFixture.withCache(c, dir, Duration.ZERO);
            return noTtl.withCache(noTtl.cache().withHeuristic(10, Duration.ofDays(1)));
        });
        try (RawHttp http = new RawHttp(proxy.port())) {
            assertThat(http.get("/c").header("X-Cache")).isEqualTo("MISS");
            awaitEntries(proxy, 1);
            clock.advance(Duration.ofSeconds(99));
            assertThat(http.get("/c").header("X-Cache")).isEqualTo("HIT");
            clock.advance(Duration.ofSeconds(2));
            RawHttp.Response after = http.get("/c");
            assertThat(after.header("X-Cache")).as("stale after 100 s: asked again").isNotEqualTo("HIT");
        }
        assertThat(origin.received().get(1).headers().get(HttpHeaderNames.IF_MODIFIED_SINCE))
                .as("revalidated with its Last-Modified")
                .isEqualTo(DateFormatter.format(new Date(modified)));
    }

    @Test
    void a_head_response_that_matches_refreshes_the_stored_get_and_one_that_does_not_removes_it() throws Exception {
        answer.set(r -> {
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "max-age=0").set(HttpHeaderNames.ETAG, "\"e1\"")
                    .set("X-Version", "1");
            return r;
        });
        ProxyServer proxy = proxy(c -> c);
        try (RawHttp http = new RawHttp(proxy.port())) {
            assertThat(http.get("/d").bodyText()).isEqualTo("body v1");
            awaitEntries(proxy, 1);
            // The origin now says the same representation is fresh for 60 s, and a new X-Version.
            answer.set(r -> {
                r.headers().set(HttpHeaderNames.CACHE_CONTROL, "max-age=60").set(HttpHeaderNames.ETAG, "\"e1\"")
                        .set("X-Version", "2");
                return r;
            });
            RawHttp.Response head = http.send("HEAD /d HTTP/1.1\r\nHost: test.local\r\n\r\n").read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("X-Version")).isEqualTo("2");
            RawHttp.Response refreshed = http.get("/d");
            assertThat(refreshed.header("X-Cache")).as("the HEAD's max-age=60 made the stored GET fresh")
                    .isEqualTo("HIT");
            assertThat(refreshed.header("X-Version")).as("its fields updated from the HEAD").isEqualTo("2");
            assertThat(refreshed.bodyText()).isEqualTo("body v1");

            // A HEAD whose ETag differs: the stored GET is out of date.
            answer.set(r -> {
                r.headers().set(HttpHeaderNames.CACHE_CONTROL, "max-age=60").set(HttpHeaderNames.ETAG, "\"e2\"");
                return r;
            });
            http.send("HEAD /d HTTP/1.1\r\nHost: test.local\r\nCache-Control: no-cache\r\n\r\n").read(true);
            awaitEntries(proxy, 0);
            assertThat(http.get("/d").header("X-Cache")).as("removed: fetched again").isEqualTo("MISS");
        }
    }
}
