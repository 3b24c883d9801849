package pibl.lb;

import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import pibl.config.BalanceConfig;
import pibl.config.BalanceConfig.Policy;
import pibl.server.ProxyServer;
import pibl.testing.Closer;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The balancers through a real {@link ProxyServer} over loopback sockets, in front of real backends. */
@ExtendWith(NoLeaks.class)
class BalancersIT {
    private static final int CLIENTS = 10;
    private static final int REQUESTS_EACH = 30;
    private final Closer closer = new Closer();

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
    }

    private TestBackend backend(String name, long delayMillis) throws InterruptedException {
        return closer.track(TestBackend.startCounting(name)).behave((ctx, req, b) -> {
            req.release();
            if (delayMillis == 0) {
                ctx.writeAndFlush(b.named(HttpResponseStatus.OK, b.name()));
            } else {
                ctx.executor().schedule(() -> ctx.writeAndFlush(b.named(HttpResponseStatus.OK, b.name())),
                        delayMillis, TimeUnit.MILLISECONDS);
            }
        });
    }

    private ProxyServer proxy(BalanceConfig balance, TestBackend... backends) throws Exception {
        List<String> addresses = java.util.Arrays.stream(backends).map(TestBackend::address).toList();
        return closer.track(ProxyFixture.start(addresses, c -> c.withBalance(balance)));
    }

    /** {@code CLIENTS} keep-alive clients, {@code REQUESTS_EACH} requests each: the answering backend of each. */
    private static Map<String, Integer> load(ProxyServer proxy) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        Map<String, Integer> counts = new ConcurrentHashMap<>();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                done.add(pool.submit(() -> {
                    try (RawHttp http = new RawHttp(proxy.port())) {
                        for (int i = 0; i < REQUESTS_EACH; i++) {
                            RawHttp.Response r = http.get("/work");
                            assertThat(r.status()).isEqualTo(200);
                            counts.merge(r.header("X-Backend"), 1, Integer::sum);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        return counts;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Policy.class, names = {"LEAST_REQUEST", "EWMA"})
    void aSlowBackendGetsClearlyFewerRequestsThanRoundRobinWouldSendIt(Policy policy) throws Exception {
        TestBackend fast1 = backend("fast1", 0);
        TestBackend slow = backend("slow", 100);
        TestBackend fast2 = backend("fast2", 0);
        BalanceConfig roundRobin = BalanceConfig.defaults().withSlowStart(Duration.ZERO);

        Map<String, Integer> rr = load(proxy(roundRobin, fast1, slow, fast2));
        Map<String, Integer> smart = load(proxy(roundRobin.withPolicy(policy), fast1, slow, fast2));

        int total = CLIENTS * REQUESTS_EACH;
        assertThat(rr.get("slow")).as("round robin: exactly its third, 100 ms each").isEqualTo(total / 3);
        assertThat(smart.getOrDefault("slow", 0)).as("%s: %s against round robin's %s", policy, smart, rr)
                .isLessThan(total / 3 / 2);
        assertThat(smart.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(total);
    }

    @Test
    void aHashOnTheSessionCookieKeepsEachSessionOnOneBackend() throws Exception {
        TestBackend a = backend("a", 0);
        TestBackend b = backend("b", 0);
        TestBackend c = backend("c", 0);
        BalanceConfig hash = new BalanceConfig(Policy.HASH, BalanceConfig.HashKey.parse("cookie:SESSION"), 1.25,
                Duration.ZERO);
        ProxyServer proxy = proxy(hash, a, b, c);

        Map<String, Set<String>> backendsOfSession = new HashMap<>();
        try (RawHttp http = new RawHttp(proxy.port())) {
            for (int round = 0; round < 5; round++) {
                for (int s = 0; s < 30; s++) {
                    RawHttp.Response r = http.get("/cart?round=" + round, "Cookie: theme=dark; SESSION=s" + s);
                    assertThat(r.status()).isEqualTo(200);
                    backendsOfSession.computeIfAbsent("s" + s, k -> new HashSet<>()).add(r.header("X-Backend"));
                }
            }
            RawHttp.Response anonymous = http.get("/cart");
            assertThat(anonymous.status()).as("no session cookie: least-request picks one").isEqualTo(200);
        }
        assertThat(backendsOfSession.values()).as("five requests of each of 30 sessions, each on one backend")
                .allSatisfy(set -> assertThat(set).hasSize(1));
        Set<String> used = new HashSet<>();
        backendsOfSession.values().forEach(used::addAll);
        assertThat(used).as("30 sessions spread over the pool").hasSizeGreaterThanOrEqualTo(2);
        AtomicInteger served = new AtomicInteger();
        List.of(a, b, c).forEach(x -> served.addAndGet(x.requestCount()));
        assertThat(served.get()).isEqualTo(151);
    }
}
