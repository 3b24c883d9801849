package pibl.admin;

import pibl.cache.HttpCache;
import pibl.lb.Backend;
import pibl.lb.LoadBalancer;
import pibl.runtime.ProxyStats;
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

    /** The balancer in force now, with the pool's panic state. */
    LoadBalancer balancer();

    /** The backends in force now, in configuration order. */
    default List<Backend> backends() {
        return balancer().backends();
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
