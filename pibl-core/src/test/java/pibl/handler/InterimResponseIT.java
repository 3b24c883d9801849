package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.server.ProxyServer;
import pibl.testing.Closer;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;
import pibl.testing.TestClock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Interim responses (RFC 9110 15.2) from a backend, over real sockets: relayed to an HTTP/1.1 client ahead of the
 * final response, never to an HTTP/1.0 one, never stored, never taken for the end of the exchange.
 */
@ExtendWith(NoLeaks.class)
class InterimResponseIT {
    @TempDir
    Path dir;

    private final Closer closer = new Closer();
    private ProxyServer proxy;

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
    }

    /** The origin sends 102, then 103 with a preload hint, then a cacheable 200, on every request. */
    private void start() throws Exception {
        TestBackend origin = closer.track(TestBackend.start("origin"));
        origin.behave((ctx, req, backend) -> {
            req.release();
            ctx.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.PROCESSING,
                    Unpooled.EMPTY_BUFFER));
            FullHttpResponse hints = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(103, "Early Hints"), Unpooled.EMPTY_BUFFER);
            hints.headers().set("Link", "</style.css>; rel=preload; as=style");
            ctx.writeAndFlush(hints);
            ctx.executor().schedule(() -> {
                FullHttpResponse r = backend.named(HttpResponseStatus.OK, "final");
                r.headers().set(HttpHeaderNames.CACHE_CONTROL, "max-age=60");
                ctx.writeAndFlush(r);
            }, 50, TimeUnit.MILLISECONDS);
        });
        proxy = closer.track(new ProxyServer(ProxyFixture.withCache(ProxyFixture.config(List.of(origin.address())),
                dir, Duration.ofSeconds(60)), new TestClock()).start());
    }

    @Test
    void an_http11_client_gets_102_and_103_then_the_final_response_which_alone_is_stored() throws Exception {
        start();
        try (AccessLines access = new AccessLines(); RawHttp http = new RawHttp(proxy.port())) {
            http.send("GET /page HTTP/1.1\r\nHost: test.local\r\n\r\n");
            RawHttp.Response processing = http.read(false);
            RawHttp.Response hints = http.read(false);
            RawHttp.Response last = http.read(false);
            assertThat(processing.status()).isEqualTo(102);
            assertThat(hints.status()).isEqualTo(103);
            assertThat(hints.header("Link")).isEqualTo("</style.css>; rel=preload; as=style");
            assertThat(hints.header("X-Cache")).as("an interim head is not the exchange's").isNull();
            assertThat(last.status()).isEqualTo(200);
            assertThat(last.bodyText()).isEqualTo("final");
            assertThat(last.header("X-Cache")).isEqualTo("MISS");

            // The same connection goes on: HEAD and GET are framed right after the interim heads.
            awaitStored();
            RawHttp.Response head = http.send("HEAD /page HTTP/1.1\r\nHost: test.local\r\n\r\n").read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("X-Cache")).isEqualTo("HIT");
            RawHttp.Response hit = http.get("/page");
            assertThat(hit.status()).as("the stored response is the 200, with no interim before it").isEqualTo(200);
            assertThat(hit.bodyText()).isEqualTo("final");
            assertThat(hit.header("Age")).as("Age on the first hit after the store too (the clock did not move)")
                    .isEqualTo("0");
            assertThat(head.header("Age")).isEqualTo("0");

            assertThat(access.lines()).as("one line per exchange, with the final status").hasSize(3)
                    .allSatisfy(line -> assertThat(line).contains(" 200 ").doesNotContain(" 103 "));
        }
    }

    @Test
    void an_http10_client_gets_only_the_final_response() throws Exception {
        start();
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.send("GET /old HTTP/1.0\r\nHost: test.local\r\n\r\n");
            RawHttp.Response r = http.read(false);
            assertThat(r.status()).as("RFC 9110 15.2: no 1xx to an HTTP/1.0 client").isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("final");
        }
    }

    private void awaitStored() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (proxy.cache().store().entryCount() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(proxy.cache().store().entryCount()).isEqualTo(1);
    }
}
