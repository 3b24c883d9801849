package pibl.cluster;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.cache.CacheKey;
import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
import pibl.config.ClusterConfig;
import pibl.config.HealthCheckConfig;
import pibl.lb.Backend;
import pibl.lb.BackendGroup;
import pibl.lb.HashKeys;
import pibl.lb.HealthChecker;
import pibl.lb.LoadBalancer;
import pibl.lb.Panic;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The fleet as one node sees it: which node owns a key, how to reach the others, and the secret their requests are
 * marked with.
 *
 * <p>The owner is chosen by rendezvous (highest random weight) hashing: every node scores the key, the highest
 * score in rotation wins. With a fleet of a few to a few dozen nodes that is a few multiplications per request, no
 * table to build, and it moves exactly the keys of a node that leaves (to the node that scored second for each of
 * them, spread over all the others) and back when it returns. Maglev's lookup table would save those few
 * multiplications at the price of a table rebuilt on every change and a little extra movement; at this size it
 * buys nothing.
 *
 * <pre>
 * key "shop.example /a"   scores  n1 0x3f…  n2 0xc1…  n3 0x8a…   → n2
 * n2 out of rotation               n1 0x3f…           n3 0x8a…   → n3 (only n2's keys move)
 * </pre>
 *
 * The peers are {@link Backend}s: requests to them go through the same pooled connections, and their failures
 * (refused, reset, timeout) take them out of rotation by the same passive checks as a backend's; this node is
 * always in rotation for itself.
 */
public final class Cluster {
    private static final Logger LOG = LogManager.getLogger(Cluster.class);
    private static final int SAMPLE = 4096;
    private final LongSupplier epochSeconds;
    /** The fleet in force: replaced whole on reload, read once per decision. */
    private volatile Members members;
    /** Marked requests received from each node, by its address; a node kept over a reload keeps its count. */
    private final Map<String, LongAdder> received = new ConcurrentHashMap<>();
    private final PeerBalancer balancer = new PeerBalancer();
    /** This node's mark nonces and the peers' marks it has taken: one for the process, over every reload. */
    private final Nonces nonces = new Nonces();

    /**
     * One configuration of the fleet: its nodes as one group of backends (passive checks as a pool's, and the
     * default slow start, 30 s, for a node that comes back or joins, which gets its keys gradually: best()), this
     * node among them, the nodes' rendezvous seeds, and the secrets marks are made and checked with.
     */
    private record Members(BackendGroup group, Backend self, Backend[] nodes, long[] seeds, PeerAuth auth) {
        static Members of(BackendGroup group, ClusterConfig config, List<byte[]> secrets, Nonces nonces) {
            Backend[] nodes = group.backends().toArray(new Backend[0]);
            for (Backend b : nodes) {
                b.rampOnlyAfterServing(); // a fleet starting together: a late node is no comeback
            }
            Backend self = null;
            Set<String> names = new HashSet<>();
            long[] seeds = new long[nodes.length];
            for (int i = 0; i < nodes.length; i++) {
                names.add(nodes[i].label());
                seeds[i] = HashKeys.hash(nodes[i].label());
                if (nodes[i].label().equals(config.self().address())) {
                    self = nodes[i];
                }
            }
            return new Members(group, self, nodes, seeds, new PeerAuth(secrets, names, nonces));
        }

        int indexOf(Backend node) {
            for (int i = 0; i < nodes.length; i++) {
                if (nodes[i] == node) {
                    return i;
                }
            }
            return -1;
        }
    }

    Cluster(ClusterConfig config, byte[] secret, LongSupplier epochSeconds) {
        this(config, secret, epochSeconds, System::nanoTime);
    }

    /**
     * @param nanoTime the clock of the peers' passive cooldowns and slow starts (tests move it by hand)
     */
    Cluster(ClusterConfig config, byte[] secret, LongSupplier epochSeconds, LongSupplier nanoTime) {
        this(config, List.of(secret), epochSeconds, nanoTime);
    }

    private Cluster(ClusterConfig config, List<byte[]> secrets, LongSupplier epochSeconds, LongSupplier nanoTime) {
        this.members = Members.of(BackendGroup.create(config.peers(), CHECKS, BalanceConfig.defaults(), nanoTime),
                config, secrets, nonces);
        this.epochSeconds = epochSeconds;
    }

    /**
     * The path of the peers' active checks: a marked {@code GET} of it is answered by the node itself
     * ({@link pibl.handler.PeerHandler}), never forwarded, so a check says whether the node serves, not whether its
     * backends do. Unmarked, it is an ordinary request like any other.
     */
    public static final String CHECK_PATH = "/.pibl/peer-check";
    /**
     * The peers' active checks: a fleet's nodes share a network, so a second between checks and two failures
     * take a silent node out within about two seconds; two good checks bring it back, to a slow start.
     */
    static final HealthCheckConfig CHECKS = new HealthCheckConfig(true, CHECK_PATH, Duration.ofSeconds(1),
            Duration.ofMillis(500), 2, 2, HealthCheckConfig.defaults().passiveFailures(),
            HealthCheckConfig.defaults().passiveCooldown());
    /** Guarded by {@code this}, as are {@link #loops} and {@link #channelClass}. */
    private HealthChecker checker;
    private EventLoopGroup loops;
    private Class<? extends Channel> channelClass;
    private boolean closed;

    /** Starts the active checks of the other nodes on {@code group}; once; {@link #close()} stops them. */
    public synchronized void startChecks(EventLoopGroup group, Class<? extends Channel> channelClass) {
        if (loops != null || closed) {
            return;
        }
        this.loops = group;
        this.channelClass = channelClass;
        checkOthers();
    }

    /** The checks of the members in force, the previous ones stopped; only once started. */
    private void checkOthers() {
        if (checker != null) {
            checker.close();
            checker = null;
        }
        Members m = members;
        List<Backend> others = new ArrayList<>();
        for (Backend b : m.nodes()) {
            if (b != m.self()) {
                others.add(b);
            }
        }
        if (loops != null && !others.isEmpty()) {
            checker = new HealthChecker(others, CHECKS, loops, channelClass, r -> sign(r, "-", "http")).start();
        }
    }

    /**
     * The fleet as {@code next} says, for the requests that start from now on (SIGHUP). A node whose address
     * stays is the same object: its health, counters, pooled connections and any slow start under way. A node
     * that joins gets its keys gradually (slow start, as one that comes back); one that leaves gives its keys to
     * the next node in rendezvous order at once, and its idle connections are closed (retired). The secrets are
     * read again from {@code secret-file}: a file that cannot be used throws before anything changes.
     */
    public synchronized void reconfigure(ClusterConfig next) {
        List<byte[]> secrets = PeerAuth.readSecrets(next.secretFile());
        Members before = members;
        BackendGroup group = before.group().reconfigure(next.peers(), CHECKS, BalanceConfig.defaults());
        members = Members.of(group, next, secrets, nonces);
        if (!closed) {
            checkOthers();
        }
        LOG.info("cluster reloaded: this node is {} of {} ({} secret{})", next.self().address(),
                next.peers().stream().map(BackendConfig::address).toList(), secrets.size(),
                secrets.size() == 1 ? "" : "s, the first signs");
    }

    /** Whether {@code request} is a peer's check, once {@link #acceptPeer} found its mark good. */
    public static boolean isCheck(HttpRequest request) {
        return HttpMethod.GET.equals(request.method()) && CHECK_PATH.equals(request.uri());
    }

    /** Stops the active checks. */
    public synchronized void close() {
        closed = true;
        if (checker != null) {
            checker.close();
            checker = null;
        }
    }

    /** From {@code config} (enabled), its secrets read now; a bad secret file is a {@code ConfigException}. */
    public static Cluster create(ClusterConfig config) {
        return new Cluster(config, PeerAuth.readSecrets(config.secretFile()),
                () -> System.currentTimeMillis() / 1000, System::nanoTime);
    }

    /**
     * The ownership key of a request: its {@code Host} and target as its cache key has them (the host in lower
     * case, without the default port; an absolute-form target split), so every spelling of a URL has one owner, and
     * so do both its schemes.
     */
    public static long key(String host, String uri) {
        return key(CacheKey.of("http", host, uri));
    }

    /**
     * The ownership key of the requests stored under {@code key} (either scheme: a default port of either is left
     * out, as the two schemes' keys normalise {@code :80} and {@code :443} differently).
     */
    public static long key(CacheKey key) {
        String host = key.host();
        if (host.endsWith(":80") || host.endsWith(":443")) {
            host = host.substring(0, host.lastIndexOf(':'));
        }
        return HashKeys.hash(host + ' ' + key.target());
    }

    /** The node that owns {@code key} now: the best score among the nodes in rotation (this one always is). */
    public Backend owner(long key) {
        return best(members, key, List.of(), true);
    }

    public boolean isSelf(Backend node) {
        return node == members.self();
    }

    public Backend self() {
        return members.self();
    }

    /** Every node, this one included, in configuration order (the configuration in force). */
    public List<Backend> nodes() {
        return List.of(members.nodes());
    }

    /** Picks the owner for a request sent to the fleet, then on a retry the next node in rendezvous order. */
    public LoadBalancer balancer() {
        return balancer;
    }

    /** A balancer that picks {@code node} and nothing else: for what must reach one node (a purge's fan-out). */
    public LoadBalancer only(Backend node) {
        return new LoadBalancer() {
            private final Panic panic = new Panic();

            @Override
            public Backend pick(List<Backend> tried, long key) {
                return tried.contains(node) ? null : node;
            }

            @Override
            public String policy() {
                return "peer " + node.label();
            }

            @Override
            public List<Backend> backends() {
                return List.of(node);
            }

            @Override
            public Panic panic() {
                return panic;
            }
        };
    }

    /**
     * Marks {@code request}, about to go to its owner, as this node's on behalf of {@code client}, who asked over
     * {@code scheme}.
     */
    public void sign(HttpRequest request, String client, String scheme) {
        Members m = members;
        m.auth().sign(request, m.self().label(), epochSeconds.getAsLong(), client, scheme);
    }

    /**
     * Removes any peer mark from a request as it arrives.
     *
     * @return what a good mark vouches for, the client the sending peer served and its scheme (the request is
     * then a peer's, never forwarded again); null for an ordinary client request
     */
    public PeerAuth.Verified acceptPeer(HttpRequest request) {
        PeerAuth.Verified v = members.auth().verifyAndStrip(request, epochSeconds.getAsLong());
        if (v == null) {
            return null;
        }
        if (!isCheck(request)) {
            received.computeIfAbsent(v.node(), k -> new LongAdder()).increment();
        }
        return v;
    }

    /** Marked requests {@code node} sent to this one since start. */
    public long receivedFrom(Backend node) {
        LongAdder n = received.get(node.label());
        return n == null ? 0 : n.sum();
    }

    /**
     * Every node in configuration order with the share of keys it owns now, computed over {@value #SAMPLE} sample
     * keys (rendezvous gives each node in rotation about 1/n, a node out of rotation none).
     */
    public List<Share> shares() {
        Members m = members;
        int[] owned = new int[m.nodes().length];
        for (int i = 0; i < SAMPLE; i++) {
            owned[m.indexOf(best(m, mix(i + 1), List.of(), true))]++;
        }
        List<Share> shares = new ArrayList<>(owned.length);
        for (int i = 0; i < owned.length; i++) {
            shares.add(new Share(m.nodes()[i], owned[i] / (double) SAMPLE));
        }
        return List.copyOf(shares);
    }

    /** A node and the share of keys it owns (0..1). */
    public record Share(Backend node, double share) {
    }

    /** The share of keys {@code node} owns now; 0 for a node no longer in the fleet. */
    public double keyShare(Backend node) {
        return shares().stream().filter(s -> s.node() == node).mapToDouble(Share::share).findFirst().orElse(0);
    }

    /**
     * The best-scoring node for {@code key} not tried and (when {@code inRotationOnly}) in rotation. A node in
     * its slow-start ramp (back after being out) takes only the keys whose own fraction is below its ramp factor
     * {@code f}, the others going to their next node: a tenth of its keys at first, all of them once the ramp is
     * over, the same keys as {@code f} grows, so that none flips back and forth.
     */
    private static Backend best(Members m, long key, List<Backend> tried, boolean inRotationOnly) {
        Backend b = best(m, key, tried, inRotationOnly, true);
        return b != null ? b : best(m, key, tried, inRotationOnly, false);
    }

    private static Backend best(Members m, long key, List<Backend> tried, boolean inRotationOnly, boolean ramp) {
        Backend[] nodes = m.nodes();
        long[] seeds = m.seeds();
        Backend self = m.self();
        Backend best = null;
        long bestScore = 0;
        for (int i = 0; i < nodes.length; i++) {
            Backend n = nodes[i];
            if (tried.contains(n) || inRotationOnly && n != self && !n.isAvailable()) {
                continue;
            }
            if (ramp && n != self && keyFraction(key, seeds[i]) >= n.rampFactor()) {
                continue; // ramping, and this key is not among those it has back yet
            }
            long score = mix(key ^ seeds[i]);
            if (best == null || Long.compareUnsigned(score, bestScore) > 0) {
                best = n;
                bestScore = score;
            }
        }
        return best;
    }

    /** A fraction in [0, 1) of {@code key} for the node of {@code seed}, independent of its score. */
    private static double keyFraction(long key, long seed) {
        return (mix(key ^ Long.rotateLeft(seed, 32) ^ 0x9e3779b97f4a7c15L) >>> 11) * 0x1.0p-53;
    }

    /** The finalizer of SplitMix64: every bit of the input moves about half of the output's. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private final class PeerBalancer implements LoadBalancer {
        private final Panic panic = new Panic();

        @Override
        public Backend pick(List<Backend> tried, long key) {
            Members m = members;
            Backend b = best(m, key, tried, true);
            return b != null ? b : best(m, key, tried, false);
        }

        @Override
        public long key(HttpRequest request, String clientAddress) {
            return Cluster.key(request.headers().get(HttpHeaderNames.HOST), request.uri());
        }

        @Override
        public String policy() {
            return "rendezvous (cluster)";
        }

        @Override
        public List<Backend> backends() {
            return List.of(members.nodes());
        }

        @Override
        public Panic panic() {
            return panic;
        }
    }
}
