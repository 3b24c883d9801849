package pibl.lb;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
import pibl.config.HealthCheckConfig;
import pibl.testing.LogCapture;

import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The ramp of a backend that comes back, with the clock moved by hand, and what it does to each balancer's picks. */
class SlowStartTest {
    private static final Duration RAMP = Duration.ofSeconds(30);
    private final LogCapture log = new LogCapture("pibl.lb", org.apache.logging.log4j.Level.INFO);

    @AfterEach
    void closeLog() {
        log.close();
    }

    @ParameterizedTest(name = "{0} s of 30 → {1}")
    @CsvSource({"0, 0.1", "1, 0.1", "3, 0.1", "6, 0.2", "15, 0.5", "29.999, 0.99997", "30, 1", "300, 1"})
    void theFactorGrowsFromATenthToOne(double seconds, double factor) {
        Pool pool = Pool.ofEqual(2).cameBack("b", RAMP);
        pool.clock.advance(Duration.ofNanos((long) (seconds * 1e9)));
        assertThat(pool.get("b").rampFactor()).isCloseTo(factor, within(1e-4));
        assertThat(pool.get("a").rampFactor()).as("a never left").isEqualTo(1.0);
    }

    @Test
    void offMeansFullShareAtOnce() {
        Pool pool = Pool.ofEqual(2).cameBack("b", Duration.ZERO);
        assertThat(pool.get("b").rampFactor()).isEqualTo(1.0);
        assertThat(log.about("slow start")).isEmpty();
    }

    @Test
    void everyWayBackBeginsARampAndSaysSo() {
        Pool pool = Pool.ofEqual(3);
        pool.backends.forEach(b -> b.slowStart(RAMP));
        Backend a = pool.get("a");
        for (int i = 0; i < 3; i++) {
            a.recordFailure(new ConnectException("Connection refused"));
        }
        pool.clock.advance(Duration.ofSeconds(10));
        assertThat(a.isAvailable()).isTrue();
        assertThat(a.rampFactor()).as("the passive cooldown is over").isEqualTo(0.1);
        assertThat(log.about("127.0.0.1:9001")).last().asString()
                .isEqualTo("INFO backend 127.0.0.1:9001 cooldown over; back in rotation on probation; slow start over"
                        + " 30 s");

        Backend b = pool.get("b");
        b.markActivelyDown(3, "HTTP 500");
        b.markActivelyUp(2);
        assertThat(b.rampFactor()).as("active checks up again").isEqualTo(0.1);

        Backend c = pool.get("c");
        c.markActivelyDown(3, "HTTP 500");
        c.clearActiveVerdict();
        assertThat(c.rampFactor()).as("active checks switched off while it was down").isEqualTo(0.1);

        pool.clock.advance(RAMP);
        assertThat(pool.backends).allSatisfy(x -> assertThat(x.rampFactor()).isEqualTo(1.0));
    }

    @Test
    void aReloadRampsTheBackendsItAddsButNotTheFirstConfigurationNorTheKeptOnes() {
        ManualNanoTime clock = new ManualNanoTime();
        BalanceConfig balance = BalanceConfig.defaults().withPolicy(BalanceConfig.Policy.LEAST_REQUEST);
        BackendGroup first = BackendGroup.create(List.of(at(9001), at(9002)), HealthCheckConfig.defaults(), balance,
                clock);
        assertThat(first.backends()).as("startup: nothing to ramp from")
                .allSatisfy(b -> assertThat(b.rampFactor()).isEqualTo(1.0));

        BackendGroup next = first.reconfigure(List.of(at(9001), at(9002), at(9003)), HealthCheckConfig.defaults(),
                balance);
        assertThat(next.backends().get(0).rampFactor()).isEqualTo(1.0);
        assertThat(next.backends().get(2).rampFactor()).as("added by the reload").isEqualTo(0.1);
        assertThat(log.messages()).contains("INFO backend 127.0.0.1:9003 added; slow start over 30 s")
                .anyMatch(m -> m.endsWith("removed []; least-request, slow start 30 s"));

        clock.advance(Duration.ofSeconds(15));
        BackendGroup off = next.reconfigure(List.of(at(9001), at(9002), at(9003)), HealthCheckConfig.defaults(),
                balance.withSlowStart(Duration.ZERO));
        assertThat(off.backends().get(2).rampFactor()).as("slow-start set to 0 by a reload ends a ramp")
                .isEqualTo(1.0);
    }

    @Test
    void theOnlyBackendOfAPoolDoesNotRamp() {
        ManualNanoTime clock = new ManualNanoTime();
        BackendGroup lone = BackendGroup.create(List.of(at(9001)), HealthCheckConfig.defaults(),
                BalanceConfig.defaults(), clock);
        Backend only = lone.backends().get(0);
        only.markActivelyDown(3, "HTTP 500");
        only.markActivelyUp(2);
        assertThat(only.rampFactor()).as("no one to leave the rest of its share to").isEqualTo(1.0);
    }

    @Test
    void roundRobinPassesARampingBackendsTurnWithProbabilityOneMinusF() {
        Pool pool = Pool.ofEqual(3).cameBack("c", RAMP);
        RoundRobinBalancer lb = new RoundRobinBalancer(pool.backends, new Panic(), new SplittableRandom(1));

        assertThat(Pool.count(3000, () -> lb.pick(List.of())).get("c")).as("f = 0.1: a tenth of its 1000 turns")
                .isBetween(70, 130);
        pool.clock.advance(Duration.ofSeconds(15));
        assertThat(Pool.count(3000, () -> lb.pick(List.of())).get("c")).as("f = 0.5").isBetween(440, 560);
        pool.clock.advance(Duration.ofSeconds(15));
        assertThat(Pool.count(3000, () -> lb.pick(List.of()))).as("the ramp is over: exact round robin again")
                .containsOnly(Map.entry("a", 1000), Map.entry("b", 1000), Map.entry("c", 1000));
    }

    @Test
    void roundRobinStillPicksARampingBackendWhenItIsTheOnlyOneLeft() {
        Pool pool = Pool.ofEqual(2).cameBack("b", RAMP);
        RoundRobinBalancer lb = new RoundRobinBalancer(pool.backends, new Panic(), new SplittableRandom(2));
        assertThat(Pool.count(100, () -> lb.pick(pool.tried("a")))).containsOnly(Map.entry("b", 100));
    }

    @Test
    void smoothWeightedScalesTheRampingBackendsWeight() {
        Pool pool = new Pool(2, 1, 1).cameBack("c", RAMP);
        SmoothWeightedBalancer lb = new SmoothWeightedBalancer(pool.backends, new Panic());

        assertThat(Pool.count(3100, () -> lb.pick(List.of())).get("c")).as("weights 200:100:10 out of 310")
                .isBetween(95, 105);
        pool.clock.advance(RAMP);
        assertThat(Pool.count(4000, () -> lb.pick(List.of()))).as("full weights again")
                .containsOnly(Map.entry("a", 2000), Map.entry("b", 1000), Map.entry("c", 1000));
    }

    @Test
    void leastRequestCountsARampingBackendsWeightTimesF() {
        Pool pool = Pool.ofEqual(3).cameBack("c", RAMP);
        LeastRequestBalancer lb = new LeastRequestBalancer(pool.backends, new Panic(), new SplittableRandom(3));

        double start = share(Pool.closedLoop(lb, 30, 9000, new SplittableRandom(4)), "c");
        pool.clock.advance(Duration.ofSeconds(15));
        double half = share(Pool.closedLoop(lb, 30, 9000, new SplittableRandom(5)), "c");
        pool.clock.advance(Duration.ofSeconds(15));
        double end = share(Pool.closedLoop(lb, 30, 9000, new SplittableRandom(6)), "c");

        assertThat(start).as("f = 0.1 under load: a few percent").isLessThan(0.08);
        assertThat(half).as("f = 0.5").isBetween(0.12, 0.27);
        assertThat(end).as("a third once the ramp is over").isBetween(0.30, 0.37);
    }

    @Test
    void ewmaCountsARampingBackendsWeightTimesF() {
        Pool pool = Pool.ofEqual(2).cameBack("b", RAMP);
        pool.get("a").recordResponse(200, 20_000_000);
        pool.get("b").recordResponse(200, 10_000_000);
        EwmaBalancer lb = new EwmaBalancer(pool.backends, new Panic(), new SplittableRandom(7));
        assertThat(Pool.name(lb.pick(List.of()))).as("b is faster but ramping: 10 ms / 0.1 > 20 ms").isEqualTo("a");
        pool.clock.advance(RAMP);
        assertThat(Pool.name(lb.pick(List.of()))).isEqualTo("b");
    }

    @Test
    void boundedHashGivesARampingBackendThatShareOfItsCapacity() {
        Pool pool = Pool.ofEqual(3).cameBack("c", RAMP);
        HashBalancer lb = new HashBalancer(pool.backends, BalanceConfig.HashKey.URI, 1.25, new Panic(), null);
        for (int i = 0; i < 300; i++) {
            lb.pick(List.of(), HashKeys.hash("/k" + (i % 7))).onRequestStart();
        }
        int bound = (int) Math.ceil(1.25 * 300 * 0.1 / 2.1);
        assertThat(pool.get("c").inFlight()).as("capacity at f = 0.1: ceil(1.25 × 300 × 0.1/2.1) = %d", bound)
                .isLessThanOrEqualTo(bound);
    }

    @Test
    void unboundedHashKeepsAGrowingFractionOfARampingBackendsKeys() {
        Pool pool = Pool.ofEqual(3);
        HashBalancer lb = new HashBalancer(pool.backends, BalanceConfig.HashKey.URI, 0, new Panic(), null);
        List<Long> cKeys = new java.util.ArrayList<>();
        for (int i = 0; cKeys.size() < 3000; i++) {
            long k = HashKeys.hash("/k" + i);
            if (lb.pick(List.of(), k) == pool.get("c")) {
                cKeys.add(k);
            }
        }
        pool.cameBack("c", RAMP);
        List<Long> keptAtStart = cKeys.stream().filter(k -> lb.pick(List.of(), k) == pool.get("c")).toList();
        pool.clock.advance(Duration.ofSeconds(15));
        List<Long> keptAtHalf = cKeys.stream().filter(k -> lb.pick(List.of(), k) == pool.get("c")).toList();

        assertThat(keptAtStart.size() / 3000.0).as("f = 0.1 of its keys").isBetween(0.07, 0.13);
        assertThat(keptAtHalf.size() / 3000.0).as("f = 0.5").isBetween(0.45, 0.55);
        assertThat(keptAtHalf).as("a key that came back stays: no flip-flop while the ramp goes on")
                .containsAll(keptAtStart);
    }

    @Test
    void aRampingBackendAtItsInFlightCapIsPassedOverByEveryBalancer() {
        Pool pool = Pool.ofEqual(3).cameBack("c", RAMP).load("a", 10).load("b", 10);
        List<LoadBalancer> balancers = List.of(
                new RoundRobinBalancer(pool.backends, new Panic(), new SplittableRandom(3)),
                new SmoothWeightedBalancer(pool.backends, new Panic()),
                new LeastRequestBalancer(pool.backends, new Panic(), new SplittableRandom(4)),
                new EwmaBalancer(pool.backends, new Panic(), new SplittableRandom(5)));

        pool.load("c", 1);
        for (LoadBalancer lb : balancers) {
            assertThat(Pool.count(600, () -> lb.pick(List.of()))).as(lb.policy()
                    + ": f = 0.1 of the others' 10 in flight rounds up to a cap of 1, and c holds one request")
                    .doesNotContainKey("c");
            assertThat(Pool.count(50, () -> lb.pick(pool.tried("a", "b")))).as(lb.policy()
                    + ": at its cap, but the only one left: still picked, never a 502 for it")
                    .containsOnly(Map.entry("c", 50));
        }

        pool.get("c").onRequestEnd();
        assertThat(Pool.count(600, () -> balancers.get(0).pick(List.of()))).as("it answered: turns again")
                .containsKey("c");

        pool.clock.advance(Duration.ofSeconds(15));
        pool.load("c", 4);
        assertThat(SlowStart.full(pool.get("c"), pool.backends.toArray(new Backend[0])))
                .as("f = 0.5: cap ceil(0.5 x 20 / 2) = 5, 4 in flight").isFalse();
        pool.load("c", 1);
        assertThat(SlowStart.full(pool.get("c"), pool.backends.toArray(new Backend[0]))).as("5 in flight")
                .isTrue();
        pool.clock.advance(RAMP);
        assertThat(SlowStart.full(pool.get("c"), pool.backends.toArray(new Backend[0])))
                .as("the ramp is over: no cap").isFalse();
    }

    @Test
    void aBackendBothCoolingDownAndDownByItsChecksComesBackOnceWithOneRamp() {
        Pool pool = Pool.ofEqual(3);
        pool.backends.forEach(b -> b.slowStart(RAMP));
        Backend a = pool.get("a");
        Backend b = pool.get("b");
        for (Backend x : List.of(a, b)) {
            for (int i = 0; i < 3; i++) {
                x.recordFailure(new ConnectException("Connection refused"));
            }
            x.markActivelyDown(3, "connection refused");
        }
        pool.clock.advance(Duration.ofSeconds(4));
        a.activeCheckPassed();
        a.activeCheckPassed();
        assertThat(a.isAvailable()).as("a: its cooldown ended by passing checks, but it is DOWN by them").isFalse();
        pool.clock.advance(Duration.ofSeconds(10)); // b: its 10 s cooldown has run out while it was DOWN
        a.markActivelyUp(2);
        b.markActivelyUp(2);
        pool.clock.advance(Duration.ofSeconds(3));
        for (Backend x : List.of(a, b)) {
            assertThat(x.isAvailable()).isTrue();
            assertThat(x.rampFactor()).as(x + ": one ramp, begun at the UP 3 s ago, not again at a later look")
                    .isEqualTo(0.1);
        }
        pool.clock.advance(Duration.ofSeconds(12));
        assertThat(a.rampFactor()).isCloseTo(0.5, within(1e-9));
        assertThat(b.rampFactor()).isCloseTo(0.5, within(1e-9));
        for (String label : List.of("127.0.0.1:9001", "127.0.0.1:9002")) {
            assertThat(log.about(label)).as(label + ": one line saying it is back, and ramps")
                    .filteredOn(m -> m.contains("UP") || m.contains("back in rotation")).hasSize(1)
                    .allMatch(m -> m.endsWith("; slow start over 30 s"));
        }
    }

    private static double share(Map<String, Integer> picks, String letter) {
        int total = picks.values().stream().mapToInt(Integer::intValue).sum();
        return picks.getOrDefault(letter, 0) / (double) total;
    }

    private static BackendConfig at(int port) {
        return new BackendConfig("127.0.0.1", port, 1);
    }
}
