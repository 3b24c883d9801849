package pibl.lb;

import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
import pibl.config.HealthCheckConfig;
import pibl.config.LimitConfig;
import pibl.config.TimeoutConfig;
import pibl.runtime.Transport;
import pibl.testing.Closer;
import pibl.testing.NoLeaks;
import pibl.testing.PortBackend;
import pibl.testing.TestBackend;
import pibl.upstream.ResponseSink;
import pibl.upstream.Upstream;
import pibl.upstream.UpstreamException;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Slow start through the real request path ({@link Upstream} over loopback sockets, wired as ProxyServer wires it),
 * with the backends' clock moved by hand: the ramp of a backend added by a reload, and of one back from its
 * cooldown after a restart.
 */
@ExtendWith(NoLeaks.class)
class SlowStartIT {
    private static final Transport TRANSPORT = Transport.best();
    private static final HealthCheckConfig PASSIVE_ONLY = new HealthCheckConfig(false, "/health",
            Duration.ofSeconds(2), Duration.ofSeconds(1), 3, 2, 3, Duration.ofSeconds(10));
    private static final BalanceConfig ROUND_ROBIN = BalanceConfig.defaults(); // slow start 30 s
    private static final TimeoutConfig TIMEOUTS = new TimeoutConfig(Duration.ofSeconds(1), Duration.ofSeconds(5),
            Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(1));

    private final EventLoopGroup loops = TRANSPORT.newGroup(1);
    private final Closer closer = new Closer();
    private final ManualNanoTime clock = new ManualNanoTime();
    private Upstream upstream;
    /** The pool's balancer, as a route would hand it to the upstream: a reload replaces it. */
    private volatile LoadBalancer balancer;

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private BackendGroup wire(String... addresses) {
        BackendGroup group = closer.track(BackendGroup.create(
                java.util.Arrays.stream(addresses).map(BackendConfig::parse).toList(), PASSIVE_ONLY, ROUND_ROBIN, clock));
        upstream = new Upstream(TRANSPORT, TIMEOUTS, LimitConfig.defaults());
        balancer = group.balancer();
        return group;
    }

    /** {@code n} requests one after the other: which backend (its {@code X-Backend}) answered each, counted. */
    private Map<String, Integer> send(int n) throws Exception {
        Map<String, Integer> counts = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            counts.merge(get("/r/" + i), 1, Integer::sum);
        }
        return counts;
    }

    private String get(String path) throws Exception {
        CompletableFuture<String> answered = new CompletableFuture<>();
        EventLoop loop = loops.next();
        loop.execute(() -> {
            FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path,
                    Unpooled.EMPTY_BUFFER);
            request.headers().set(HttpHeaderNames.HOST, "test.local");
            upstream.send(loop, request, balancer, "127.0.0.1", new ResponseSink() {
                private String backend;

                @Override
                public void onResponse(HttpResponse head, Backend b) {
                    backend = head.status().code() == 200 ? head.headers().get("X-Backend") : "status "
                            + head.status().code();
                }

                @Override
                public void onContent(HttpContent content) {
                    boolean last = content instanceof LastHttpContent;
                    content.release();
                    if (last) {
                        answered.complete(backend);
                    }
                }

                @Override
                public void flush() {
                }

                @Override
                public void onError(UpstreamException cause, boolean responseStarted) {
                    answered.complete("error " + cause.status());
                }
            });
        });
        return answered.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aBackendAddedByAReloadRampsUpToItsThirdOverSlowStart() throws Exception {
        TestBackend a = closer.track(TestBackend.startCounting("a"));
        TestBackend b = closer.track(TestBackend.startCounting("b"));
        TestBackend c = closer.track(TestBackend.startCounting("c"));
        BackendGroup group = wire(a.address(), b.address());
        assertThat(send(20)).containsOnly(Map.entry("a", 10), Map.entry("b", 10));

        BackendGroup next = closer.track(group.reconfigure(List.of(BackendConfig.parse(a.address()),
                BackendConfig.parse(b.address()), BackendConfig.parse(c.address())), PASSIVE_ONLY, ROUND_ROBIN));
        balancer = next.balancer();

        Map<String, Integer> first = send(600);
        assertThat(first.getOrDefault("c", 0)).as("just added: a tenth of its 200 turns, %s", first)
                .isBetween(5, 40);
        clock.advance(Duration.ofSeconds(15));
        Map<String, Integer> half = send(600);
        assertThat(half.get("c")).as("halfway: half of its turns, %s", half).isBetween(70, 130);
        clock.advance(Duration.ofSeconds(15));
        assertThat(send(600)).as("30 s on: its whole third")
                .containsOnly(Map.entry("a", 200), Map.entry("b", 200), Map.entry("c", 200));
    }

    @Test
    void aRestartedBackendBackFromItsCooldownRampsUp() throws Exception {
        TestBackend a = closer.track(TestBackend.startCounting("a"));
        PortBackend b = closer.track(PortBackend.start("b", 0));
        BackendGroup group = wire(a.address(), b.address());
        Backend restarted = group.backends().get(1);

        b.stop();
        assertThat(send(20)).as("refused connects are retried on a: the clients see no error")
                .containsOnly(Map.entry("a", 20));
        assertThat(restarted.health()).isEqualTo("cooldown");
        b.restart();
        clock.advance(Duration.ofSeconds(10));

        Map<String, Integer> ramping = send(400);
        assertThat(ramping).containsOnlyKeys("a", "b");
        assertThat(ramping.get("b")).as("cooldown over: a tenth of its half, %s", ramping).isBetween(5, 40);
        clock.advance(Duration.ofSeconds(30));
        assertThat(send(400)).containsOnly(Map.entry("a", 200), Map.entry("b", 200));
    }
}
