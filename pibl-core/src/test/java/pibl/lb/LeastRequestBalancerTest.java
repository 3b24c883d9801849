package pibl.lb;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** Power of two choices on in-flight requests, with fake counts and a seeded random. */
class LeastRequestBalancerTest {

    private static LeastRequestBalancer balancer(Pool pool, long seed) {
        return new LeastRequestBalancer(pool.backends, new Panic(), new SplittableRandom(seed));
    }

    @Test
    void theLessLoadedOfTwoDrawnWins() {
        Pool pool = Pool.ofEqual(3).load("a", 10).load("c", 5);
        LeastRequestBalancer lb = balancer(pool, 1);

        Map<String, Integer> picks = Pool.count(3000, () -> lb.pick(List.of()));

        assertThat(picks).as("a, the busiest, loses every draw it is in").doesNotContainKey("a");
        assertThat(picks.get("b")).as("b (idle) wins both draws it is in: two thirds")
                .isBetween(1850, 2150);
        assertThat(picks.get("c")).as("c wins only against a").isBetween(850, 1150);
    }

    @Test
    void aloneInItsDrawTheOnlyCandidateIsThePick() {
        Pool pool = Pool.ofEqual(2).load("a", 100);
        LeastRequestBalancer lb = balancer(pool, 2);
        assertThat(Pool.name(lb.pick(pool.tried("b")))).as("b tried: a is the only candidate").isEqualTo("a");
    }

    @Test
    void weightsShareTheLoadAsWeightOverInFlightPlusOne() {
        Pool pool = new Pool(3, 1);
        LeastRequestBalancer lb = balancer(pool, 3);

        Map<String, Integer> picks = Pool.closedLoop(lb, 40, 20_000, new SplittableRandom(4));

        double ratio = picks.get("a") / (double) picks.get("b");
        assertThat(ratio).as("with 40 requests open, weight 3 holds about three times the requests of weight 1")
                .isBetween(2.5, 3.7);
    }

    @Test
    void equalWeightsUnderLoadShareEvenly() {
        Pool pool = Pool.ofEqual(3);
        LeastRequestBalancer lb = balancer(pool, 5);
        Map<String, Integer> picks = Pool.closedLoop(lb, 30, 9000, new SplittableRandom(6));
        assertThat(picks.values()).allSatisfy(n -> assertThat(n).isBetween(2700, 3300));
    }

    @Test
    void triedAndOutOfRotationBackendsAreSkipped() {
        Pool pool = Pool.ofEqual(3).load("c", 50).down("b");
        LeastRequestBalancer lb = balancer(pool, 7);

        assertThat(Pool.count(200, () -> lb.pick(List.of()))).as("b is down: a and c only, a mostly")
                .doesNotContainKey("b").containsKeys("a");
        assertThat(Pool.count(200, () -> lb.pick(pool.tried("a")))).as("a failed this request; b is down")
                .containsOnlyKeys("c");
        assertThat(lb.pick(pool.tried("a", "c"))).as("the only one in rotation tried: no panic, nothing left")
                .isNull();
        assertThat(lb.panic().requests()).isZero();
    }

    @Test
    void inPanicEveryUntriedBackendIsDrawnWhateverItsHealth() {
        Pool pool = Pool.ofEqual(3).down("a", "b", "c");
        LeastRequestBalancer lb = balancer(pool, 8);

        assertThat(Pool.count(300, () -> lb.pick(List.of()))).as("every backend out: all of them still get requests")
                .containsOnlyKeys("a", "b", "c");
        assertThat(Pool.count(100, () -> lb.pick(pool.tried("a")))).as("a retry in panic: an untried one")
                .containsOnlyKeys("b", "c");
        assertThat(lb.pick(pool.tried("a", "b", "c"))).as("all tried").isNull();
        assertThat(lb.panic().requests()).as("every pick but the null one counted in panic").isEqualTo(400);
    }
}
