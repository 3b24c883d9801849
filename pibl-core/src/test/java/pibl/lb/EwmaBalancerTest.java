package pibl.lb;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Peak-EWMA estimates and the ewma balancer's picks, with the clock moved by hand. */
class EwmaBalancerTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    private static EwmaBalancer balancer(Pool pool, long seed) {
        return new EwmaBalancer(pool.backends, new Panic(), new SplittableRandom(seed));
    }

    /** {@code n} answers of {@code status} after {@code millis}, one every 100 ms of the pool's clock. */
    private static void answers(Pool pool, String letter, int n, int status, long millis) {
        for (int i = 0; i < n; i++) {
            pool.get(letter).recordResponse(status, millis * MS);
            pool.clock.advance(Duration.ofMillis(100));
        }
    }

    @Test
    void theEstimateJumpsToAPeakAndForgetsItOverTheDecayTime() {
        PeakEwma e = new PeakEwma();
        long t = 0;
        assertThat(e.read(t)).as("nothing yet").isZero();
        e.observe(20 * MS, t);
        assertThat(e.read(t)).isEqualTo(20.0 * MS);
        e.observe(900 * MS, t += 1000 * MS);
        assertThat(e.read(t)).as("a slower answer replaces the estimate at once").isEqualTo(900.0 * MS);
        assertThat(e.read(t + 10_000 * MS) / MS).as("10 s without answers: decayed by e")
                .isCloseTo(900 / Math.E, within(0.5));
        e.observe(10 * MS, t += 1000 * MS);
        assertThat(e.read(t) / MS).as("a faster answer 1 s later moves it by 1 - e^(-0.1) of the way")
                .isCloseTo(900 * Math.exp(-0.1) + 10 * (1 - Math.exp(-0.1)), within(0.01));
    }

    @Test
    void aFailureCostsAtLeastASecondAndDoublesWhileFailuresGoOn() {
        PeakEwma e = new PeakEwma();
        e.observe(MS, 0);
        e.penalize(MS, 0);
        assertThat(e.read(0)).as("a 503 in 1 ms counts as 1 s").isEqualTo(1000.0 * MS);
        e.penalize(0, 0);
        assertThat(e.read(0)).as("the next failure doubles it").isEqualTo(2000.0 * MS);
        for (int i = 0; i < 10; i++) {
            e.penalize(0, 0);
        }
        assertThat(e.read(0)).as("up to 30 s").isEqualTo(30_000.0 * MS);
    }

    @Test
    void aSlowBackendGetsNothingWhileTheOthersAreFast() {
        Pool pool = Pool.ofEqual(3);
        answers(pool, "a", 5, 200, 5);
        answers(pool, "b", 5, 200, 200);
        answers(pool, "c", 5, 200, 5);
        EwmaBalancer lb = balancer(pool, 1);

        Map<String, Integer> picks = Pool.count(1000, () -> lb.pick(List.of()));

        assertThat(picks).as("200 ms against 5 ms: b loses every draw").doesNotContainKey("b");
        assertThat(picks.get("a") + picks.get("c")).isEqualTo(1000);
    }

    @Test
    void inFlightRequestsMultiplyTheLatency() {
        Pool pool = Pool.ofEqual(2);
        answers(pool, "a", 3, 200, 10);
        answers(pool, "b", 3, 200, 30);
        pool.load("a", 5);
        EwmaBalancer lb = balancer(pool, 2);
        assertThat(Pool.name(lb.pick(List.of()))).as("a: 10 ms × 6 = 60 > b: 30 ms × 1").isEqualTo("b");
    }

    @Test
    void aBackendFailingFastDoesNotAttractTraffic() {
        Pool pool = Pool.ofEqual(3);
        answers(pool, "a", 5, 200, 20);
        answers(pool, "b", 5, 503, 1);
        answers(pool, "c", 5, 200, 20);
        EwmaBalancer lb = balancer(pool, 3);

        Map<String, Integer> picks = Pool.count(1000, () -> lb.pick(List.of()));

        assertThat(picks).as("b answers 503 in 1 ms: its estimate is a failure's penalty, not 1 ms")
                .doesNotContainKey("b");
    }

    @Test
    void refusedConnectionsArePenalisedToo() {
        Pool pool = Pool.ofEqual(2);
        answers(pool, "a", 3, 200, 50);
        pool.get("b").recordFailure(new java.net.ConnectException("Connection refused"));
        EwmaBalancer lb = balancer(pool, 4);
        assertThat(Pool.count(200, () -> lb.pick(List.of()))).containsOnlyKeys("a");
    }

    @Test
    void aSlowBackendLeftAloneIsTriedAgainOnceItsEstimateHasDecayed() {
        Pool pool = Pool.ofEqual(2);
        answers(pool, "a", 1, 200, 500);
        answers(pool, "b", 1, 200, 20);
        EwmaBalancer lb = balancer(pool, 5);
        assertThat(Pool.name(lb.pick(List.of()))).isEqualTo("b");

        answers(pool, "b", 400, 200, 20); // 40 s of b answering while a is idle: a's 500 ms decays to 9 ms
        assertThat(pool.get("a").latencyEstimateNanos() / MS).isLessThan(10);
        assertThat(pool.get("b").latencyEstimateNanos() / MS).isCloseTo(20, within(0.5));
        assertThat(Pool.name(lb.pick(List.of()))).as("a gets a request again: the probe that can clear its name")
                .isEqualTo("a");
    }

    @Test
    void aBackendWithoutAnswersGetsAFirstRequestNotABurst() {
        Pool pool = Pool.ofEqual(2);
        answers(pool, "a", 3, 200, 50);
        EwmaBalancer lb = balancer(pool, 6);
        assertThat(Pool.name(lb.pick(List.of()))).as("b idle and unknown: free").isEqualTo("b");
        pool.load("b", 1);
        assertThat(Pool.name(lb.pick(List.of())))
                .as("b still unknown with a request open: a failure's penalty per request, a wins").isEqualTo("a");
    }

    @Test
    void panicAndTriedFollowTheRoundRobinRules() {
        Pool pool = Pool.ofEqual(3);
        EwmaBalancer lb = balancer(pool, 7);
        assertThat(Pool.count(100, () -> lb.pick(pool.tried("b")))).doesNotContainKey("b");
        pool.down("a");
        assertThat(Pool.count(100, () -> lb.pick(pool.tried("b")))).containsOnlyKeys("c");
        assertThat(lb.pick(pool.tried("b", "c"))).as("tried ones in rotation: no panic").isNull();
        pool.down("b", "c");
        assertThat(Pool.count(300, () -> lb.pick(List.of()))).containsOnlyKeys("a", "b", "c");
        assertThat(lb.panic().requests()).isEqualTo(300);
    }
}
