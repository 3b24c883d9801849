package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.runtime.Http2Stats;
import pibl.server.ProxyServer;
import pibl.testing.H2Client;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.StreamingResponder;
import pibl.testing.TestBackend;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/2 on the cleartext port by prior knowledge, through Netty's own client codec: each stream one exchange
 * through the same segments as HTTP/1.1 (balancing, cache, access log), flow control reaching back to the backend,
 * and HTTP/1.1 on the same port untouched.
 */
@ExtendWith(NoLeaks.class)
class Http2IT {
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private <T extends AutoCloseable> T keep(T c) {
        open.add(c);
        return c;
    }

    private static String text(FullHttpResponse r) {
        return r.content().toString(StandardCharsets.UTF_8);
    }

    @Test
    void manyConcurrentStreamsOnOneConnectionReachThreeBackendsInTurnAndAreLoggedAsHttp2() throws Exception {
        TestBackend b1 = keep(TestBackend.start("b1"));
        TestBackend b2 = keep(TestBackend.start("b2"));
        TestBackend b3 = keep(TestBackend.start("b3"));
        ProxyServer proxy = keep(ProxyFixture.start(List.of(b1.address(), b2.address(), b3.address())));
        Map<String, Integer> byBackend = new HashMap<>();
        try (AccessLines log = new AccessLines(); H2Client h2 = H2Client.connect(proxy.port())) {
            List<CompletableFuture<FullHttpResponse>> responses = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                responses.add(h2.get("/r" + i));
            }
            for (CompletableFuture<FullHttpResponse> f : responses) {
                FullHttpResponse r = f.get(10, TimeUnit.SECONDS);
                try {
                    assertThat(r.status().code()).isEqualTo(200);
                    assertThat(r.headers().get(HttpHeaderNames.VIA)).isEqualTo("1.1 pibl");
                    assertThat(r.headers().contains(HttpHeaderNames.CONNECTION))
                            .as("no connection fields on HTTP/2 (RFC 9113 8.2.2)").isFalse();
                    byBackend.merge(text(r), 1, Integer::sum);
                } finally {
                    r.release();
                }
            }
            awaitLines(log, 30);
            assertThat(log.lines()).allSatisfy(l -> assertThat(l).contains("HTTP/2.0\"")
                    .contains(" 127.0.0.1 ")); // every stream logs its connection's client
        }
        assertThat(byBackend).as("round robin over the three, one connection's streams spread like requests")
                .containsOnly(Map.entry("b1", 10), Map.entry("b2", 10), Map.entry("b3", 10));
        assertThat(b1.received().get(0).headers().get(HttpHeaderNames.HOST)).as(":authority becomes Host")
                .isEqualTo("a.example");
        assertThat(b1.received().get(0).headers().get(HttpHeaderNames.VIA)).isEqualTo("2 pibl");
        assertThat(b1.received().get(0).headers().names()).as("the codec's bookkeeping stays in PIBL")
                .noneMatch(n -> n.startsWith("x-http2"));
        assertThat(proxy.stats().http2().connections()).isEqualTo(1);
        assertThat(proxy.stats().http2().streams()).isEqualTo(30);
    }

    private static void awaitLines(AccessLines log, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (log.lines().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(log.lines()).hasSize(n);
    }

    private static void fill(byte[] body) {
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) StreamingResponder.expectedByte(i);
        }
    }

    /** A backend "b1" answering every request with {@code body}, cacheable for a minute. */
    private static TestBackend cacheableBackend(byte[] body) throws InterruptedException {
        return TestBackend.start("b1").behave((ctx, req, b) -> {
            req.release();
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(body));
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length).set(HttpHeaderNames.CACHE_CONTROL, "max-age=60");
            ctx.writeAndFlush(r);
        });
    }

    @Test
    void aMissThenAHitOnTheSameConnectionTheHitFromTheCacheFileAsDataFrames(@TempDir Path dir) throws Exception {
        byte[] body = new byte[1 << 20]; // over the memory tier's body limit: the hit is a file region
        fill(body);
        TestBackend backend = keep(cacheableBackend(body));
        ProxyServer proxy = keep(ProxyFixture.start(List.of(backend.address()),
                c -> ProxyFixture.withCache(c, dir, Duration.ZERO)));
        try (H2Client h2 = H2Client.connect(proxy.port())) {
            FullHttpResponse miss = h2.get("/big").get(10, TimeUnit.SECONDS);
            try {
                assertThat(miss.headers().get(ResponseHeads.X_CACHE)).isEqualTo("MISS");
                assertThat(miss.content().readableBytes()).isEqualTo(body.length);
            } finally {
                miss.release();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (proxy.cache().store().entryCount() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            FullHttpResponse hit = h2.get("/big").get(10, TimeUnit.SECONDS);
            try {
                assertThat(hit.headers().get(ResponseHeads.X_CACHE)).isEqualTo("HIT");
                byte[] got = new byte[hit.content().readableBytes()];
                hit.content().getBytes(hit.content().readerIndex(), got);
                assertThat(got).as("the stored file, byte for byte").isEqualTo(body);
            } finally {
                hit.release();
            }
        }
        assertThat(backend.requestCount()).as("the hit never reached the backend").isEqualTo(1);
    }

    @Test
    void twoHitsSentAtOnceShareTheConnectionInWholeDataFramesNotInKibibyteSlices(@TempDir Path dir) throws Exception {
        byte[] body = new byte[64 * 1024];
        fill(body);
        TestBackend backend = keep(cacheableBackend(body));
        ProxyServer proxy = keep(ProxyFixture.start(List.of(backend.address()),
                c -> ProxyFixture.withCache(c, dir, Duration.ZERO)));
        // Windows larger than both bodies: what cuts the DATA frames is the server's choice alone.
        try (H2Client h2 = H2Client.connect(proxy.port(), Http2Settings.defaultSettings().initialWindowSize(1 << 20))) {
            h2.growConnectionWindow(1 << 20);
            h2.get("/m").get(10, TimeUnit.SECONDS).release(); // the miss that stores it
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (proxy.cache().store().entryCount() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            Map<Integer, List<Integer>> frames = new ConcurrentHashMap<>();
            CountDownLatch ended = new CountDownLatch(2);
            List<Http2StreamChannel> streams = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                streams.add(h2.open(ch -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof Http2DataFrame data) {
                            frames.computeIfAbsent(ch.stream().id(), id -> new CopyOnWriteArrayList<>())
                                    .add(data.content().readableBytes());
                            if (data.isEndStream()) {
                                ended.countDown();
                            }
                        }
                        ReferenceCountUtil.release(msg);
                    }
                })));
            }
            // Both requests in one write, so that the server reads them together and has both hits to send at once.
            h2.channel().eventLoop().submit(() -> {
                for (Http2StreamChannel s : streams) {
                    s.write(new DefaultHttp2HeadersFrame(H2Client.headers("GET", "/m", h -> { }), true));
                }
                h2.channel().flush();
            }).sync();
            assertThat(ended.await(10, TimeUnit.SECONDS)).as("both hits end").isTrue();
            assertThat(frames).hasSize(2);
            frames.values().forEach(sizes -> {
                assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(body.length);
                assertThat(sizes.subList(0, sizes.size() - 1)).as("every DATA frame but the last is a whole 16 KiB frame")
                        .containsOnly(16 * 1024);
            });
        }
        assertThat(backend.requestCount()).as("the two were hits").isEqualTo(1);
    }

    @Test
    void aStreamWhoseClientGrantsNoWindowPausesItsBackendWhileAnotherStreamCompletes() throws Exception {
        long size = 48L << 20;
        StreamingResponder big = new StreamingResponder(size);
        TestBackend slowReader = keep(TestBackend.start("big").behave(big));
        ProxyServer proxy = keep(ProxyFixture.start(List.of(slowReader.address())));
        try (H2Client h2 = H2Client.connect(proxy.port(), Http2Settings.defaultSettings().initialWindowSize(16 * 1024))) {
            h2.growConnectionWindow(256 << 20); // only the stream's own window is left closed
            AtomicLong received = new AtomicLong();
            CompletableFuture<Void> ended = new CompletableFuture<>();
            Http2StreamChannel stuck = h2.open(ch -> {
                ch.config().setAutoRead(false); // reads nothing: grants no window past the first 16 KiB
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof Http2DataFrame data) {
                            received.addAndGet(data.content().readableBytes());
                            if (data.isEndStream()) {
                                ended.complete(null);
                            }
                        }
                        ReferenceCountUtil.release(msg);
                    }
                });
            });
            stuck.writeAndFlush(new DefaultHttp2HeadersFrame(H2Client.headers("GET", "/huge", h -> { }), true));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (big.written() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            slowReader.behave(TestBackend::answerName);
            FullHttpResponse other = h2.get("/small").get(10, TimeUnit.SECONDS);
            try {
                assertThat(text(other)).as("the other stream of the connection flows").isEqualTo("big");
            } finally {
                other.release();
            }
            Thread.sleep(500);
            long paused = big.written();
            assertThat(paused).as("the backend was paused: bounded by socket buffers and water marks, not the body")
                    .isLessThan(size / 2);
            Thread.sleep(300);
            assertThat(big.written()).as("and stays paused").isLessThan(size / 2);

            stuck.config().setAutoRead(true); // now the client reads: window updates flow, the backend resumes
            stuck.read();
            ended.get(30, TimeUnit.SECONDS);
            assertThat(received.get()).isEqualTo(size);
        }
    }

    @Test
    void rapidResetIsAnsweredWithGoAwayAndCounted() throws Exception {
        // A backend that never answers: every stream is still open when its RST_STREAM arrives. With a fast one a
        // response could end a stream first, its reset would then not be sent, and the count would depend on speed.
        TestBackend backend = keep(TestBackend.start("b1").behave((ctx, req, b) -> req.release()));
        ProxyServer proxy = keep(ProxyFixture.start(List.of(backend.address())));
        try (H2Client h2 = H2Client.connect(proxy.port())) {
            for (int i = 0; i < 300 && h2.channel().isActive(); i++) {
                Http2StreamChannel s;
                try {
                    s = h2.open(ch -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ReferenceCountUtil.release(msg);
                        }
                    }));
                } catch (Exception closedMeanwhile) {
                    break; // PIBL's GOAWAY and close came between the check and this stream
                }
                s.writeAndFlush(new DefaultHttp2HeadersFrame(H2Client.headers("GET", "/r" + i, h -> { }), true));
                s.close(); // RST_STREAM CANCEL at once: the request cost PIBL, the client nothing
            }
            assertThat(h2.channel().closeFuture().await(5, TimeUnit.SECONDS)).as("PIBL closed the connection").isTrue();
            // The GOAWAY itself may not reach this client: PIBL closes with the client's frames still unread,
            // so the kernel resets the connection and the client can lose what was in flight. When it arrives,
            // it says why; PIBL's own count says it was sent, either way.
            if (h2.goAway().isDone()) {
                assertThat(h2.goAway().get().errorCode()).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (proxy.stats().http2().goAways(Http2Stats.GoAway.RAPID_RESET) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(proxy.stats().http2().goAways(Http2Stats.GoAway.RAPID_RESET)).as("GOAWAY ENHANCE_YOUR_CALM sent")
                .isEqualTo(1);
    }

    @Test
    void http11StillWorksOnTheSamePortAndTheStreamOfAnIdleConnectionEndsWithGoAway() throws Exception {
        TestBackend backend = keep(TestBackend.start("b1"));
        ProxyServer proxy = keep(ProxyFixture.start(List.of(backend.address()), c -> c.withTimeouts(
                new pibl.config.TimeoutConfig(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMillis(500),
                        Duration.ofSeconds(10), Duration.ofSeconds(2)))));
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttp.Response r = http.read(false);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("b1");
            http.send("GET /b HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                    + "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
            RawHttp.Response upgrade = http.read(false);
            assertThat(upgrade.status()).as("Upgrade: h2c stays refused: served as HTTP/1.1").isEqualTo(200);
        }
        try (H2Client h2 = H2Client.connect(proxy.port())) {
            FullHttpResponse r = h2.get("/c").get(5, TimeUnit.SECONDS);
            r.release();
            H2Client.GoAway goAway = h2.goAway().get(5, TimeUnit.SECONDS);
            assertThat(goAway.errorCode()).as("idle past timeouts.client-idle").isEqualTo(Http2Error.NO_ERROR.code());
            assertThat(goAway.lastStreamId()).as("the stream it served").isEqualTo(3);
        }
        assertThat(proxy.stats().http2().idleClosedCount()).isEqualTo(1);
        assertThat(backend.received().get(1).headers().contains(HttpHeaderNames.UPGRADE)).isFalse();
    }

    @Test
    void aStreamOfHeadersFramesEndingOnHeadersIsServedWhole() throws Exception {
        // HEADERS without END_STREAM, then an empty DATA with it: a bodyless request in two frames.
        TestBackend backend = keep(TestBackend.start("b1"));
        ProxyServer proxy = keep(ProxyFixture.start(List.of(backend.address())));
        try (H2Client h2 = H2Client.connect(proxy.port())) {
            CompletableFuture<Http2HeadersFrame> head = new CompletableFuture<>();
            Http2StreamChannel s = h2.open(ch -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof Http2HeadersFrame h) {
                        head.complete(h);
                    }
                    ReferenceCountUtil.release(msg);
                }
            }));
            s.write(new DefaultHttp2HeadersFrame(H2Client.headers("POST", "/p", h -> { }), false));
            s.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2DataFrame(
                    Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII), true));
            assertThat(head.get(5, TimeUnit.SECONDS).headers().status().toString()).isEqualTo("200");
        }
        assertThat(backend.received().get(0).body()).isEqualTo("hello");
    }
}
