package pibl.route;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.config.PoolConfig;
import pibl.lb.Backend;
import pibl.lb.BackendGroup;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pools of a configuration, one {@link BackendGroup} each: its backends, balancer and health checks.
 *
 * <pre>
 * Pools pools = Pools.create(config.poolsInForce());
 * pools.startHealthChecks(workerGroup, transport.clientChannel());
 * pools = pools.reconfigure(next.poolsInForce());   // SIGHUP: a pool whose name stays keeps its Backends
 * pools.close();                                     // on shutdown
 * </pre>
 *
 * A pool kept by name is its group's {@link BackendGroup#reconfigure}: the backends whose address stays are the
 * same objects (counters, health, pooled connections). A pool that is gone stops its health checks; exchanges
 * already on it finish there. Reloads are serialised by the caller.
 */
public final class Pools implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Pools.class);

    private final Map<String, BackendGroup> groups;
    private final Map<String, Pool> pools;
    private EventLoopGroup loops;
    private Class<? extends Channel> channelClass;

    private Pools(Map<String, BackendGroup> groups) {
        this.groups = groups;
        this.pools = new LinkedHashMap<>();
        groups.forEach((name, group) -> pools.put(name, new Pool(name, group.balancer(), group.balance().slowStart())));
    }

    public static Pools create(List<PoolConfig> configs) {
        Map<String, BackendGroup> groups = new LinkedHashMap<>();
        for (PoolConfig c : configs) {
            groups.put(c.name(), group(c, null));
        }
        return new Pools(groups);
    }

    /**
     * The one place a pool's {@link BackendGroup} is made: a new one, or {@code previous} reconfigured when the pool
     * was there before under the same name.
     */
    private static BackendGroup group(PoolConfig c, BackendGroup previous) {
        return previous == null ? BackendGroup.create(c.backends(), c.healthCheck(), c.balance())
                : previous.reconfigure(c.backends(), c.healthCheck(), c.balance());
    }

    /** The pools of {@code configs}; this object is spent (its groups are the new one's, or closed). */
    public synchronized Pools reconfigure(List<PoolConfig> configs) {
        Map<String, BackendGroup> next = new LinkedHashMap<>();
        List<String> kept = new ArrayList<>();
        List<String> added = new ArrayList<>();
        for (PoolConfig c : configs) {
            BackendGroup previous = groups.get(c.name());
            BackendGroup group = group(c, previous);
            (previous == null ? added : kept).add(c.name());
            if (previous == null && loops != null) {
                group.startHealthChecks(loops, channelClass);
            }
            next.put(c.name(), group);
        }
        List<String> removed = new ArrayList<>();
        groups.forEach((name, group) -> {
            if (!next.containsKey(name)) {
                group.close();
                group.backends().forEach(Backend::retire);
                removed.add(name);
            }
        });
        if (!added.isEmpty() || !removed.isEmpty() || groups.size() > 1) {
            LOG.info("pools reloaded: kept {}, added {}, removed {}", kept, added, removed);
        }
        Pools p = new Pools(next);
        p.loops = loops;
        p.channelClass = channelClass;
        return p;
    }

    /** Starts every pool's active checks on {@code group} (see {@link BackendGroup#startHealthChecks}). */
    public synchronized void startHealthChecks(EventLoopGroup group, Class<? extends Channel> channel) {
        this.loops = group;
        this.channelClass = channel;
        groups.values().forEach(g -> g.startHealthChecks(group, channel));
    }

    /** The pool named so, or null. */
    public Pool get(String name) {
        return pools.get(name);
    }

    /** In configuration order. */
    public List<Pool> all() {
        return List.copyOf(pools.values());
    }

    /** Stops every pool's active checks. */
    @Override
    public synchronized void close() {
        groups.values().forEach(BackendGroup::close);
    }
}
