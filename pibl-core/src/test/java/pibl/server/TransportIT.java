package pibl.server;

import org.junit.jupiter.api.extension.ExtendWith;
import pibl.testing.NoLeaks;
import pibl.runtime.Transport;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import pibl.testing.Closer;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;
import pibl.testing.TestClock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same proxy on every transport this machine has (io_uring, epoll, NIO): the rest of the suite
 * runs on the best one only, so this is what keeps the fallbacks honest.
 */
@ExtendWith(NoLeaks.class)
class TransportIT {
    /** Above the memory tier's limit (1/32 of the fixture's 16 MiB): a hit is sent from the file (sendfile, splice). */
    private static final int FILE_BODY = 600 * 1024;

    @TempDir
    Path dir;

    private final Closer closer = new Closer();

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
    }

    static List<Transport> transports() {
        return Transport.available();
    }

    @ParameterizedTest
    @MethodSource("transports")
    void forwardsRoundRobinAndServesHitsFromMemoryAndFromFiles(Transport transport) throws Exception {
        byte[] big = new byte[FILE_BODY];
        new Random(42).nextBytes(big);
        List<TestBackend> backends = List.of(backend("b1", big), backend("b2", big), backend("b3", big));
        ProxyServer proxy = closer.track(new ProxyServer(
                ProxyFixture.withCache(ProxyFixture.config(backends.stream().map(TestBackend::address).toList()),
                        dir, Duration.ofMinutes(5)),
                new TestClock(), transport).start());
        assertThat(proxy.transport()).isEqualTo(transport.label());

        try (RawHttp client = new RawHttp(proxy.port())) {
            Map<String, Integer> split = new HashMap<>();
            for (int i = 0; i < 30; i++) {
                RawHttp.Response r = client.get("/name");
                assertThat(r.status()).isEqualTo(200);
                split.merge(r.bodyText(), 1, Integer::sum);
            }
            assertThat(split).containsOnly(Map.entry("b1", 10), Map.entry("b2", 10), Map.entry("b3", 10));

            RawHttp.Response small = client.get("/small");
            assertThat(small.header("X-Cache")).isEqualTo("MISS");
            RawHttp.Response smallHit = client.get("/small");
            assertThat(smallHit.header("X-Cache")).isEqualTo("HIT");
            assertThat(smallHit.bodyText()).isEqualTo(small.bodyText());

            RawHttp.Response miss = client.get("/big");
            assertThat(miss.header("X-Cache")).isEqualTo("MISS");
            assertThat(miss.body()).isEqualTo(big);
            RawHttp.Response hit = client.get("/big");
            assertThat(hit.body()).isEqualTo(big);
            assertThat(hit.header("Content-Length")).isEqualTo(String.valueOf(FILE_BODY));

            // Still in step after a file-region response: the next exchange on the connection works.
            assertThat(client.get("/name").status()).isEqualTo(200);
        }

        backends.forEach(TestBackend::close);
        try (RawHttp client = new RawHttp(proxy.port())) {
            assertThat(client.get("/name").status()).isEqualTo(502);
        }
    }

    private TestBackend backend(String name, byte[] big) throws InterruptedException {
        TestBackend b = closer.track(TestBackend.start(name));
        b.behave((ctx, req, backend) -> {
            String path = req.uri();
            req.release();
            FullHttpResponse r;
            if (path.equals("/big")) {
                r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(big));
                r.headers().set(HttpHeaderNames.CONTENT_LENGTH, big.length).set(HttpHeaderNames.CACHE_CONTROL, "max-age=60");
            } else if (path.equals("/small")) {
                r = backend.named(HttpResponseStatus.OK, "small from " + backend.name());
                r.headers().set(HttpHeaderNames.CACHE_CONTROL, "max-age=60");
            } else {
                r = backend.named(HttpResponseStatus.OK, backend.name());
                r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store"); // else the TTL would cache it
            }
            ctx.writeAndFlush(r);
        });
        return b;
    }
}
