package pibl.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.config.BackendConfig;
import pibl.config.ClusterConfig;
import pibl.config.PiblConfig;
import pibl.config.TlsConfig;
import pibl.lb.Backend;
import pibl.server.ProxyServer;
import pibl.testing.Closer;
import pibl.testing.Eventually;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;
import pibl.testing.TestCertificates;
import pibl.testing.TestClock;
import pibl.testing.TlsClient;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three PIBL nodes on loopback in one fleet, one origin behind them: each cacheable key is fetched and stored by
 * its owner alone, whichever node the client reaches.
 */
@ExtendWith(NoLeaks.class)
class ClusterIT {
    @TempDir
    Path dir;

    private final Closer closer = new Closer();
    private final List<ProxyServer> nodes = new ArrayList<>();
    private final List<PiblConfig> configs = new ArrayList<>();
    private final TestClock clock = new TestClock();
    private TestBackend origin;

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
    }

    /** Three nodes on ports picked now, each with its own cache directory, all with the same secret. */
    private void startFleet() throws Exception {
        startFleet(null);
    }

    /** As {@link #startFleet()}, with {@code hotCopy} (null: none) and the caches on {@link #clock}. */
    private void startFleet(ClusterConfig.HotCopy hotCopy) throws Exception {
        startFleet(hotCopy, null);
    }

    /** As {@link #startFleet(ClusterConfig.HotCopy)}, each node also listening for TLS as {@code tls} says. */
    private void startFleet(ClusterConfig.HotCopy hotCopy, TlsConfig tls) throws Exception {
        origin = closer.track(TestBackend.start("origin"));
        origin.behave((ctx, req, b) -> {
            String uri = req.uri();
            req.release();
            FullHttpResponse r = b.named(HttpResponseStatus.OK, "body of " + uri);
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, uri.startsWith("/private") ? "private" : "max-age=600");
            if (uri.startsWith("/item/")) {
                r.headers().set("Surrogate-Key", "items");
            }
            ctx.writeAndFlush(r);
        });
        Path secret = Files.writeString(dir.resolve("cluster.key"), "an-example-fleet-secret-0123\n");
        int[] ports = freePorts(3);
        List<BackendConfig> peers = new ArrayList<>();
        for (int port : ports) {
            peers.add(new BackendConfig("127.0.0.1", port));
        }
        for (int i = 0; i < 3; i++) {
            PiblConfig c = ProxyFixture.withCache(ProxyFixture.config(List.of(origin.address())),
                    dir.resolve("cache" + i), Duration.ZERO).withPort(ports[i])
                    .withCluster(new ClusterConfig(peers.get(i), peers, secret, hotCopy))
                    .withAdmin(new pibl.config.AdminConfig(i == 0, "127.0.0.1", 0));
            if (tls != null) {
                c = c.withTls(tls);
            }
            configs.add(c);
            nodes.add(closer.track(new ProxyServer(c, clock).start()));
        }
    }

    private static int[] freePorts(int n) throws IOException {
        int[] ports = new int[n];
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                held.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        return ports;
    }

    private static RawHttp.Response get(ProxyServer node, String path, String... headers) throws IOException {
        try (RawHttp http = new RawHttp(node.port(), 5000)) {
            StringBuilder b = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: shop.example\r\n");
            for (String h : headers) {
                b.append(h).append("\r\n");
            }
            http.send(b.append("\r\n").toString());
            return http.read(false);
        }
    }

    /** The index in {@link #nodes} of the node owning {@code path}. */
    private int owner(String path) {
        Cluster c = nodes.get(0).cluster();
        Backend owner = c.owner(Cluster.key("shop.example", path));
        return c.nodes().indexOf(owner);
    }

    private long stored() {
        return nodes.stream().mapToLong(n -> n.cache().store().entryCount()).sum();
    }

    @Test
    void eachKeyIsFetchedAndStoredOnceWhicheverNodeTheClientReaches() throws Exception {
        startFleet();
        for (int i = 0; i < 12; i++) {
            String path = "/item/" + i;
            for (ProxyServer node : nodes) {
                RawHttp.Response r = get(node, path);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.bodyText()).isEqualTo("body of " + path);
            }
        }
        assertThat(origin.requestCount()).as("one fetch per key for the whole fleet, not one per node")
                .isEqualTo(12);
        assertThat(Eventually.atLeast(12, Duration.ofSeconds(5), this::stored)).as("stored by its owner only")
                .isEqualTo(12);

        String path = "/item/3";
        int owner = owner(path);
        ProxyServer other = nodes.get((owner + 1) % 3);
        assertThat(get(other, path).header("X-Cache")).as("the owner's HIT, through a node that stores nothing")
                .isEqualTo("HIT");
        assertThat(nodes.get(owner).cache().store().entryCount()).isGreaterThanOrEqualTo(1);
        assertThat(origin.received().get(0).headers().contains("PIBL-Peer"))
                .as("the mark between nodes never reaches a backend").isFalse();

        JsonNode status;
        try (RawHttp admin = new RawHttp(nodes.get(0).adminPort(), 5000)) {
            status = new ObjectMapper().readTree(admin.get("/status").body());
        }
        String metrics = scrape(nodes.get(0));
        JsonNode peers = status.get("peers");
        assertThat(peers).hasSize(3);
        double shares = 0;
        long sent = 0;
        long received = 0;
        for (JsonNode p : peers) {
            shares += p.get("keyShare").asDouble();
            sent += p.get("sent").asLong();
            received += p.get("received").asLong();
            assertThat(p.get("health").asText()).isEqualTo("up");
            assertThat(p.get("keyShare").asDouble()).as("about a third each").isBetween(0.25, 0.42);
        }
        assertThat(shares).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.01));
        assertThat(peers.get(0).get("self").asBoolean()).isTrue();
        assertThat(sent).as("node 0 sent every request for a key it does not own to its owner").isPositive();
        assertThat(received).as("and received the others' requests for its own keys").isPositive();
        assertThat(metrics).contains("pibl_cluster_requests_sent_total{peer=\"127.0.0.1:")
                .contains("pibl_cluster_key_share{peer=\"127.0.0.1:").contains("pibl_cluster_peer_up{peer=");
    }

    @Test
    void uncacheableRequestsAndAForgedMarkGetNoSpecialTreatment() throws Exception {
        startFleet();
        String path = "/private/a";
        int owner = owner(path);
        ProxyServer other = nodes.get((owner + 1) % 3);
        Backend ownerNode = other.cluster().nodes().get(owner);

        assertThat(get(other, path).status()).isEqualTo(200);
        long toOwner = ownerNode.requests();
        assertThat(toOwner).as("the first request could not know: it went to the owner").isEqualTo(1);
        assertThat(get(other, path).status()).isEqualTo(200);
        assertThat(ownerNode.requests()).as("a key the owner did not store: then straight to the backends")
                .isEqualTo(toOwner);
        long toPeers = other.cluster().nodes().stream().mapToLong(Backend::requests).sum();
        assertThat(get(other, "/item/x", "Authorization: Basic dTpw").status()).isEqualTo(200);
        assertThat(other.cluster().nodes().stream().mapToLong(Backend::requests).sum())
                .as("Authorization: straight to the backends, whoever owns the key").isEqualTo(toPeers);

        String forged = "v1 " + ownerNode.label() + " " + System.currentTimeMillis() / 1000 + " 192.0.2.66 AAAA";
        String target = "/item/forged";
        ProxyServer notOwner = nodes.get((owner(target) + 1) % 3);
        assertThat(get(notOwner, target, "PIBL-Peer: " + forged).status()).isEqualTo(200);
        TestBackend.Received seen = origin.received().get(origin.received().size() - 1);
        assertThat(seen.uri()).isEqualTo(target);
        assertThat(seen.headers().get("X-Forwarded-For")).as("the forged client is ignored; the mark stripped")
                .doesNotContain("192.0.2.66");
        assertThat(seen.headers().contains("PIBL-Peer")).isFalse();
        ProxyServer targetOwner = nodes.get(owner(target));
        assertThat(Eventually.atLeast(1, Duration.ofSeconds(5), () -> targetOwner.cache().store().entryCount()))
                .as("the request was still routed to its owner, which stores the answer once it has sent it")
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void whenTheOwnerIsGoneTheNextNodeInRendezvousOrderServesItsKeys() throws Exception {
        startFleet();
        String path = "/item/7";
        int owner = owner(path);
        ProxyServer receiver = nodes.get((owner + 1) % 3);
        assertThat(get(receiver, path).status()).isEqualTo(200);

        nodes.get(owner).close();
        for (int i = 0; i < 5; i++) {
            RawHttp.Response r = get(receiver, path);
            assertThat(r.status()).as("request " + i + " after the owner went away").isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("body of " + path);
        }
        assertThat(origin.requestCount()).as("fetched once more, by the key's next owner, then served from there")
                .isEqualTo(2);
    }

    @Test
    void aNodeThatStopsIsTakenOutByItsPeersChecksAndComesBackWhenItServesAgain() throws Exception {
        startFleet();
        Backend third = nodes.get(0).cluster().nodes().get(2);
        nodes.get(2).close();
        assertThat(Eventually.atLeast(1, Duration.ofSeconds(6), () -> third.isActivelyDown() ? 1 : 0))
                .as("out of rotation with no client request to it: two failed checks a second apart").isEqualTo(1);
        assertThat(third.requests()).as("no request was sent to find out").isZero();
        assertThat(nodes.get(0).cluster().nodes().get(1).isActivelyDown()).as("the live one stays in").isFalse();

        closer.track(new ProxyServer(configs.get(2)).start()); // the same node, on the same port, serving again
        assertThat(Eventually.atLeast(1, Duration.ofSeconds(6), () -> third.isActivelyDown() ? 0 : 1))
                .as("its checks pass again (answered by the node, not its backends): back, to a slow start")
                .isEqualTo(1);
        assertThat(origin.requestCount()).as("no check ever reached the backends").isZero();
    }

    @Test
    void aKeyAskedForOftenIsCopiedByTheReceivingNodeForTheCopiesTtlThenGoesBackToItsOwner() throws Exception {
        startFleet(new ClusterConfig.HotCopy(1 << 20, Duration.ofSeconds(5)));
        String path = "/item/hot";
        int owner = owner(path);
        ProxyServer other = nodes.get((owner + 1) % 3);
        Backend ownerNode = other.cluster().nodes().get(owner);
        int hot = pibl.cache.HotCopies.hotAfter(Duration.ofSeconds(5));
        assertThat(hot).as("10 a second over the 5 s").isEqualTo(50);
        for (int i = 1; i < hot; i++) {
            assertThat(get(other, path).status()).isEqualTo(200);
            assertThat(ownerNode.requests()).as("request " + i + ": not hot yet, to the owner").isEqualTo(i);
        }
        RawHttp.Response last = get(other, path);
        assertThat(last.bodyText()).isEqualTo("body of " + path);
        assertThat(ownerNode.requests()).as("the 50th: hot, fetched from the owner to be kept").isEqualTo(hot);
        assertThat(Eventually.atLeast(1, Duration.ofSeconds(5), () -> other.cache().store().entryCount()))
                .as("a copy on the receiving node").isEqualTo(1);
        for (int i = 0; i < 3; i++) {
            RawHttp.Response r = get(other, path);
            assertThat(r.header("X-Cache")).isEqualTo("HIT");
            assertThat(r.bodyText()).isEqualTo("body of " + path);
        }
        assertThat(ownerNode.requests()).as("served from the copy: the owner is not asked").isEqualTo(hot);
        assertThat(origin.requestCount()).as("the origin saw the key once, from its owner").isEqualTo(1);

        clock.advance(Duration.ofSeconds(6));
        assertThat(get(other, path).status()).isEqualTo(200);
        assertThat(ownerNode.requests()).as("past the copies' ttl (the owner's entry has 594 s left) the copy is"
                + " gone; the key was hot in the window before: a new copy at once, no new window counted first")
                .isEqualTo(hot + 1);
        assertThat(Eventually.atLeast(1, Duration.ofSeconds(5), () -> other.cache().store().entryCount()))
                .isEqualTo(1);
        assertThat(get(other, path).header("X-Cache")).as("then fresh again here").isEqualTo("HIT");
        assertThat(ownerNode.requests()).isEqualTo(hot + 1);

        clock.advance(Duration.ofSeconds(11));
        assertThat(get(other, path).status()).isEqualTo(200);
        assertThat(ownerNode.requests()).as("two quiet windows later the key is not hot, and has no copy: to the"
                + " owner").isEqualTo(hot + 2);

        purge(nodes.get(owner), path);
        assertThat(other.cache().store().entryCount()).as("a PURGE takes the copies too").isZero();
        assertThat(nodes.get(owner).cache().store().entryCount()).isZero();
    }

    private static RawHttp.Response purge(ProxyServer node, String path) throws IOException {
        try (RawHttp http = new RawHttp(node.port(), 5000)) {
            http.send("PURGE " + path + " HTTP/1.1\r\nHost: shop.example\r\n\r\n");
            return http.read(false);
        }
    }

    @Test
    void aPurgeByTagOrPrefixReachesEveryNodeAndCountsPerNode() throws Exception {
        startFleet();
        for (int i = 0; i < 9; i++) {
            assertThat(get(nodes.get(i % 3), "/item/" + i).status()).isEqualTo(200);
        }
        get(nodes.get(0), "/other");
        assertThat(Eventually.atLeast(10, Duration.ofSeconds(5), this::stored)).isEqualTo(10);
        long[] held = new long[3];
        for (int i = 0; i < 3; i++) {
            held[i] = nodes.get(i).cache().store().entryCount();
        }

        RawHttp.Response byTag;
        try (RawHttp http = new RawHttp(nodes.get(1).port(), 5000)) {
            http.send("PURGE / HTTP/1.1\r\nHost: shop.example\r\nSurrogate-Key: items\r\n\r\n");
            byTag = http.read(false);
        }
        assertThat(byTag.status()).isEqualTo(200);
        JsonNode answer = new ObjectMapper().readTree(byTag.body());
        assertThat(answer.get("purged").asInt()).as("every tagged entry, wherever it was stored").isEqualTo(9);
        for (int i = 0; i < 3; i++) {
            long expected = held[i] - (owner("/other") == i ? 1 : 0);
            assertThat(answer.get("nodes").get(nodes.get(i).cluster().self().label()).asLong())
                    .as("node " + i + "'s own count").isEqualTo(expected);
        }
        assertThat(stored()).as("the untagged entry stays").isEqualTo(1);

        for (int i = 0; i < 3; i++) {
            get(nodes.get(i), "/item/" + i);
        }
        assertThat(Eventually.atLeast(4, Duration.ofSeconds(5), this::stored)).isEqualTo(4);
        RawHttp.Response byPrefix = purge(nodes.get(2), "/item/*");
        assertThat(new ObjectMapper().readTree(byPrefix.body()).get("purged").asInt()).isEqualTo(3);
        assertThat(stored()).isEqualTo(1);
    }

    @Test
    void aPurgeReachesEveryNodeAndSaysWhatWentWhere() throws Exception {
        startFleet();
        String path = "/item/5";
        int owner = owner(path);
        for (ProxyServer node : nodes) {
            get(node, path);
        }
        assertThat(origin.requestCount()).isEqualTo(1);
        ProxyServer receiver = nodes.get((owner + 1) % 3);

        RawHttp.Response purged = purge(receiver, path);
        assertThat(purged.status()).isEqualTo(200);
        JsonNode answer = new ObjectMapper().readTree(purged.body());
        assertThat(answer.get("purged").asInt()).as("the owner's entry, wherever the purge arrived").isEqualTo(1);
        assertThat(answer.get("nodes")).hasSize(3);
        assertThat(answer.get("nodes").get(nodes.get(owner).cluster().self().label()).asInt()).isEqualTo(1);
        assertThat(get(receiver, path).header("X-Cache")).as("gone from the owner: fetched again").isEqualTo("MISS");
        assertThat(origin.requestCount()).isEqualTo(2);

        ProxyServer third = nodes.get((owner + 2) % 3);
        String thirdLabel = third.cluster().self().label();
        third.close();
        RawHttp.Response partial = purge(receiver, path);
        assertThat(partial.status()).as("the nodes that answered did purge").isEqualTo(200);
        JsonNode nodesAnswer = new ObjectMapper().readTree(partial.body()).get("nodes");
        assertThat(nodesAnswer.get(nodes.get(owner).cluster().self().label()).asInt()).isEqualTo(1);
        assertThat(nodesAnswer.get(thirdLabel).isTextual()).as("the node that is gone: its error, not a number")
                .isTrue();
    }

    /** A path whose owner, in node 0's view now, is node {@code node} of {@link #nodes}; {@code skip} ones first. */
    private String ownedBy(int node, int skip) {
        for (int i = 0, found = 0; i < 10_000; i++) {
            if (owner("/own/" + i) == node && found++ == skip) {
                return "/own/" + i;
            }
        }
        throw new AssertionError("no key for node " + node);
    }

    private List<BackendConfig> peers() {
        return configs.stream().map(c -> c.cluster().self()).toList();
    }

    /** Node {@code i}'s configuration, its {@code cluster:} with {@code peers} and {@code secret}. */
    private PiblConfig reconfigured(int i, List<BackendConfig> peers, Path secret, ClusterConfig.HotCopy hotCopy) {
        return configs.get(i).withCluster(new ClusterConfig(configs.get(i).cluster().self(), peers, secret, hotCopy));
    }

    private static String scrape(ProxyServer node) throws IOException {
        try (RawHttp admin = new RawHttp(node.adminPort(), 5000)) {
            return admin.get("/metrics").bodyText();
        }
    }

    private static long receivedFrom(ProxyServer node, ProxyServer sender) {
        Cluster c = node.cluster();
        return c.nodes().stream().filter(b -> b.label().equals(sender.cluster().self().label()))
                .mapToLong(c::receivedFrom).sum();
    }

    @Test
    void aReloadChangesTheFleetForTheNextRequestsAndKeepsTheNodesThatStay() throws Exception {
        startFleet();
        ProxyServer first = nodes.get(0);
        String before = ownedBy(2, 0);
        assertThat(get(first, before).status()).isEqualTo(200);
        assertThat(receivedFrom(nodes.get(2), first)).as("sent to its owner").isEqualTo(1);
        Backend stays = first.cluster().nodes().get(1);
        long sentToStays = stays.requests();
        String later = ownedBy(2, 1);
        List<BackendConfig> all = peers();
        assertThat(scrape(first)).contains("pibl_cluster_peer_up{peer=\"" + all.get(2).address() + "\"}");

        Path secret = configs.get(0).cluster().secretFile();
        first.reload(reconfigured(0, all.subList(0, 2), secret, null));
        assertThat(first.cluster().nodes()).extracting(Backend::label)
                .containsExactly(all.get(0).address(), all.get(1).address());
        assertThat(first.cluster().nodes().get(1)).as("the node that stays is the same, its counts too")
                .isSameAs(stays).extracting(Backend::requests).isEqualTo(sentToStays);
        assertThat(get(first, later).status()).isEqualTo(200);
        assertThat(receivedFrom(nodes.get(2), first)).as("the node that left gets nothing more from this one")
                .isEqualTo(1);
        assertThat(scrape(first)).as("its series are gone from /metrics")
                .doesNotContain("pibl_cluster_peer_up{peer=\"" + all.get(2).address() + "\"}")
                .contains("pibl_cluster_peer_up{peer=\"" + all.get(1).address() + "\"}");

        ClusterConfig.HotCopy copies = new ClusterConfig.HotCopy(1 << 20, Duration.ofSeconds(5));
        first.reload(reconfigured(0, all, secret, copies));
        Backend joined = first.cluster().nodes().get(2);
        assertThat(joined.rampFactor()).as("back in the fleet: it gets its keys gradually").isLessThan(1.0);
        assertThat(first.cache().hotCopies()).as("hot copies turned on by the reload").isNotNull();
        assertThat(first.cache().hotCopies().settings()).isEqualTo(copies);
        first.reload(reconfigured(0, all, secret, null));
        assertThat(first.cache().hotCopies()).as("and off").isNull();
    }

    @Test
    void theSecretChangesInThreeReloadsWithoutTheNodesRefusingEachOther() throws Exception {
        startFleet();
        String oldSecret = Files.readString(configs.get(0).cluster().secretFile()).strip();
        String newSecret = "the-next-fleet-secret-0123456";
        Path accepting = Files.writeString(dir.resolve("step1.key"), oldSecret + "\n" + newSecret + "\n");
        Path signingNew = Files.writeString(dir.resolve("step2.key"), newSecret + "\n" + oldSecret + "\n");
        List<BackendConfig> all = peers();
        ProxyServer first = nodes.get(0);

        nodes.get(1).reload(reconfigured(1, all, accepting, null)); // step 1 on node 1 only
        first.reload(reconfigured(0, all, signingNew, null)); // step 2 on node 0: it signs with the new secret
        String toSecond = ownedBy(1, 0);
        assertThat(get(first, toSecond).status()).isEqualTo(200);
        assertThat(receivedFrom(nodes.get(1), first)).as("node 1 took the new secret's mark").isEqualTo(1);

        String toThird = ownedBy(2, 0);
        assertThat(get(first, toThird).status()).isEqualTo(200);
        assertThat(receivedFrom(nodes.get(2), first))
                .as("node 2 skipped step 1: the mark is refused, the request served as a client's").isZero();
    }

    private static RawHttp.Response getOverTls(ProxyServer node, String path) throws Exception {
        try (javax.net.ssl.SSLSocket socket = new TlsClient().alpn("http/1.1").connect(node.tlsPort())) {
            return new RawHttp(socket).send("GET " + path + " HTTP/1.1\r\nHost: shop.example\r\n\r\n")
                    .read(false);
        }
    }

    @Test
    void theClientsSchemeTravelsWithTheMarkAndTheOwnerKeysAndForwardsByIt() throws Exception {
        startFleet(null, TlsConfig.of(List.of(TestCertificates.ec(dir, "site", "shop.example"))).withPort(0));
        String path = "/item/41";
        ProxyServer receiver = nodes.get((owner(path) + 1) % 3);

        assertThat(getOverTls(receiver, path).status()).isEqualTo(200);
        assertThat(origin.received().get(0).headers().get("X-Forwarded-Proto"))
                .as("the owner forwards for an https client, not for the cleartext hop between nodes")
                .isEqualTo("https");
        assertThat(get(receiver, path).status()).isEqualTo(200);
        assertThat(origin.requestCount()).as("http and https are two entries at the owner, as on one node")
                .isEqualTo(2);
        assertThat(origin.received().get(1).headers().get("X-Forwarded-Proto")).isEqualTo("http");
        RawHttp.Response again = getOverTls(receiver, path);
        assertThat(again.header("X-Cache")).as("the https entry, served to https").isEqualTo("HIT");
        assertThat(origin.requestCount()).isEqualTo(2);
    }

    @Test
    void anUnsafeRequestThroughAnyNodeInvalidatesTheOwnersEntry() throws Exception {
        startFleet();
        String path = "/item/42";
        int owner = owner(path);
        ProxyServer receiver = nodes.get((owner + 1) % 3);
        assertThat(get(receiver, path).header("X-Cache")).isEqualTo("MISS");
        ProxyServer owning = nodes.get(owner);
        assertThat(Eventually.atLeast(1, Duration.ofSeconds(5), () -> owning.cache().store().entryCount()))
                .as("stored by its owner").isEqualTo(1);

        try (RawHttp http = new RawHttp(receiver.port(), 5000)) {
            http.send("POST " + path + " HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 2\r\n\r\nok");
            assertThat(http.read(false).status()).isEqualTo(200);
        }
        assertThat(Eventually.atLeast(1, Duration.ofSeconds(5),
                () -> owning.cache().store().entryCount() == 0 ? 1 : 0))
                .as("RFC 9111 4.4 for the fleet: the POST's success drops the owner's entry").isEqualTo(1);
        assertThat(get(receiver, path).header("X-Cache")).isEqualTo("MISS");
        assertThat(origin.requestCount()).as("GET, POST, GET again").isEqualTo(3);
    }
}
