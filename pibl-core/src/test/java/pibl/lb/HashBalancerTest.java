package pibl.lb;

import org.junit.jupiter.api.Test;
import pibl.config.BalanceConfig.HashKey;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The ring, its stability when a backend leaves, and the bounded loads, with fake in-flight counts. */
class HashBalancerTest {
    private static final HashKey URI = HashKey.URI;
    private static final int KEYS = 10_000;

    private static HashBalancer ring(List<Backend> backends, double boundedLoad) {
        return new HashBalancer(backends, URI, boundedLoad, new Panic(), new SplittableRandom(1));
    }

    private static long key(int i) {
        return HashKeys.hash("/item/" + i);
    }

    @Test
    void aKeyKeepsItsBackend() {
        Pool pool = Pool.ofEqual(5);
        HashBalancer lb = ring(pool.backends, 1.25);
        long k = HashKeys.hash("user-42");
        Backend first = lb.pick(List.of(), k);
        for (int i = 0; i < 1000; i++) {
            assertThat(lb.pick(List.of(), k)).isSameAs(first);
        }
    }

    @Test
    void keysSpreadEvenlyAndByWeight() {
        Pool equal = Pool.ofEqual(5);
        HashBalancer lb = ring(equal.backends, 0);
        Map<String, Integer> owners = Pool.count(KEYS, new KeySource(lb));
        assertThat(owners.values()).as("about a fifth each").allSatisfy(n -> assertThat(n).isBetween(1600, 2400));

        Pool weighted = new Pool(3, 1, 1);
        HashBalancer w = ring(weighted.backends, 0);
        assertThat(w.points()).isEqualTo(5 * HashBalancer.POINTS_PER_WEIGHT);
        Map<String, Integer> share = Pool.count(KEYS, new KeySource(w));
        assertThat(share.get("a")).as("weight 3 of 5: three fifths of the keys").isBetween(5400, 6600);
    }

    @Test
    void aBackendLeavingMovesOnlyItsOwnKeys() {
        Pool pool = Pool.ofEqual(5);
        HashBalancer five = ring(pool.backends, 1.25);
        List<Backend> withoutC = new ArrayList<>(pool.backends);
        withoutC.remove(pool.get("c"));
        HashBalancer four = ring(withoutC, 1.25); // a reload: the ring rebuilt from the remaining addresses

        int moved = 0;
        for (int i = 0; i < KEYS; i++) {
            Backend before = five.pick(List.of(), key(i));
            Backend after = four.pick(List.of(), key(i));
            if (before != pool.get("c")) {
                assertThat(after).as("key %d was on %s, which stayed", i, Pool.name(before)).isSameAs(before);
            } else {
                moved++;
            }
        }
        assertThat(moved / (double) KEYS).as("the moved keys are c's: about a fifth").isBetween(0.15, 0.25);
    }

    @Test
    void aBackendOutOfRotationOrTriedHandsItsKeysToTheNextOnTheRing() {
        Pool pool = Pool.ofEqual(5);
        HashBalancer five = ring(pool.backends, 1.25);
        List<Backend> withoutC = new ArrayList<>(pool.backends);
        withoutC.remove(pool.get("c"));
        HashBalancer four = ring(withoutC, 1.25);

        for (int i = 0; i < 2000; i++) {
            assertThat(five.pick(pool.tried("c"), key(i))).as("a retry after c failed goes where c's absence would")
                    .isSameAs(four.pick(List.of(), key(i)));
        }
        pool.down("c");
        for (int i = 0; i < 2000; i++) {
            assertThat(five.pick(List.of(), key(i))).isSameAs(four.pick(List.of(), key(i)));
        }
    }

    @Test
    void aHotKeySpillsOverSoNoBackendExceedsTheBound() {
        Pool pool = Pool.ofEqual(5);
        HashBalancer lb = ring(pool.backends, 1.25);
        long hot = HashKeys.hash("/the-front-page");
        Backend home = lb.pick(List.of(), hot);
        for (int placed = 1; placed <= 500; placed++) {
            lb.pick(List.of(), hot).onRequestStart(); // every request of the hot key still open
            int bound = (int) Math.ceil(1.25 * placed / 5);
            for (Backend b : pool.backends) {
                assertThat(b.inFlight()).as("%d requests open: %s within ceil(1.25 × average) = %d", placed,
                        Pool.name(b), bound).isLessThanOrEqualTo(bound);
            }
        }
        assertThat(home.inFlight()).as("the key's own backend is kept full").isEqualTo((int) Math.ceil(1.25 * 100));

        Pool unbounded = Pool.ofEqual(5);
        HashBalancer plain = ring(unbounded.backends, 0);
        for (int i = 0; i < 500; i++) {
            plain.pick(List.of(), hot).onRequestStart();
        }
        assertThat(unbounded.backends).as("bounded-load 0: plain consistent hashing, one backend takes it all")
                .filteredOn(b -> b.inFlight() == 500).hasSize(1);
    }

    @Test
    void theBoundCountsWeights() {
        Pool pool = new Pool(3, 1);
        HashBalancer lb = ring(pool.backends, 1.0);
        long hot = HashKeys.hash("/hot");
        for (int i = 0; i < 400; i++) {
            lb.pick(List.of(), hot).onRequestStart();
        }
        assertThat(pool.get("a").inFlight()).as("bound 1.0: exactly the weight's share, 3/4 of 400")
                .isBetween(299, 301);
    }

    @Test
    void withoutAKeyTheLeastLoadedOfTwoWins() {
        Pool pool = Pool.ofEqual(3).load("a", 20).load("b", 20);
        HashBalancer lb = ring(pool.backends, 1.25);
        Map<String, Integer> picks = Pool.count(600, () -> lb.pick(List.of(), HashKeys.NONE));
        assertThat(picks.get("c")).as("c is idle: it wins every draw it is in (two thirds)").isBetween(340, 460);
    }

    @Test
    void inPanicAKeyStillGoesToItsOwnBackend() {
        Pool pool = Pool.ofEqual(3);
        HashBalancer lb = ring(pool.backends, 1.25);
        long k = key(7);
        Backend home = lb.pick(List.of(), k);
        pool.down("a", "b", "c");
        for (int i = 0; i < 10; i++) {
            assertThat(lb.pick(List.of(), k)).as("every backend out: affinity holds").isSameAs(home);
        }
        Backend next = lb.pick(List.of(home), k);
        assertThat(next).as("a retry in panic: the next untried one").isNotNull().isNotSameAs(home);
        assertThat(lb.pick(pool.backends, k)).as("all tried").isNull();
        assertThat(lb.panic().requests()).isEqualTo(11);
    }

    @Test
    void aTriedBackendInRotationMeansNoPanic() {
        Pool pool = Pool.ofEqual(3).down("b", "c");
        HashBalancer lb = ring(pool.backends, 1.25);
        assertThat(lb.pick(List.of(), key(1))).isSameAs(pool.get("a"));
        assertThat(lb.pick(pool.tried("a"), key(1))).as("a failed this request; b and c are out").isNull();
        assertThat(lb.panic().requests()).isZero();
    }

    /** Key i for the i-th call: who owns each of a run of keys. */
    private static final class KeySource implements java.util.function.Supplier<Backend> {
        private final HashBalancer lb;
        private int i;

        KeySource(HashBalancer lb) {
            this.lb = lb;
        }

        @Override
        public Backend get() {
            return lb.pick(List.of(), key(i++));
        }
    }
}
