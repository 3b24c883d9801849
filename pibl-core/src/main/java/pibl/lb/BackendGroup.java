package pibl.lb;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
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
 * {@link Panic} (every backend out of rotation), whether a backend is its only one (then passive checks never
 * take it out), and its {@code slow-start} ({@link SlowStart}: the backends a reload adds ramp up, those of the
 * first configuration do not), are set here.
 *
 * <pre>
 * BackendGroup group = BackendGroup.create(config.backends(), config.healthCheck(), config.balance());
 * upstream.send(loop, request, group.balancer(), clientAddress, sink);   // a route hands over its pool's
 * group.startHealthChecks(workerGroup, transport.clientChannel());
 * // reload: same Backend objects for the addresses kept (counters, health, pooled connections)
 * group = group.reconfigure(next.backends(), next.healthCheck(), next.balance());
 * group.close();   // on shutdown
 * </pre>
 */
public final class BackendGroup implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(BackendGroup.class);

    private final List<Backend> backends;
    private final LoadBalancer balancer;
    private final HealthCheckConfig health;
    private final BalanceConfig balance;
    private final LongSupplier nanoTime;
    private HealthChecker checker;
    private EventLoopGroup loops;
    private Class<? extends Channel> channelClass;
    private boolean closed;

    private BackendGroup(List<Backend> backends, HealthCheckConfig health, BalanceConfig balance,
                         LongSupplier nanoTime, Panic panic) {
        this.backends = List.copyOf(backends);
        boolean alone = this.backends.size() == 1;
        for (Backend b : this.backends) {
            b.sole(alone);
            b.slowStart(balance.slowStart());
        }
        this.balancer = LoadBalancers.create(this.backends, balance, panic);
        this.health = health;
        this.balance = balance;
        this.nanoTime = nanoTime;
    }

    /** The pool of {@code configs}, balanced as {@code balance} says. */
    public static BackendGroup create(List<BackendConfig> configs, HealthCheckConfig health, BalanceConfig balance) {
        return create(configs, health, balance, System::nanoTime);
    }

    /**
     * With the clock passive cooldowns, slow starts and latency estimates are measured by (tests move it instead
     * of sleeping). These first backends begin at their full share.
     *
     * @throws pibl.config.ConfigException when a TLS backend's {@code ca} cannot be used
     */
    public static BackendGroup create(List<BackendConfig> configs, HealthCheckConfig health, BalanceConfig balance,
                                      LongSupplier nanoTime) {
        List<BackendTls.Peer> tls = tls(configs);
        List<Backend> list = new ArrayList<>(configs.size());
        for (int i = 0; i < configs.size(); i++) {
            list.add(new Backend(configs.get(i), health, nanoTime, tls.get(i)));
        }
        return new BackendGroup(list, health, balance, nanoTime, new Panic());
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

    /** {@link #reconfigure(List, HealthCheckConfig, BalanceConfig)} balanced as before. */
    public BackendGroup reconfigure(List<BackendConfig> configs, HealthCheckConfig newHealth) {
        return reconfigure(configs, newHealth, balance);
    }

    /**
     * The group for a new configuration. A backend whose address and TLS settings are kept stays the same
     * object, with its counters, latencies, health, slow start and pooled connections, and takes the new weight;
     * the others are new (a TLS backend whose {@code sni} or {@code ca} changed is a new backend, with new
     * connections), and ramp up over {@code slow-start}. A {@code ca} that cannot be used throws before anything
     * changes. The pool's panic state carries over (an episode under way goes on, unlogged; the counter keeps
     * counting). This group's checks stop; the new group's start on the same loops if this group's had been
     * started. When active checks are now off, backends they had taken out return. The balancer is new (a hash
     * ring is built from the new addresses only).
     */
    public BackendGroup reconfigure(List<BackendConfig> configs, HealthCheckConfig newHealth,
                                    BalanceConfig newBalance) {
        List<BackendTls.Peer> tls = tls(configs);
        Map<Backend.Identity, Deque<Backend>> byIdentity = new LinkedHashMap<>();
        for (Backend b : backends) {
            byIdentity.computeIfAbsent(Backend.identity(b.config()), k -> new ArrayDeque<>()).add(b);
        }
        List<Backend> next = new ArrayList<>(configs.size());
        List<String> kept = new ArrayList<>();
        List<String> added = new ArrayList<>();
        List<Backend> fresh = new ArrayList<>();
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
                fresh.add(b);
                added.add(c.toString());
            }
            next.add(b);
        }
        byIdentity.values().forEach(gone -> gone.forEach(Backend::retire));
        List<String> removed = byIdentity.values().stream().flatMap(Deque::stream).map(b -> b.config().toString())
                .toList();
        BackendGroup group = new BackendGroup(next, newHealth, newBalance, nanoTime, balancer.panic());
        for (Backend b : fresh) {
            b.added();
        }
        EventLoopGroup l;
        Class<? extends Channel> c;
        synchronized (this) {
            stopChecks();
            l = loops;
            c = channelClass;
        }
        LOG.info("backends reloaded: kept {}, added {}, removed {}; {}", kept, added, removed, group.describe());
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

    public BalanceConfig balance() {
        return balance;
    }

    /** {@code least-request, slow start 30 s}: the balancer's policy, as the logs name it. */
    public String describe() {
        return balancer.policy() + (balance.slowStart().isZero() ? ", no slow start"
                : ", slow start " + Failures.human(balance.slowStart()));
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
