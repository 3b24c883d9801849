package pibl.lb;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
import pibl.config.HealthCheckConfig;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** Which backend each pick gives: the tables of round robin and smooth weighted round robin. */
class LoadBalancersTest {
    private final ManualNanoTime clock = new ManualNanoTime();

    /** Backends named a, b, c, … on ports 9001, 9002, … with the given weights. */
    private List<Backend> backends(int... weights) {
        List<Backend> list = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            list.add(new Backend(new BackendConfig("127.0.0.1", 9001 + i, weights[i]), HealthCheckConfig.defaults(),
                    clock));
        }
        return list;
    }

    private static String name(Backend b) {
        return b == null ? "-" : String.valueOf((char) ('a' + b.address().getPort() - 9001));
    }

    private static String sequence(LoadBalancer lb, int picks, List<Backend> tried) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < picks; i++) {
            s.append(i == 0 ? "" : " ").append(name(lb.pick(tried)));
        }
        return s.toString();
    }

    @ParameterizedTest(name = "weights {0} → {1}")
    @CsvSource(delimiter = '|', value = {
        "5,1,1 | a a b a c a a a a b a c a a",
        "2,1   | a b a a b a",
        "1,2   | b a b b a b",
        "3,2,1 | a b a c b a a b a c b a",
        "1,1,1 | a b c a b c",
        "4,4   | a b a b",
        "7     | a a a",
    })
    void picksInterleaveByWeight(String weights, String expected) {
        int[] w = java.util.Arrays.stream(weights.trim().split(",")).mapToInt(Integer::parseInt).toArray();
        LoadBalancer lb = LoadBalancers.create(backends(w));
        assertThat(sequence(lb, expected.trim().split(" ").length, List.of()))
                .as("nginx's smooth weighted round robin: the heavy backend is spread out, never served in a burst")
                .isEqualTo(expected.trim());
    }

    @Test
    void equalWeightsGiveTheLockFreeRoundRobin() {
        assertThat(LoadBalancers.create(backends(1, 1, 1))).isInstanceOf(RoundRobinBalancer.class);
        assertThat(LoadBalancers.create(backends(3, 3))).isInstanceOf(RoundRobinBalancer.class);
        assertThat(LoadBalancers.create(backends(2, 1))).isInstanceOf(SmoothWeightedBalancer.class);
    }

    @Test
    void weightedSharesAreExactOverWholeCycles() {
        LoadBalancer lb = LoadBalancers.create(backends(5, 1, 1));
        Map<String, Long> counts = new HashMap<>();
        for (int i = 0; i < 700; i++) {
            counts.merge(name(lb.pick(List.of())), 1L, Long::sum);
        }
        assertThat(counts).containsOnly(Map.entry("a", 500L), Map.entry("b", 100L), Map.entry("c", 100L));
    }

    @Test
    void weightedSkipsTriedBackendsAndKeepsTheOthersInterleaved() {
        List<Backend> list = backends(5, 1, 1);
        LoadBalancer lb = LoadBalancers.create(list);
        assertThat(sequence(lb, 4, List.of(list.get(0)))).isEqualTo("b c b c");
        assertThat(sequence(lb, 3, List.of(list.get(0), list.get(1)))).isEqualTo("c c c");
        assertThat(lb.pick(list)).as("every backend already failed this request").isNull();
    }

    @Test
    void weightedSkipsBackendsOutOfRotation() {
        List<Backend> list = backends(5, 1, 1);
        LoadBalancer lb = LoadBalancers.create(list);
        takeOut(list.get(0));
        assertThat(sequence(lb, 4, List.of())).isEqualTo("b c b c");
        takeOut(list.get(1));
        takeOut(list.get(2));
        // This used to be null (the caller answered 503). Issue 12: with nobody in rotation the pool is in panic
        // and the pick goes on among all of them, by weight (PanicTest has the table).
        assertThat(sequence(lb, 7, List.of())).isEqualTo("a a b a c a a");
    }

    @Test
    void roundRobinSkipsTriedAndUnavailableBackends() {
        List<Backend> list = backends(1, 1, 1);
        LoadBalancer lb = LoadBalancers.create(list);
        // A retry starts after the backend that failed (b) and takes no turn from the others (this was "a c c a"
        // while retries advanced the shared counter; issue 12: that put a dead backend first on every request).
        assertThat(sequence(lb, 4, List.of(list.get(1)))).isEqualTo("c c c c");
        assertThat(sequence(lb, 3, List.of())).as("the turns go on where they were").isEqualTo("a b c");
        takeOut(list.get(0));
        assertThat(sequence(lb, 4, List.of())).doesNotContain("a");
        takeOut(list.get(1));
        takeOut(list.get(2));
        // This used to be null (the caller answered 503); now the pool is in panic: all of them in turn.
        assertThat(lb.pick(List.of())).isNotNull();
        assertThat(lb.pick(list)).as("every backend already failed this request").isNull();
    }

    @Test
    void backendsBackFromCooldownArePickedAgain() {
        List<Backend> list = backends(2, 1);
        LoadBalancer lb = LoadBalancers.create(list);
        takeOut(list.get(0));
        assertThat(sequence(lb, 3, List.of())).isEqualTo("b b b");
        clock.advance(Duration.ofSeconds(10));
        assertThat(sequence(lb, 6, List.of())).contains("a");
    }

    @Test
    void weightedIsExactUnderConcurrentPicks() throws Exception {
        LoadBalancer lb = LoadBalancers.create(backends(5, 1, 1));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Map<String, Long>>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                results.add(pool.submit(() -> {
                    List<String> mine = new ArrayList<>();
                    for (int i = 0; i < 7000; i++) {
                        mine.add(name(lb.pick(List.of())));
                    }
                    return mine.stream().collect(Collectors.groupingBy(s -> s, Collectors.counting()));
                }));
            }
            Map<String, Long> total = new HashMap<>();
            for (Future<Map<String, Long>> f : results) {
                f.get(30, TimeUnit.SECONDS).forEach((k, v) -> total.merge(k, v, Long::sum));
            }
            assertThat(total).as("56000 picks are 8000 whole cycles of a a b a c a a, whatever the threads")
                    .containsOnly(Map.entry("a", 40000L), Map.entry("b", 8000L), Map.entry("c", 8000L));
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest(name = "balance: {0}, weights {1} → {2}")
    @CsvSource(delimiter = '|', value = {
        "ROUND_ROBIN   | 1,1 | RoundRobinBalancer     | round robin",
        "ROUND_ROBIN   | 2,1 | SmoothWeightedBalancer | weighted round robin",
        "WEIGHTED      | 1,1 | RoundRobinBalancer     | round robin",
        "WEIGHTED      | 2,1 | SmoothWeightedBalancer | weighted round robin",
        "LEAST_REQUEST | 2,1 | LeastRequestBalancer   | least-request",
        "EWMA          | 1,1 | EwmaBalancer           | ewma",
        "HASH          | 1,1 | HashBalancer           | hash (uri, bounded-load 1.25)",
    })
    void thePolicyNamesTheBalancer(BalanceConfig.Policy policy, String weights, String type, String name) {
        int[] w = java.util.Arrays.stream(weights.trim().split(",")).mapToInt(Integer::parseInt).toArray();
        LoadBalancer lb = LoadBalancers.create(backends(w), BalanceConfig.defaults().withPolicy(policy), new Panic());
        assertThat(lb.getClass().getSimpleName()).isEqualTo(type);
        assertThat(lb.policy()).as("what the reload's log line says").isEqualTo(name);
    }

    @Test
    void theHashPolicySaysItsKeyAndBound() {
        BalanceConfig hash = new BalanceConfig(BalanceConfig.Policy.HASH, BalanceConfig.HashKey.parse("cookie:SESSION"),
                0, Duration.ZERO);
        assertThat(LoadBalancers.create(backends(1, 1), hash, new Panic()).policy())
                .isEqualTo("hash (cookie:SESSION, bounded-load off)");
    }

    /** Three refused requests in a row: 10 s of passive cooldown (the default). */
    private static void takeOut(Backend b) {
        for (int i = 0; i < 3; i++) {
            b.recordFailure(new java.net.ConnectException("Connection refused"));
        }
        assertThat(b.isAvailable()).isFalse();
    }
}
