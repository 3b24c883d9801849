package pibl.admin;

import pibl.cache.HttpCache;
import pibl.config.BackendConfig;
import pibl.lb.Backend;
import pibl.lb.LoadBalancer;
import pibl.lb.LoadBalancers;
import pibl.runtime.ProxyStats;

import java.util.Arrays;
import java.util.List;

/** A proxy as the admin sees it, without a proxy: real counters the test bumps by hand, backends it swaps. */
final class FakeView implements ProxyView {
    final ProxyStats stats = new ProxyStats();
    volatile List<Backend> backends;
    private LoadBalancer balancer;
    volatile HttpCache cache;
    volatile long startedAtMillis = stats.startedAtMillis();

    FakeView(Backend... backends) {
        this.backends = List.of(backends);
    }

    static Backend backend(int port) {
        return new Backend(new BackendConfig("127.0.0.1", port));
    }

    static Backend backend(int port, int weight) {
        return new Backend(new BackendConfig("127.0.0.1", port, weight));
    }

    /** {@code n} requests that ended, then {@code open} still at the backend. */
    static Backend served(Backend b, int n, int open) {
        for (int i = 0; i < n; i++) {
            b.onRequestStart();
            b.onRequestEnd();
        }
        for (int i = 0; i < open; i++) {
            b.onRequestStart();
        }
        return b;
    }

    void responses(int... statuses) {
        Arrays.stream(statuses).forEach(stats::response);
    }

    @Override
    public int port() {
        return 8080;
    }

    @Override
    public String transport() {
        return "nio";
    }

    @Override
    public ProxyStats stats() {
        return stats;
    }

    @Override
    public HttpCache cache() {
        return cache;
    }

    @Override
    public List<Backend> backends() {
        return backends;
    }

    /** A balancer over the current backends, new when a test swapped them (a fresh pool, as a test wants it). */
    @Override
    public synchronized LoadBalancer balancer() {
        List<Backend> now = backends;
        if (balancer == null || !balancer.backends().equals(now)) {
            balancer = LoadBalancers.create(now);
        }
        return balancer;
    }

    @Override
    public String proxyVersion() {
        return "9.9.9-test";
    }

    @Override
    public long startedAtMillis() {
        return startedAtMillis;
    }
}
