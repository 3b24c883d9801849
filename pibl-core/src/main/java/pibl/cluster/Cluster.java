package pibl.cluster;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
    private static final int SAMPLE = 4096;
    private final Backend self;
    private final Backend[] nodes;
    private final long[] seeds;
    private final PeerAuth auth;
    private final LongSupplier epochSeconds;
    private final PeerBalancer balancer;
    /** Marked requests received from each node, by its index in {@link #nodes}. */
    private final LongAdder[] received;
    private final Map<String, Integer> index = new HashMap<>();

    Cluster(ClusterConfig config, byte[] secret, LongSupplier epochSeconds) {
        this(config, secret, epochSeconds, System::nanoTime);
    }

    /**
     * @param nanoTime the clock of the peers' passive cooldowns and slow starts (tests move it by hand)
     */
    Cluster(ClusterConfig config, byte[] secret, LongSupplier epochSeconds, LongSupplier nanoTime) {
        // The peers as one group of backends: passive checks as a pool's, and the default slow start (30 s) for a
        // node that comes back, which gets its keys back gradually (best()).
        List<Backend> all = BackendGroup.create(config.peers(), CHECKS,
                BalanceConfig.defaults(), nanoTime).backends();
        Backend me = null;
        Set<String> names = new HashSet<>();
        for (Backend b : all) {
            names.add(b.label());
            if (b.label().equals(config.self().address())) {
                me = b;
            }
        }
        this.self = me;
        this.nodes = all.toArray(new Backend[0]);
        this.seeds = new long[nodes.length];
        for (int i = 0; i < nodes.length; i++) {
            seeds[i] = HashKeys.hash(nodes[i].label());
        }
        this.auth = new PeerAuth(secret, names);
        this.received = new LongAdder[nodes.length];
        for (int i = 0; i < nodes.length; i++) {
            received[i] = new LongAdder();
            index.put(nodes[i].label(), i);
        }
        this.epochSeconds = epochSeconds;
        this.balancer = new PeerBalancer();
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
    private volatile HealthChecker checker;

    /** Starts the active checks of the other nodes on {@code group}; once; {@link #close()} stops them. */
    public synchronized void startChecks(EventLoopGroup group, Class<? extends Channel> channelClass) {
        if (checker != null || nodes.length < 2) {
            return;
        }
        List<Backend> others = new ArrayList<>();
        for (Backend b : nodes) {
            if (b != self) {
                others.add(b);
            }
        }
        checker = new HealthChecker(others, CHECKS, group, channelClass, r -> sign(r, "-")).start();
    }

    /** Whether {@code request} is a peer's check, once {@link #acceptPeer} found its mark good. */
    public static boolean isCheck(HttpRequest request) {
        return HttpMethod.GET.equals(request.method()) && CHECK_PATH.equals(request.uri());
    }

    /** Stops the active checks. */
    public synchronized void close() {
        if (checker != null) {
            checker.close();
        }
    }

    /** From {@code config} (enabled), its secret read now; a bad secret file is a {@code ConfigException}. */
    public static Cluster create(ClusterConfig config) {
        return new Cluster(config, PeerAuth.readSecret(config.secretFile()),
                () -> System.currentTimeMillis() / 1000);
    }

    /** The ownership key of a request: its {@code Host} and target (both schemes of a URL have one owner). */
    public static long key(String host, String uri) {
        return HashKeys.hash((host == null ? "" : host) + ' ' + uri);
    }

    /** The node that owns {@code key} now: the best score among the nodes in rotation (this one always is). */
    public Backend owner(long key) {
        return best(key, List.of(), true);
    }

    public boolean isSelf(Backend node) {
        return node == self;
    }

    public Backend self() {
        return self;
    }

    /** Every node, this one included, in configuration order. */
    public List<Backend> nodes() {
        return List.of(nodes);
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

    /** Marks {@code request}, about to go to its owner, as this node's on behalf of {@code client}. */
    public void sign(HttpRequest request, String client) {
        auth.sign(request, self.label(), epochSeconds.getAsLong(), client);
    }

    /**
     * Removes any peer mark from a request as it arrives.
     *
     * @return the client the sending peer served when the mark is good (the request is then a peer's, never
     * forwarded again); null for an ordinary client request
     */
    public String acceptPeer(HttpRequest request) {
        PeerAuth.Verified v = auth.verifyAndStrip(request, epochSeconds.getAsLong());
        if (v == null) {
            return null;
        }
        if (!isCheck(request)) {
            received[index.get(v.node())].increment();
        }
        return v.client();
    }

    /** Marked requests {@code node} sent to this one since start. */
    public long receivedFrom(Backend node) {
        Integer i = index.get(node.label());
        return i == null ? 0 : received[i].sum();
    }

    /**
     * The share of keys each node owns now, by the nodes' order: computed over {@value #SAMPLE} sample keys
     * (rendezvous gives each node in rotation about 1/n, a node out of rotation none).
     */
    public double[] keyShares() {
        int[] owned = new int[nodes.length];
        for (int i = 0; i < SAMPLE; i++) {
            owned[index.get(owner(mix(i + 1)).label())]++;
        }
        double[] shares = new double[nodes.length];
        for (int i = 0; i < nodes.length; i++) {
            shares[i] = owned[i] / (double) SAMPLE;
        }
        return shares;
    }

    /**
     * The best-scoring node for {@code key} not tried and (when {@code inRotationOnly}) in rotation. A node in
     * its slow-start ramp (back after being out) takes only the keys whose own fraction is below its ramp factor
     * {@code f}, the others going to their next node: a tenth of its keys at first, all of them once the ramp is
     * over, the same keys as {@code f} grows, so that none flips back and forth.
     */
    private Backend best(long key, List<Backend> tried, boolean inRotationOnly) {
        Backend b = best(key, tried, inRotationOnly, true);
        return b != null ? b : best(key, tried, inRotationOnly, false);
    }

    private Backend best(long key, List<Backend> tried, boolean inRotationOnly, boolean ramp) {
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
            Backend b = best(key, tried, true);
            return b != null ? b : best(key, tried, false);
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
            return List.of(nodes);
        }

        @Override
        public Panic panic() {
            return panic;
        }
    }
}
