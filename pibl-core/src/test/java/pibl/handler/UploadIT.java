package pibl.handler;

import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.config.LimitConfig;
import pibl.config.TimeoutConfig;
import pibl.server.ProxyServer;
import pibl.testing.Closer;
import pibl.testing.GeneratedBody;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;
import pibl.testing.UploadBackend;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request bodies past {@code limits.retry-buffer} stream to the backend over real loopback sockets: byte-exact, at
 * the backend's pace, never resent once written, and never left looking complete when cut short.
 */
@ExtendWith(NoLeaks.class)
class UploadIT {
    private static final int MIB = 1 << 20;

    private final Closer closer = new Closer();
    private final ExecutorService senders = Executors.newCachedThreadPool();

    @AfterEach
    void tearDown() throws Exception {
        senders.shutdownNow();
        closer.close();
    }

    private <T extends AutoCloseable> T track(T c) {
        return closer.track(c);
    }

    private ProxyServer proxy(List<String> backends, UnaryOperator<pibl.config.PiblConfig> tweak) throws Exception {
        return track(ProxyFixture.start(backends, tweak));
    }

    private ProxyServer proxy(UploadBackend backend) throws Exception {
        return proxy(List.of(backend.address()), c -> c);
    }

    /** Sends {@code head}, then {@code size} generated body bytes, from another thread; a cut-off write just ends. */
    private Future<?> upload(RawHttp http, GeneratedBody body, String head, long size) {
        return senders.submit(() -> {
            try {
                http.send(head);
                body.write(http.output(), size);
            } catch (IOException e) {
                // PIBL closed the connection under the upload: what the test looks at is the response and the backend
            }
            return null;
        });
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    private static String put(String uri, long length) {
        return "PUT " + uri + " HTTP/1.1\r\nHost: a\r\nContent-Length: " + length + "\r\n\r\n";
    }

    @Test
    void aStreamedPutArrivesByteExactAndTheConnectionServesTheNextRequest() throws Exception {
        UploadBackend backend = track(UploadBackend.start());
        ProxyServer proxy = proxy(backend);
        GeneratedBody body = new GeneratedBody();
        try (AccessLines log = new AccessLines(); RawHttp http = new RawHttp(proxy.port())) {
            http.send(put("/up", 8L * MIB));
            body.write(http.output(), 8L * MIB);
            RawHttp.Response r = http.read(false);

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("bytes=" + 8 * MIB + " crc=" + Long.toHexString(body.crc()));
            UploadBackend.Upload u = backend.next(5);
            assertThat(u.complete()).isTrue();
            assertThat(u.headers().get("Content-Length")).as("the client's own framing").isEqualTo("" + 8 * MIB);
            assertThat(u.headers().contains("Transfer-Encoding")).isFalse();
            assertThat(http.get("/after").status()).as("a body read to its end leaves the connection usable")
                    .isEqualTo(200);
            await(() -> log.lines().size() == 2, "both exchanges are logged");
            assertThat(log.lines().get(0)).contains("\"PUT /up HTTP/1.1\" 200 ");
        }
    }

    @Test
    void aChunkedUploadIsAnswered100ContinueByPiblAndArrivesChunkedAndByteExact() throws Exception {
        UploadBackend backend = track(UploadBackend.start());
        ProxyServer proxy = proxy(backend);
        GeneratedBody body = new GeneratedBody();
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.send("POST /chunks HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
            assertThat(http.read(false).status()).as("PIBL accepted the body: it says so itself").isEqualTo(100);
            body.writeChunked(http.output(), 3L * MIB + 7, 100_000);
            GeneratedBody.endChunked(http.output());
            RawHttp.Response r = http.read(false);

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("bytes=" + (3 * MIB + 7) + " crc=" + Long.toHexString(body.crc()));
            UploadBackend.Upload u = backend.next(5);
            assertThat(u.headers().get("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(u.headers().contains("Expect")).as("answered by PIBL, not passed on").isFalse();
            assertThat(u.headers().contains("Content-Length")).isFalse();
        }
    }

    @Test
    void theClientIsReadOnlyAsFastAsTheBackendTakesTheBody() throws Exception {
        UploadBackend backend = track(UploadBackend.start()).pause();
        ProxyServer proxy = proxy(backend);
        GeneratedBody body = new GeneratedBody();
        long size = 256L * MIB;
        try (RawHttp http = new RawHttp(proxy.port(), 30_000)) {
            Future<?> sending = upload(http, body, put("/slow", size), size);
            long previous = -1;
            int still = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (still < 2 && System.nanoTime() < deadline) { // until the client's writes block, twice in a row
                Thread.sleep(300);
                long now = body.sent();
                still = now > 0 && now == previous ? still + 1 : 0;
                previous = now;
            }
            assertThat(body.sent()).as("with the backend not reading, only socket buffers and the water marks fill")
                    .isLessThan(64L * MIB);

            backend.resume();
            sending.get(30, TimeUnit.SECONDS);
            RawHttp.Response r = http.read(false);
            assertThat(r.bodyText()).isEqualTo("bytes=" + size + " crc=" + Long.toHexString(body.crc()));
        }
    }

    @Test
    void aBackendThatAnswersEarlyIsRelayedAndTheRestOfTheBodyIsNeverTakenForARequest() throws Exception {
        UploadBackend backend = track(UploadBackend.start()).answerAfter(MIB, 413);
        ProxyServer proxy = proxy(backend);
        try (RawHttp http = new RawHttp(proxy.port())) {
            upload(http, new GeneratedBody(), put("/early", 64L * MIB), 64L * MIB);
            RawHttp.Response r = http.read(false);

            assertThat(r.status()).isEqualTo(413);
            assertThat(r.bodyText()).isEqualTo("early");
            assertThat(r.header("Connection")).isEqualTo("close");
            assertThat(http.isClosedByPeer(3000)).as("closed after the response, with a FIN the client reads").isTrue();
            UploadBackend.Upload u = backend.next(5);
            assertThat(u.complete()).as("the backend never sees the short body end").isFalse();
            assertThat(u.reset()).as("its connection is reset once the answer is relayed").isTrue();
        }
    }

    @Test
    void aLargeEarlyAnswerReachesAClientThatReadsItLateWhoseBodyIsStillComing() throws Exception {
        UploadBackend backend = track(UploadBackend.start()).answerAfter(MIB, 403, 8 * MIB);
        ProxyServer proxy = proxy(backend);
        try (RawHttp http = new RawHttp(proxy.port(), 10_000, 16 * 1024)) {
            upload(http, new GeneratedBody(), put("/late", 256L * MIB), 256L * MIB);
            await(() -> backend.earlyAnswers() == 1, "the backend answered");
            Thread.sleep(500); // most of the answer waits in PIBL's send buffer, behind the client's small window

            RawHttp.Response r = http.read(false);
            assertThat(r.status()).isEqualTo(403);
            assertThat(r.body()).as("a close with the body unread would reset the connection and drop the answer's"
                    + " tail; the lingering close sends all of it, then a FIN").hasSize(8 * MIB);
            assertThat(http.isClosedByPeer(3000)).isTrue();
        }
    }

    @Test
    void aClientThatLeavesMidBodyGetsTheBackendRequestResetAndIsLoggedAs499() throws Exception {
        UploadBackend backend = track(UploadBackend.start());
        ProxyServer proxy = proxy(backend);
        try (AccessLines log = new AccessLines()) {
            RawHttp http = new RawHttp(proxy.port());
            http.send(put("/gone", 64L * MIB));
            new GeneratedBody().write(http.output(), 4L * MIB);
            await(() -> backend.received() > MIB, "the backend reads the body");
            http.close();

            UploadBackend.Upload u = backend.next(5);
            assertThat(u.complete()).isFalse();
            assertThat(u.reset()).as("a reset, never a FIN that could end a short body").isTrue();
            assertThat(u.bytes()).isLessThanOrEqualTo(4L * MIB);
            await(() -> backend.openConnections() == 0, "the backend connection is gone");
            await(() -> log.lines().size() == 1, "the exchange is logged");
            assertThat(log.only()).contains("\"PUT /gone HTTP/1.1\" 499 0 ");
        }
    }

    @Test
    void aClientSilentMidBodyForTheIdleTimeoutIsAClientGoneNotABackendTimeout() throws Exception {
        UploadBackend backend = track(UploadBackend.start());
        // The backend's own timeout is shorter: it must not fire while the backend waits for the client.
        ProxyServer proxy = proxy(List.of(backend.address()), c -> c.withTimeouts(new TimeoutConfig(
                Duration.ofSeconds(2), Duration.ofMillis(300), Duration.ofMillis(800), Duration.ofSeconds(10),
                Duration.ZERO)));
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.send(put("/stall", 10L * MIB));
            new GeneratedBody().write(http.output(), 2L * MIB);
            await(() -> backend.received() == 2L * MIB, "the backend has what was sent");
            long start = System.nanoTime();

            assertThat(http.isClosedByPeer(5000)).as("closed without a response: no 504 for the client's silence")
                    .isTrue();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThan(400);
            UploadBackend.Upload u = backend.next(5);
            assertThat(u.complete()).isFalse();
            assertThat(u.reset()).isTrue();
        }
    }

    @Test
    void aContentLengthOverTheLimitIs413AtOnceAnd413InsteadOf100() throws Exception {
        UploadBackend backend = track(UploadBackend.start());
        ProxyServer proxy = proxy(List.of(backend.address()),
                c -> c.withLimits(new LimitConfig(4L * MIB, MIB, 16 << 10, 8 << 10, 1000, 2)));
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.send("PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: " + 5 * MIB
                    + "\r\nExpect: 100-continue\r\n\r\n");
            RawHttp.Response r = http.read(false);
            assertThat(r.status()).as("the client that waits for 100 learns at once").isEqualTo(413);
            assertThat(r.header("Connection")).isEqualTo("close");
        }
        try (RawHttp http = new RawHttp(proxy.port())) {
            upload(http, new GeneratedBody(), put("/big", 5L * MIB), 5L * MIB);
            assertThat(http.read(false).status()).as("a client that sends the body anyway can read the 413")
                    .isEqualTo(413);
            assertThat(http.isClosedByPeer(3000)).isTrue();
        }
        assertThat(backend.received()).as("nothing of a refused body reaches a backend").isZero();
        assertThat(backend.pending()).isZero();
    }

    @Test
    void aChunkedBodyGrowingPastTheLimitIsResetAtTheBackendAndAnswered413() throws Exception {
        UploadBackend backend = track(UploadBackend.start());
        ProxyServer proxy = proxy(List.of(backend.address()),
                c -> c.withLimits(new LimitConfig(4L * MIB, MIB, 16 << 10, 8 << 10, 1000, 2)));
        try (RawHttp http = new RawHttp(proxy.port())) {
            GeneratedBody body = new GeneratedBody();
            senders.submit(() -> {
                http.send("POST /grow HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
                body.writeChunked(http.output(), 6L * MIB, 64 * 1024);
                GeneratedBody.endChunked(http.output());
                return null;
            });
            RawHttp.Response r = http.read(false);
            assertThat(r.status()).isEqualTo(413);
            assertThat(http.isClosedByPeer(3000)).isTrue();
        }
        UploadBackend.Upload u = backend.next(5);
        assertThat(u.complete()).as("the backend never sees the body end").isFalse();
        assertThat(u.reset()).isTrue();
        assertThat(u.bytes()).isLessThanOrEqualTo(4L * MIB);
    }

    @Test
    void aBackendFailingMidBodyGives502ClosesTheClientAndIsNotRetried() throws Exception {
        UploadBackend one = track(UploadBackend.start()).resetAfter(MIB);
        UploadBackend two = track(UploadBackend.start()).resetAfter(MIB);
        ProxyServer proxy = proxy(List.of(one.address(), two.address()), c -> c);
        try (RawHttp http = new RawHttp(proxy.port())) {
            upload(http, new GeneratedBody(), put("/fail", 16L * MIB), 16L * MIB);
            RawHttp.Response r = http.read(false);
            assertThat(r.status()).isEqualTo(502);
            assertThat(r.header("Connection")).as("the rest of the body is unread").isEqualTo("close");
            assertThat(http.isClosedByPeer(3000)).isTrue();
        }
        Thread.sleep(200);
        assertThat(one.pending() + two.pending()).as("the body is gone once written: one attempt only").isEqualTo(1);
    }

    @Test
    void aStreamedRequestGoesToTheNextBackendWhenTheConnectIsRefused() throws Exception {
        TestBackend dead = TestBackend.start("dead");
        String deadAddress = dead.address();
        dead.close();
        UploadBackend live = track(UploadBackend.start());
        ProxyServer proxy = proxy(List.of(deadAddress, live.address()), c -> c);
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (int i = 0; i < 2; i++) { // round robin: one of the two starts at the dead backend
                GeneratedBody body = new GeneratedBody();
                http.send(put("/next/" + i, 2L * MIB));
                body.write(http.output(), 2L * MIB);
                RawHttp.Response r = http.read(false);
                assertThat(r.status()).as("nothing was sent to the refusing backend").isEqualTo(200);
                assertThat(r.bodyText()).isEqualTo("bytes=" + 2 * MIB + " crc=" + Long.toHexString(body.crc()));
            }
        }
    }

    @Test
    void anIdempotentPutOfRetryBufferSizeIsResentOnTheKeepAliveRaceAndAStreamedOneIsNot() throws Exception {
        TestBackend backend = track(TestBackend.startCounting("race"));
        // Answers the first request of each connection and closes the connection when the second arrives, as a
        // backend's keep-alive timeout does when it fires just as PIBL reuses the connection.
        io.netty.util.AttributeKey<Boolean> used = io.netty.util.AttributeKey.valueOf("used");
        backend.behave((ctx, req, b) -> {
            req.release();
            if (ctx.channel().attr(used).getAndSet(Boolean.TRUE) != null) {
                ctx.channel().close();
                return;
            }
            ctx.writeAndFlush(b.named(HttpResponseStatus.OK, "ok"));
        });
        ProxyServer proxy = proxy(List.of(backend.address()), c -> c);
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (int i = 0; i < 5; i++) {
                http.send(put("/race/" + i, MIB));
                new GeneratedBody().write(http.output(), MIB);
                assertThat(http.read(false).status()).as("PUT %d, its body held whole", i).isEqualTo(200);
            }
            assertThat(backend.requestCount()).as("each PUT after the first met a dead pooled connection first")
                    .isEqualTo(9);

            http.send(put("/race/streamed", MIB + 1));
            new GeneratedBody().write(http.output(), MIB + 1);
            assertThat(http.read(false).status()).as("one byte past the retry buffer: streamed, never resent")
                    .isEqualTo(502);
            assertThat(backend.requestCount()).isEqualTo(10);
        }
    }
}
