package pibl.lb;

import org.junit.jupiter.api.extension.ExtendWith;
import pibl.testing.NoLeaks;
import pibl.testing.Closer;
import pibl.testing.LogCapture;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
import pibl.config.HealthCheckConfig;
import pibl.config.LimitConfig;
import pibl.config.TimeoutConfig;
import pibl.runtime.Transport;
import pibl.testing.PortBackend;
import pibl.testing.TestBackend;
import pibl.upstream.ResponseSink;
import pibl.upstream.Upstream;
import pibl.upstream.UpstreamException;
import pibl.upstream.UpstreamTimeoutException;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Passive health through the real request path: {@link Upstream} and its calls over loopback
 * sockets, with a {@link BackendGroup}'s balancer, the way ProxyServer wires them.
 */
@ExtendWith(NoLeaks.class)
class PassiveHealthIT {
    private static final Transport TRANSPORT = Transport.best();
    private static final HealthCheckConfig HEALTH = new HealthCheckConfig(false, "/health", Duration.ofSeconds(2),
            Duration.ofSeconds(1), 3, 2, 3, Duration.ofSeconds(10));

    private final EventLoopGroup loops = TRANSPORT.newGroup(1);
    private final Closer closer = new Closer();
    private final LogCapture log = new LogCapture("pibl.lb", org.apache.logging.log4j.Level.INFO);
    private Upstream upstream;
    private LoadBalancer balancer;

    /** What came back for one request. */
    record Result(int status, String backend, String body, Throwable error) {
    }

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        log.close();
    }

    private <T extends AutoCloseable> T track(T c) {
        return closer.track(c);
    }

    /** A loopback address nobody listens on: connects are refused at once. */
    private static String deadAddress() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    private BackendGroup wire(List<String> addresses, Duration backendResponse, LongSupplier clock) {
        // Slow start off: these tests count whole round-robin turns of a backend back from its cooldown.
        BackendGroup group = track(BackendGroup.create(addresses.stream().map(BackendConfig::parse).toList(), HEALTH,
                BalanceConfig.defaults().withSlowStart(Duration.ZERO), clock));
        TimeoutConfig timeouts = new TimeoutConfig(Duration.ofSeconds(1), backendResponse, Duration.ofSeconds(30),
                Duration.ofSeconds(10), Duration.ofSeconds(1));
        upstream = new Upstream(TRANSPORT, timeouts, LimitConfig.defaults());
        balancer = group.balancer();
        return group;
    }

    private BackendGroup wire(List<String> addresses) {
        return wire(addresses, Duration.ofSeconds(5), System::nanoTime);
    }

    private Result get(String path) throws Exception {
        CompletableFuture<Result> result = new CompletableFuture<>();
        EventLoop loop = loops.next();
        loop.execute(() -> {
            FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path,
                    Unpooled.EMPTY_BUFFER);
            request.headers().set(HttpHeaderNames.HOST, "test.local");
            upstream.send(loop, request, balancer, new ResponseSink() {
                private int status;
                private String backend;
                private final StringBuilder body = new StringBuilder();

                @Override
                public void onResponse(HttpResponse head, Backend b) {
                    status = head.status().code();
                    backend = b.label();
                }

                @Override
                public void onContent(HttpContent content) {
                    body.append(content.content().toString(StandardCharsets.UTF_8));
                    boolean last = content instanceof LastHttpContent;
                    content.release();
                    if (last) {
                        result.complete(new Result(status, backend, body.toString(), null));
                    }
                }

                @Override
                public void flush() {
                }

                @Override
                public void onError(UpstreamException cause, boolean responseStarted) {
                    result.complete(new Result(status, backend, null, cause));
                }
            });
        });
        return result.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aRefusingBackendLeavesTheRotationAfterThreeFailures() throws Exception {
        TestBackend live = track(TestBackend.start("live"));
        String dead = deadAddress();
        BackendGroup group = wire(List.of(dead, live.address()));
        Backend deadBackend = group.backends().get(0);
        Backend liveBackend = group.backends().get(1);

        for (int i = 0; i < 10; i++) {
            Result r = get("/r/" + i);
            assertThat(r.status()).as("a refused connect is retried on the live backend").isEqualTo(200);
            assertThat(r.body()).isEqualTo("live");
        }
        assertThat(deadBackend.failures()).as("after three refusals it is no longer tried").isEqualTo(3);
        assertThat(deadBackend.health()).isEqualTo("cooldown");
        assertThat(liveBackend.health()).isEqualTo("up");
        assertThat(log.about(dead)).containsExactly(
                "WARN backend " + dead + " DOWN (3 consecutive failures: connection refused); retry in 10 s");
        assertThat(liveBackend.latency().count()).as("one latency sample per response").isEqualTo(10);
        assertThat(deadBackend.latency().count()).isZero();
    }

    @Test
    void afterTheCooldownOneMoreRefusalTakesItOutAgain() throws Exception {
        TestBackend live = track(TestBackend.start("live"));
        String dead = deadAddress();
        ManualNanoTime clock = new ManualNanoTime();
        BackendGroup group = wire(List.of(dead, live.address()), Duration.ofSeconds(5), clock);
        Backend deadBackend = group.backends().get(0);
        for (int i = 0; i < 6; i++) {
            assertThat(get("/a/" + i).status()).isEqualTo(200);
        }
        assertThat(deadBackend.failures()).isEqualTo(3);

        clock.advance(Duration.ofSeconds(10));
        for (int i = 0; i < 6; i++) {
            assertThat(get("/b/" + i).status()).isEqualTo(200);
        }
        assertThat(deadBackend.failures()).as("tried once after the cooldown, out again at once").isEqualTo(4);
        assertThat(log.about(dead)).containsExactly(
                "WARN backend " + dead + " DOWN (3 consecutive failures: connection refused); retry in 10 s",
                "INFO backend " + dead + " cooldown over; back in rotation on probation",
                "WARN backend " + dead + " DOWN (4 consecutive failures: connection refused); retry in 10 s");
    }

    /*
     * This used to answer 503 at once with every backend in cooldown, without trying them. Issue 12: a pool with
     * every backend out of rotation is in panic and still tries them in turn, so a dead pool answers 502 (a real
     * failure, quickly: the connects are refused), and a pool that answers again is served.
     */
    @Test
    void withEveryBackendOutBothAreStillTriedAndADeadPoolGives502NotA503() throws Exception {
        String dead1 = deadAddress();
        String dead2 = deadAddress();
        BackendGroup group = wire(List.of(dead1, dead2));
        for (int i = 0; i < 3; i++) {
            Result r = get("/x/" + i);
            assertThat(r.error()).isInstanceOfSatisfying(UpstreamException.class,
                    e -> assertThat(e.status()).as("both were tried and failed: 502").isEqualTo(502));
        }
        assertThat(group.backends()).allSatisfy(b -> assertThat(b.health()).isEqualTo("cooldown"));
        assertThat(group.balancer().panic().requests()).as("no panic while one was in rotation").isZero();

        for (int i = 0; i < 2; i++) {
            Result r = get("/y/" + i);
            assertThat(r.error()).isInstanceOfSatisfying(UpstreamException.class,
                    e -> assertThat(e.status()).as("every backend out, still tried, refused: 502, never 503")
                            .isEqualTo(502));
        }
        assertThat(group.backends()).allSatisfy(b -> assertThat(b.failures())
                .as("each request in panic tried both backends, one after the other").isEqualTo(5));
        assertThat(group.balancer().panic().requests()).as("two picks in panic per request").isEqualTo(4);
        assertThat(group.balancer().inPanic()).isTrue();
        assertThat(log.about("panic")).as("one line for the episode, not one per request").containsExactly(
                "WARN every backend of the pool is out of rotation (" + dead1 + " cooldown, " + dead2
                        + " cooldown); sending to all of them in turn (panic)");
    }

    @Test
    void backendsThatAnswerAgainAreServedInPanicAndTheFirstAnswerEndsTheEpisode() throws Exception {
        boolean[] flaky = {true};
        TestBackend a = track(TestBackend.start("a"));
        TestBackend b = track(TestBackend.start("b"));
        for (TestBackend t : List.of(a, b)) {
            t.behave((ctx, req, backend) -> {
                req.release();
                if (flaky[0]) {
                    ctx.close(); // a reset before any response byte: a passive failure
                } else {
                    ctx.writeAndFlush(backend.named(HttpResponseStatus.OK, backend.name()));
                }
            });
        }
        ManualNanoTime clock = new ManualNanoTime();
        BackendGroup group = wire(List.of(a.address(), b.address()), Duration.ofSeconds(5), clock);
        for (int i = 0; i < 3; i++) {
            assertThat(get("/flaky/" + i).error()).isInstanceOfSatisfying(UpstreamException.class,
                    e -> assertThat(e.status()).isEqualTo(502));
        }
        assertThat(group.backends()).allSatisfy(x -> assertThat(x.health()).isEqualTo("cooldown"));

        flaky[0] = false; // a second later, long before the 10 s cooldown ends (the clock stands still)
        Result first = get("/back");
        assertThat(first.status()).as("served in panic instead of a 503").isEqualTo(200);
        Backend answered = group.backends().get(first.body().equals("a") ? 0 : 1);
        assertThat(answered.health()).as("an answer in panic ends the cooldown").isEqualTo("up");
        for (int i = 0; i < 4; i++) {
            Result r = get("/after/" + i);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).as("the other is still cooling down; no panic, so it gets nothing")
                    .isEqualTo(first.body());
        }
        assertThat(group.balancer().panic().requests()).isEqualTo(1);
        assertThat(log.about("panic")).containsExactly(
                "WARN every backend of the pool is out of rotation (" + a.address() + " cooldown, " + b.address()
                        + " cooldown); sending to all of them in turn (panic)",
                "INFO panic over: backend " + answered.label() + " back in rotation (1 request sent in panic)");
        assertThat(log.about(answered.label())).contains(
                "INFO backend " + answered.label() + " answered a request during its cooldown; back in rotation");
    }

    /*
     * This used to take the silent backend out for the cooldown and answer the fourth request 503 without sending
     * it. Issue 12: the only backend of a pool is never taken out by passive checks (nginx's rule for a lone
     * server); its failures are counted and logged once, and every request is still sent.
     */
    @Test
    void aSilentOnlyBackendTimesOutButStaysInRotation() throws Exception {
        PortBackend silent = track(PortBackend.start("silent", 0)).hang();
        BackendGroup group = wire(List.of(silent.address()), Duration.ofMillis(200), System::nanoTime);
        for (int i = 0; i < 4; i++) {
            assertThat(get("/slow/" + i).error()).isInstanceOfSatisfying(UpstreamException.class, e -> {
                assertThat(e.status()).as("a silent backend: 504").isEqualTo(504);
                assertThat(e.getCause()).isInstanceOf(UpstreamTimeoutException.class);
            });
        }
        Backend only = group.backends().get(0);
        assertThat(only.health()).as("the only backend is never cooled down").isEqualTo("up");
        assertThat(only.failures()).isEqualTo(4);
        assertThat(log.about(silent.address())).containsExactly("WARN backend " + silent.address()
                + " failing (3 consecutive failures: silent for 200 ms); the only backend of its pool, so it stays"
                + " in rotation");
        assertThat(silent.hung()).as("the fourth request was sent too").isEqualTo(4);
    }

    @Test
    void latencyIsTheTimeToTheResponseHeadNotTheLastByte() throws Exception {
        TestBackend slowBody = track(TestBackend.start("slow-body")).behave((ctx, req, b) -> {
            req.release();
            ctx.executor().schedule(() -> {
                HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                HttpUtil.setTransferEncodingChunked(head, true);
                ctx.writeAndFlush(head);
                ctx.executor().schedule(() -> ctx.writeAndFlush(new DefaultLastHttpContent(
                        Unpooled.copiedBuffer("done", StandardCharsets.UTF_8))), 400, TimeUnit.MILLISECONDS);
            }, 150, TimeUnit.MILLISECONDS);
        });
        BackendGroup group = wire(List.of(slowBody.address()));
        long start = System.nanoTime();
        for (int i = 0; i < 3; i++) {
            assertThat(get("/l/" + i).body()).isEqualTo("done");
        }
        long perRequestMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) / 3;
        Backend backend = group.backends().get(0);
        assertThat(perRequestMillis).isGreaterThanOrEqualTo(550);
        assertThat(backend.latency().count()).isEqualTo(3);
        assertThat(backend.latencyPercentile(0.5)).as("head after 150 ms, last byte 400 ms later")
                .isBetween(130.0, 400.0);
        assertThat(backend.latencyPercentile(0.99)).isLessThan(400.0);
    }
}
