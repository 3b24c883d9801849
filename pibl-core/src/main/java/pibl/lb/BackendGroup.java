package pibl.lb;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.config.BackendConfig;
import pibl.config.HealthCheckConfig;
import pibl.tls.BackendTls;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The backends of one configuration with their balancer and health checker: the pool. The pool's own state, its
 * {@link Panic} (every backend out of rotation), and whether a backend is its only one (then passive checks never
 * take it out), are set here.
 *
 * <pre>
 * BackendGroup group = BackendGroup.create(config.backends(), config.healthCheck());
 * Upstream upstream = new Upstream(transport, timeouts, limits, group.balancer());
 * group.startHealthChecks(workerGroup, transport.clientChannel());
 * // reload: same Backend objects for the addresses kept (counters, health, pooled connections)
 * group = group.reconfigure(next.backends(), next.healthCheck());
 * upstream.reconfigure(group.balancer(), next.timeouts(), next.limits());
 * group.close();   // on shutdown
 * </pre>
 */
public final class BackendGroup implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(BackendGroup.class);

    private final List<Backend> backends;
    private final LoadBalancer balancer;
    private final HealthCheckConfig health;
    private final LongSupplier nanoTime;
    private HealthChecker checker;
    private EventLoopGroup loops;
    private Class<? extends Channel> channelClass;
    private boolean closed;

    private BackendGroup(List<Backend> backends, HealthCheckConfig health, LongSupplier nanoTime, Panic panic) {
        this.backends = List.copyOf(backends);
        boolean alone = this.backends.size() == 1;
        for (Backend b : this.backends) {
            b.sole(alone);
        }
        this.balancer = LoadBalancers.create(this.backends, panic);
        this.health = health;
        this.nanoTime = nanoTime;
    }

    public static BackendGroup create(List<BackendConfig> configs, HealthCheckConfig health) {
        return create(configs, health, System::nanoTime);
    }

    /**
     * With the clock passive cooldowns are measured by (tests move it instead of sleeping).
     *
     * @throws pibl.config.ConfigException when a TLS backend's {@code ca} cannot be used
     */
    public static BackendGroup create(List<BackendConfig> configs, HealthCheckConfig health, LongSupplier nanoTime) {
        List<BackendTls.Peer> tls = tls(configs);
        List<Backend> list = new ArrayList<>(configs.size());
        for (int i = 0; i < configs.size(); i++) {
            list.add(new Backend(configs.get(i), health, nanoTime, tls.get(i)));
        }
        return new BackendGroup(list, health, nanoTime, new Panic());
    }

    /** The TLS of each backend (null for cleartext), the contexts shared among those that trust alike. */
    private static List<BackendTls.Peer> tls(List<BackendConfig> configs) {
        BackendTls contexts = new BackendTls();
        List<BackendTls.Peer> peers = new ArrayList<>(configs.size());
        for (int i = 0; i < configs.size(); i++) {
            peers.add(contexts.peer(configs.get(i), "backends[" + i + "]"));
        }
        return peers;
    }

    /**
     * Starts the active checks (when {@code health-check.enabled}) on the given loops, connecting
     * with {@code channelClass}. Once only; later calls are ignored.
     */
    public synchronized void startHealthChecks(EventLoopGroup group, Class<? extends Channel> channelClass) {
        if (closed) {
            throw new IllegalStateException("backend group closed");
        }
        if (loops != null) {
            return;
        }
        this.loops = group;
        this.channelClass = channelClass;
        if (!health.enabled()) {
            LOG.info("active health checks off; passive checks only");
            return;
        }
        checker = new HealthChecker(backends, health, group, channelClass).start();
    }

    /**
     * The group for a new configuration. A backend whose address and TLS settings are kept stays the same
     * object, with its counters, latencies, health and pooled connections, and takes the new weight; the
     * others are new (a TLS backend whose {@code sni} or {@code ca} changed is a new backend, with new
     * connections). A {@code ca} that cannot be used throws before anything changes. The pool's panic state
     * carries over (an episode under way goes on, unlogged; the counter keeps counting). This group's checks stop; the new group's start on the same loops if this
     * group's had been started. When active checks are now off, backends they had taken out return.
     */
    public BackendGroup reconfigure(List<BackendConfig> configs, HealthCheckConfig newHealth) {
        List<BackendTls.Peer> tls = tls(configs);
        Map<Backend.Identity, Deque<Backend>> byIdentity = new LinkedHashMap<>();
        for (Backend b : backends) {
            byIdentity.computeIfAbsent(Backend.identity(b.config()), k -> new ArrayDeque<>()).add(b);
        }
        List<Backend> next = new ArrayList<>(configs.size());
        List<String> kept = new ArrayList<>();
        List<String> added = new ArrayList<>();
        for (int i = 0; i < configs.size(); i++) {
            BackendConfig c = configs.get(i);
            Deque<Backend> same = byIdentity.get(Backend.identity(c));
            Backend b = same == null ? null : same.poll();
            if (b != null) {
                b.update(c, newHealth, tls.get(i));
                if (!newHealth.enabled()) {
                    b.clearActiveVerdict();
                }
                kept.add(c.toString());
            } else {
                b = new Backend(c, newHealth, nanoTime, tls.get(i));
                added.add(c.toString());
            }
            next.add(b);
        }
        List<String> removed = byIdentity.values().stream().flatMap(Deque::stream).map(b -> b.config().toString())
                .toList();
        BackendGroup group = new BackendGroup(next, newHealth, nanoTime, balancer.panic());
        EventLoopGroup l;
        Class<? extends Channel> c;
        synchronized (this) {
            stopChecks();
            l = loops;
            c = channelClass;
        }
        LOG.info("backends reloaded: kept {}, added {}, removed {}; {}", kept, added, removed,
                group.balancer instanceof SmoothWeightedBalancer ? "weighted round robin" : "round robin");
        if (l != null) {
            group.startHealthChecks(l, c);
        }
        return group;
    }

    public LoadBalancer balancer() {
        return balancer;
    }

    /** In configuration order. */
    public List<Backend> backends() {
        return backends;
    }

    public HealthCheckConfig healthCheck() {
        return health;
    }

    /** Stops the active checks. The backends stay usable (in-flight requests may still finish on them). */
    @Override
    public synchronized void close() {
        closed = true;
        stopChecks();
    }

    private void stopChecks() {
        if (checker != null) {
            checker.close();
            checker = null;
        }
    }
}
