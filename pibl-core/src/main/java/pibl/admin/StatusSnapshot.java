package pibl.admin;

import pibl.cache.CacheStatus;
import pibl.cache.CacheStore;
import pibl.cache.HttpCache;
import pibl.cluster.Cluster;
import pibl.lb.Backend;
import pibl.lb.LoadBalancer;
import pibl.route.Pool;
import pibl.route.Route;
import pibl.route.Router;
import pibl.runtime.Http2Stats;
import pibl.runtime.LatencyHistogram;
import pibl.runtime.ProxyStats;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One reading of a {@link ProxyView}, taken once per request, that both {@code /status} (JSON) and the HTML page
 * render. Every number is read from counters the proxy keeps anyway; taking a snapshot costs the proxy nothing.
 */
record StatusSnapshot(String version, long startedAtMillis, long nowMillis, String transport, int port,
                      List<BackendRow> backends, Upstream upstream, List<PoolRow> pools, List<RouteRow> routes,
                      long noRoute, CacheRow cache, Connections connections, Tunnels tunnels,
                      Map<String, Long> responses, Map<String, Long> refused, Tls tls, Http2Row http2,
                      List<PeerRow> peers) {

    /**
     * One node of the fleet ({@code cluster:}; none when off): its health as this node sees it (always {@code up}
     * for itself), requests this node sent it and received from it, and the share of keys it owns now (0..1).
     */
    record PeerRow(String address, boolean self, String health, int inFlight, long sent, long received,
                   double keyShare) {
    }

    /** The quantiles shown for each backend's latency. */
    static final double[] QUANTILES = {0.5, 0.9, 0.99};

    /**
     * One backend of a pool; {@code tls} when PIBL speaks TLS to it; latencies in milliseconds, NaN when there is no
     * sample yet; {@code slowStart} the share factor while it ramps up after coming back (0.1..1), NaN when it is
     * not ramping.
     */
    record BackendRow(String pool, String address, int weight, boolean tls, String health, int inFlight,
                      long requests, long errors, double p50, double p90, double p99, double slowStart) {
    }

    /**
     * Every pool together: {@code panic} when any pool has every backend out of rotation (its requests go to all
     * of them in turn), {@code panicRequests} the picks made in panic since start, over all pools (a reload keeps
     * the counts).
     */
    record Upstream(boolean panic, long panicRequests) {
    }

    /**
     * One pool: its backends' addresses, how many are in each health state ({@code up}, {@code down},
     * {@code cooldown}), their requests, errors and in-flight summed, the latency quantiles over all of them
     * (NaN before any sample), and the pool's panic; {@code balance} its balancer's policy as the logs name it
     * ({@code least-request}, {@code hash (cookie:SESSION, bounded-load 1.25)}), {@code slowStartSeconds} its
     * {@code slow-start} (0 when off).
     */
    record PoolRow(String name, String balance, long slowStartSeconds, List<String> backends, Map<String, Integer> health, int inFlight, long requests,
                   long errors, double p50, double p90, double p99, boolean panic, long panicRequests) {
    }

    /** One route: requests it took, and of those the ones it refused (403 denied, 429 rate-limited). */
    record RouteRow(String route, String pool, long matches, long denied, long rateLimited) {
    }

    /**
     * The cache; all zeros when it is disabled. {@code hitRatio} is 0..1. {@code index}: the index still loading
     * from the directory, the files it has looked at, the slots in use (entries and Vary markers) of how many.
     */
    record CacheRow(boolean enabled, long entries, long bytes, double hitRatio, Map<CacheStatus, Long> lookups,
                    CacheStore.StoreStatus index) {
    }

    record Connections(int open, long accepted, long rejected) {
    }

    /** Handshakes on the TLS port, completed and failed (zeros without TLS). */
    record Tls(long handshakes, long handshakeFailures) {
    }

    /**
     * HTTP/2: connections and streams served since start, streams open now and refused for
     * {@code http2.max-open-streams}, the GOAWAYs sent by {@link Http2Stats.GoAway} reason
     * (its {@code key()} names them), and the connections closed for silence.
     */
    record Http2Row(long connections, long streams, int openStreams, long refusedStreams, Map<String, Long> goAway,
                    long idleClosed, long headerTimeouts) {
        static Http2Row of(Http2Stats h) {
            Map<String, Long> goAway = new LinkedHashMap<>();
            for (Http2Stats.GoAway g : Http2Stats.GoAway.values()) {
                goAway.put(g.key(), h.goAways(g));
            }
            return new Http2Row(h.connections(), h.streams(), h.openStreams(), h.refusedStreams(),
                    Collections.unmodifiableMap(goAway),
                    h.idleClosedCount(), h.headerTimeouts());
        }
    }

    /** Client connections turned into tunnels to a backend (WebSocket): open now, and opened since start. */
    record Tunnels(int open, long total) {
    }

    static StatusSnapshot of(ProxyView view, long nowMillis) {
        List<BackendRow> rows = new ArrayList<>();
        List<PoolRow> pools = new ArrayList<>();
        boolean panic = false;
        long panicRequests = 0;
        for (Pool pool : view.pools()) {
            LoadBalancer balancer = pool.balancer();
            for (Backend b : balancer.backends()) {
                rows.add(new BackendRow(pool.name(), b.label(), b.weight(), b.tls() != null,
                        BackendReadings.health(b), b.inFlight(), b.requests(), b.failures(),
                        BackendReadings.latencyMillis(b, QUANTILES[0]), BackendReadings.latencyMillis(b, QUANTILES[1]),
                        BackendReadings.latencyMillis(b, QUANTILES[2]), BackendReadings.slowStart(b)));
            }
            PoolRow row = poolRow(pool);
            pools.add(row);
            panic |= row.panic();
            panicRequests += row.panicRequests();
        }
        List<RouteRow> routes = new ArrayList<>();
        Router router = view.router();
        if (router != null) {
            for (Route r : router.routes()) {
                routes.add(new RouteRow(r.label(), r.pool().name(), r.stats().matches(), r.stats().denials(),
                        r.stats().rateLimits()));
            }
        }
        ProxyStats stats = view.stats();
        Map<String, Long> responses = new LinkedHashMap<>();
        for (int cls = 1; cls <= 5; cls++) {
            responses.put(cls + "xx", stats.responses(cls));
        }
        return new StatusSnapshot(view.proxyVersion(), view.startedAtMillis(), nowMillis, view.transport(),
                view.port(), List.copyOf(rows), new Upstream(panic, panicRequests), List.copyOf(pools),
                List.copyOf(routes), router == null ? 0 : router.noRoute(), cacheRow(view.cache()),
                new Connections(stats.openConnections(), stats.acceptedConnections(), stats.rejectedConnections()),
                new Tunnels(stats.openTunnels(), stats.totalTunnels()),
                Collections.unmodifiableMap(responses), refused(stats),
                new Tls(stats.tlsHandshakes(), stats.tlsHandshakeFailures()), Http2Row.of(stats.http2()),
                peers(view.cluster()));
    }

    private static List<PeerRow> peers(Cluster cluster) {
        if (cluster == null) {
            return List.of();
        }
        List<PeerRow> rows = new ArrayList<>();
        for (Cluster.Share share : cluster.shares()) {
            Backend n = share.node();
            boolean self = cluster.isSelf(n);
            rows.add(new PeerRow(n.label(), self, self ? "up" : BackendReadings.health(n), n.inFlight(),
                    self ? 0 : n.requests(), cluster.receivedFrom(n), share.share()));
        }
        return List.copyOf(rows);
    }

    /** Requests refused before anything was forwarded: {@code total}, then one count per refusal status. */
    private static Map<String, Long> refused(ProxyStats stats) {
        Map<String, Long> refused = new LinkedHashMap<>();
        refused.put("total", stats.refusedTotal());
        for (int status : ProxyStats.REFUSALS) {
            refused.put(Integer.toString(status), stats.refused(status));
        }
        return Collections.unmodifiableMap(refused);
    }

    private static PoolRow poolRow(Pool pool) {
        Map<String, Integer> health = new LinkedHashMap<>();
        for (String state : List.of("up", "down", "cooldown")) {
            health.put(state, 0);
        }
        List<String> addresses = new ArrayList<>();
        int inFlight = 0;
        long requests = 0;
        long errors = 0;
        LatencyHistogram.Snapshot latency = LatencyHistogram.Snapshot.empty();
        for (Backend b : pool.balancer().backends()) {
            addresses.add(b.label());
            health.merge(BackendReadings.health(b), 1, Integer::sum);
            inFlight += b.inFlight();
            requests += b.requests();
            errors += b.failures();
            latency = latency.plus(b.latency().snapshot());
        }
        double[] q = new double[QUANTILES.length];
        for (int i = 0; i < q.length; i++) {
            q[i] = latency.count() == 0 ? Double.NaN : latency.percentileMillis(QUANTILES[i]);
        }
        return new PoolRow(pool.name(), pool.balancer().policy(), pool.slowStart().toSeconds(), List.copyOf(addresses), Collections.unmodifiableMap(health), inFlight,
                requests, errors, q[0], q[1], q[2], pool.balancer().inPanic(), pool.balancer().panic().requests());
    }

    long uptimeSeconds() {
        return Math.max(0, (nowMillis - startedAtMillis) / 1000);
    }

    private static CacheRow cacheRow(HttpCache cache) {
        if (cache == null) {
            Map<CacheStatus, Long> zeros = new EnumMap<>(CacheStatus.class);
            for (CacheStatus s : CacheStatus.values()) {
                zeros.put(s, 0L);
            }
            return new CacheRow(false, 0, 0, 0.0, zeros, new CacheStore.StoreStatus(false, 0, 0, 0, 0, 0));
        }
        return new CacheRow(true, cache.store().entryCount(), cache.store().bytes(), cache.stats().hitRatio(),
                cache.stats().snapshot(), cache.store().status());
    }
}
