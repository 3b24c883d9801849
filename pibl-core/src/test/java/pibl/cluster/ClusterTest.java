package pibl.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pibl.config.BackendConfig;
import pibl.config.ClusterConfig;
import pibl.config.ConfigException;
import pibl.lb.Backend;

import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Rendezvous ownership: spread, stability, and what moves when a node leaves and returns. */
class ClusterTest {
    private static final int KEYS = 30_000;

    private final java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong(1);

    private Cluster fleet(int n) {
        List<BackendConfig> peers = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            peers.add(BackendConfig.parse("10.0.1." + (10 + i) + ":8080"));
        }
        return new Cluster(new ClusterConfig(peers.get(0), peers, Path.of("unused")),
                "0123456789abcdef".getBytes(StandardCharsets.US_ASCII), () -> 0, nanos::get);
    }

    private static Map<Long, Backend> owners(Cluster c) {
        Map<Long, Backend> owners = new HashMap<>();
        for (int i = 0; i < KEYS; i++) {
            long key = Cluster.key("shop.example", "/item/" + i);
            owners.put(key, c.owner(key));
        }
        return owners;
    }

    @Test
    void selfIsAddedToThePeersAndEveryNodeOwnsAboutItsShare() {
        Cluster c = new Cluster(new ClusterConfig(BackendConfig.parse("10.0.1.10:8080"),
                List.of(BackendConfig.parse("10.0.1.11:8080"), BackendConfig.parse("10.0.1.12:8080")),
                Path.of("unused")), "0123456789abcdef".getBytes(StandardCharsets.US_ASCII), () -> 0);
        assertThat(c.nodes()).extracting(Backend::label)
                .containsExactly("10.0.1.11:8080", "10.0.1.12:8080", "10.0.1.10:8080");
        assertThat(c.isSelf(c.nodes().get(2))).as("added last: the file's peers[i] keep their places").isTrue();

        Map<Backend, Integer> share = new HashMap<>();
        owners(c).values().forEach(b -> share.merge(b, 1, Integer::sum));
        assertThat(share.values()).as("a third each, within a few percent")
                .allSatisfy(n -> assertThat(n).isBetween(KEYS / 3 - 600, KEYS / 3 + 600));
    }

    @Test
    void aNodeOutOfRotationGivesUpOnlyItsOwnKeysAndGetsThemBack() throws Exception {
        Cluster c = fleet(3);
        Map<Long, Backend> before = owners(c);
        assertThat(owners(c)).as("the same owners every time").isEqualTo(before);

        Backend leaving = c.nodes().get(2);
        leaving.recordSuccess(); // it served: what follows is a comeback
        for (int i = 0; i < 3; i++) {
            leaving.recordFailure(new ConnectException("Connection refused")); // the passive checks take it out
        }
        assertThat(leaving.isAvailable()).isFalse();
        Map<Long, Backend> during = owners(c);
        int moved = 0;
        for (Map.Entry<Long, Backend> e : before.entrySet()) {
            Backend now = during.get(e.getKey());
            if (e.getValue() == leaving) {
                assertThat(now).isNotSameAs(leaving);
                moved++;
            } else {
                assertThat(now).as("a key of a node that stayed keeps its owner").isSameAs(e.getValue());
            }
        }
        assertThat(moved).as("about a third of the keys move: the leaving node's").isBetween(KEYS / 3 - 600,
                KEYS / 3 + 600);
        Map<Backend, Integer> heirs = new HashMap<>();
        before.forEach((k, b) -> {
            if (b == leaving) {
                heirs.merge(during.get(k), 1, Integer::sum);
            }
        });
        int third = moved / 3;
        assertThat(heirs.values()).as("its keys spread over both others, not dumped on one").hasSize(2)
                .allSatisfy(n -> assertThat(n).isGreaterThan(third));

        leaving.answeredInPanic(); // back in rotation: its 30 s slow start begins
        Map<Long, Backend> ramping = owners(c);
        long back = before.entrySet().stream()
                .filter(e -> e.getValue() == leaving && ramping.get(e.getKey()) == leaving).count();
        assertThat(back).as("a tenth of its keys at first").isBetween(moved / 10 - 200L, moved / 10 + 200L);
        assertThat(ramping.values()).as("and no key of another node").filteredOn(b -> b == leaving)
                .hasSize((int) back);
        nanos.addAndGet(java.time.Duration.ofSeconds(15).toNanos());
        Map<Long, Backend> half = owners(c);
        assertThat(before.entrySet().stream().filter(e -> e.getValue() == leaving && half.get(e.getKey()) == leaving)
                .count()).as("half of them halfway").isBetween(moved / 2 - 300L, moved / 2 + 300L);
        assertThat(half.entrySet()).as("those it had back at first it keeps: no key flips")
                .allSatisfy(e -> {
                    if (ramping.get(e.getKey()) == leaving) {
                        assertThat(e.getValue()).isSameAs(leaving);
                    }
                });
        nanos.addAndGet(java.time.Duration.ofSeconds(15).toNanos());
        assertThat(owners(c)).as("the ramp over, it has exactly its keys back").isEqualTo(before);
    }

    @Test
    void theOwnersBalancerTriesTheNextNodeInRendezvousOrderAndThisNodeIsAlwaysInRotation() {
        Cluster c = fleet(3);
        Backend self = c.self();
        for (Backend b : c.nodes()) {
            if (b != self) {
                for (int i = 0; i < 3; i++) {
                    b.recordFailure(new ConnectException("Connection refused"));
                }
            }
        }
        long key = Cluster.key("shop.example", "/x");
        assertThat(c.owner(key)).as("every peer out: this node serves every key itself").isSameAs(self);

        Cluster fresh = fleet(3);
        Backend first = fresh.balancer().pick(List.of(), key);
        Backend second = fresh.balancer().pick(List.of(first), key);
        Backend third = fresh.balancer().pick(List.of(first, second), key);
        assertThat(first).isSameAs(fresh.owner(key));
        assertThat(List.of(first, second, third)).doesNotHaveDuplicates();
        assertThat(fresh.balancer().pick(List.of(first, second, third), key)).as("none left").isNull();
    }

    private static List<BackendConfig> addresses(int n) {
        List<BackendConfig> peers = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            peers.add(BackendConfig.parse("10.0.1." + (10 + i) + ":8080"));
        }
        return peers;
    }

    @Test
    void aReloadKeepsTheNodesThatStayAndMovesOnlyTheKeysOfTheNodeThatLeavesOrJoins(@TempDir Path dir)
            throws Exception {
        Path secret = Files.writeString(dir.resolve("cluster.key"), "0123456789abcdef\n");
        Cluster c = fleet(3);
        List<Backend> first = c.nodes();
        first.get(1).recordFailure(new ConnectException("Connection refused")); // a count to see carried over
        Map<Long, Backend> before = owners(c);

        List<BackendConfig> four = addresses(4);
        c.reconfigure(new ClusterConfig(four.get(0), four, secret));
        assertThat(c.nodes()).hasSize(4);
        assertThat(c.nodes().subList(0, 3)).as("the nodes that stay are the same objects")
                .containsExactlyElementsOf(first);
        assertThat(c.nodes().get(1).failures()).as("with their counters").isEqualTo(1);
        assertThat(c.self()).isSameAs(first.get(0));
        Backend joined = c.nodes().get(3);
        assertThat(joined.rampFactor()).as("a node that joins starts its slow start").isLessThan(0.2);

        nanos.addAndGet(java.time.Duration.ofSeconds(31).toNanos()); // its ramp over
        Map<Long, Backend> after = owners(c);
        int moved = 0;
        for (Map.Entry<Long, Backend> e : before.entrySet()) {
            Backend now = after.get(e.getKey());
            if (now != e.getValue()) {
                assertThat(now).as("a key that moves goes to the node that joined, nowhere else").isSameAs(joined);
                moved++;
            }
        }
        assertThat(moved).as("about a quarter of the keys").isBetween(KEYS / 4 - 600, KEYS / 4 + 600);

        c.reconfigure(new ClusterConfig(four.get(0), four.subList(0, 3), secret));
        assertThat(joined.retired()).as("the node that left: its idle connections are closed").isTrue();
        assertThat(owners(c)).as("it leaves: every key is back with its owner of before").isEqualTo(before);
        assertThat(c.shares()).extracting(Cluster.Share::node).containsExactlyElementsOf(first);
    }

    @Test
    void aReloadWithASecretFileThatCannotBeUsedChangesNothing(@TempDir Path dir) throws Exception {
        Cluster c = fleet(3);
        List<Backend> first = c.nodes();
        Path tooShort = Files.writeString(dir.resolve("short.key"), "short\n");
        List<BackendConfig> two = addresses(2);
        assertThatThrownBy(() -> c.reconfigure(new ClusterConfig(two.get(0), two, tooShort)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("cluster.secret-file");
        assertThat(c.nodes()).as("the fleet in force stays").containsExactlyElementsOf(first);
        assertThat(first.get(2).retired()).isFalse();
    }

    @Test
    void aNodeOutBeforeItEverServedJoinsAtItsFullShareWhenItComes() {
        Cluster c = fleet(3);
        Map<Long, Backend> before = owners(c);
        Backend late = c.nodes().get(2); // not listening yet when this node started
        for (int i = 0; i < 3; i++) {
            late.recordFailure(new ConnectException("Connection refused"));
        }
        assertThat(late.isAvailable()).isFalse();
        late.answeredInPanic(); // there now
        assertThat(late.rampFactor()).as("no slow start: it never left, it was never there").isEqualTo(1.0);
        assertThat(owners(c)).as("all its keys at once").isEqualTo(before);
    }

    @Test
    void everySpellingOfAUrlAndBothItsSchemesHaveOneOwner() {
        long key = Cluster.key("shop.example", "/a?b=1");
        assertThat(Cluster.key("Shop.Example:80", "/a?b=1")).isEqualTo(key);
        assertThat(Cluster.key("ignored", "http://SHOP.example/a?b=1")).as("absolute form").isEqualTo(key);
        assertThat(Cluster.key(pibl.cache.CacheKey.of("https", "shop.example:443", "/a?b=1"))).isEqualTo(key);
        assertThat(Cluster.key(pibl.cache.CacheKey.of("https", "shop.example", "/a?b=1"))).isEqualTo(key);
        assertThat(Cluster.key("shop.example", "/a?b=2")).isNotEqualTo(key);
    }
}
