package pibl.admin;

import pibl.cache.HttpCache;
import pibl.config.PoolConfig;
import pibl.lb.Backend;
import pibl.cluster.Cluster;
import pibl.lb.LoadBalancer;
import pibl.runtime.ProxyStats;
import pibl.route.Pool;
import pibl.route.Router;
import pibl.runtime.Version;

import java.util.List;

/**
 * What the admin listener may see of a running proxy: read-only, and read again on every request, so a reload
 * that swaps the backends or the cache shows on the next {@code /status} or scrape.
 *
 * <p>{@code pibl.server.ProxyServer} implements it; tests implement it over a few real {@link Backend}s and a real
 * {@link ProxyStats} without starting a proxy.
 */
public interface ProxyView {

    /** The bound public port. */
    int port();

    /** {@code io_uring}, {@code epoll} or {@code nio}. */
    String transport();

    /** Server-wide counters: connections, responses by status class. */
    ProxyStats stats();

    /** The cache, or null when it is disabled. */
    HttpCache cache();

    /** The balancer of the first pool in force now (the {@code backends:} shorthand's only one). */
    LoadBalancer balancer();

    /** The pools in force now, in configuration order; by default the one pool of {@link #balancer()}. */
    default List<Pool> pools() {
        return List.of(new Pool(PoolConfig.DEFAULT, balancer()));
    }

    /** The fleet this node is one of; null unless {@code cluster:} is on (then no peers are shown). */
    default Cluster cluster() {
        return null;
    }

    /** The routes in force now; null when the view has none (then none are shown). */
    default Router router() {
        return null;
    }

    /** The backends in force now, every pool's, in configuration order. */
    default List<Backend> backends() {
        return pools().stream().flatMap(p -> p.balancer().backends().stream()).toList();
    }

    /** PIBL's version, from the jar manifest, or {@code dev}. */
    default String proxyVersion() {
        return Version.current();
    }

    /** When the proxy started, epoch millis. */
    default long startedAtMillis() {
        return stats().startedAtMillis();
    }
}
