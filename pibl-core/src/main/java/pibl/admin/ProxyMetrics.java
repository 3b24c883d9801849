package pibl.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import pibl.cache.CacheStatus;
import pibl.cache.HttpCache;
import pibl.cluster.Cluster;
import pibl.lb.Backend;
import pibl.lb.LoadBalancer;
import pibl.route.Pool;
import pibl.route.Route;
import pibl.route.RouteStats;
import pibl.route.Router;
import pibl.runtime.Http2Stats;
import pibl.runtime.ProxyStats;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * {@code GET /metrics}: the proxy's own counters as Prometheus series, plus the JVM's. Nothing here runs per
 * proxied request: every meter is a function over a counter the proxy keeps anyway ({@link Backend},
 * {@link ProxyStats}, the cache's stats), read only when Prometheus scrapes; the latency histograms too.
 *
 * <pre>
 * pibl_backend_requests_total{backend="10.0.0.1:9001",pool="default"} 5.0
 * pibl_backend_up{backend="10.0.0.1:9001",pool="default"} 1.0
 * pibl_backend_latency_seconds{backend="10.0.0.1:9001",pool="default",quantile="0.99"} 0.0123   (kept; the
 *                                                                  histograms below add up)
 * pibl_pool_panic{pool="default"} 0.0
 * pibl_pool_info{balance="least-request",pool="default"} 1.0
 * pibl_route_requests_total{pool="default",route="/"} 5.0         (and _denied_total, _rate_limited_total)
 * pibl_requests_no_route_total 0.0
 * pibl_request_duration_seconds_bucket{cache="HIT",class="2xx",le="0.000131072"} 812  ({@link Histograms})
 * pibl_upstream_panic 0.0
 * pibl_upstream_panic_requests_total 0.0
 * pibl_cache_lookups_total{status="HIT"} 3.0
 * pibl_responses_total{class="2xx"} 8.0
 * </pre>
 *
 * <p>Pools, backends, routes and the fleet's nodes change on reload, so each scrape first compares the view's
 * current ones with those it has meters for: a backend by pool and address, a route by its label, a pool by name, a
 * node by address. A new one gets its
 * meters, a vanished one loses them, and one whose object was replaced is re-bound to the new object (a backend's
 * counters then restart, which Prometheus reads as a counter reset; a route keeps its counters over a reload). The
 * proxy-wide meters read the view, so a replaced cache or stats object is followed without re-binding.
 */
final class ProxyMetrics implements AutoCloseable {
    /** Prometheus text exposition format 0.0.4, what {@link PrometheusMeterRegistry#scrape()} writes. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final ProxyView view;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    /** By pool and backend address: the object the meters read, and the meters. Guarded by {@code this}. */
    private final Map<String, Bound> bound = new HashMap<>();
    /** By route label, the same for routes; and by name for pools. Guarded by {@code this}. */
    private final Map<String, Bound> boundRoutes = new HashMap<>();
    private final Map<String, Bound> boundPools = new HashMap<>();
    /** By address, the fleet's nodes. Guarded by {@code this}. */
    private final Map<String, Bound> boundPeers = new HashMap<>();

    /**
     * {@code read} is what the meters read (compared by identity), {@code pool} the pool's name they are tagged with,
     * {@code name} the backend's address, the pool's or the route's label.
     */
    private record Bound(Object read, String pool, String name, List<Meter> meters) {
    }

    ProxyMetrics(ProxyView view) {
        this.view = view;
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        bindProxy();
        registry.getPrometheusRegistry().register(new Histograms(view));
    }

    /** The current pools', backends' and routes' meters brought up to date, then every series in the text format. */
    synchronized String scrape() {
        List<Pool> pools = view.pools();
        syncBackends(pools);
        syncPools(pools);
        syncRoutes(view.router());
        syncCluster(view.cluster());
        return registry.scrape();
    }

    @Override
    public synchronized void close() {
        gcMetrics.close();
        registry.close();
    }

    /** The fleet's nodes in force, when it is on (a reload may add or remove nodes: followed as backends are). */
    private void syncCluster(Cluster cluster) {
        Map<String, Bound> now = new LinkedHashMap<>();
        if (cluster != null) {
            for (Backend n : cluster.nodes()) {
                now.put(n.label(), new Bound(n, "", n.label(), List.of()));
            }
        }
        sync(boundPeers, now, w -> {
            Backend n = (Backend) w.read();
            Tags peer = Tags.of("peer", n.label());
            return new Bound(n, "", n.label(), List.of(
                    FunctionCounter.builder("pibl.cluster.requests.sent", n, Backend::requests)
                            .description("requests this node sent the peer (keys it owns)").tags(peer)
                            .register(registry),
                    FunctionCounter.builder("pibl.cluster.requests.received", n, cluster::receivedFrom)
                            .description("marked requests the peer sent this node").tags(peer).register(registry),
                    Gauge.builder("pibl.cluster.peer.up", n, b -> cluster.isSelf(b) || b.isAvailable() ? 1 : 0)
                            .description("1 when the peer is in rotation (this node always is)").tags(peer)
                            .register(registry),
                    Gauge.builder("pibl.cluster.key.share", n, cluster::keyShare)
                            .description("the share of keys the node owns now (0..1)").tags(peer)
                            .register(registry)));
        });
    }

    private void bindProxy() {
        counter("pibl.connections.accepted", "client connections accepted", Tags.empty(),
                v -> v.stats().acceptedConnections());
        counter("pibl.connections.rejected", "client connections refused over the connection limit", Tags.empty(),
                v -> v.stats().rejectedConnections());
        gauge("pibl.connections.open", "client connections open now", Tags.empty(), null,
                v -> v.stats().openConnections());
        counter("pibl.tls.handshakes", "TLS handshakes completed", Tags.empty(), v -> v.stats().tlsHandshakes());
        counter("pibl.tls.handshake.failures", "TLS handshakes failed (cleartext or garbage on the TLS port, "
                + "no common protocol or cipher, timeouts)", Tags.empty(), v -> v.stats().tlsHandshakeFailures());
        gauge("pibl.tunnels.open", "client connections tunnelled to a backend (WebSocket) now", Tags.empty(), null,
                v -> v.stats().openTunnels());
        counter("pibl.tunnels", "client connections tunnelled to a backend (WebSocket) since start", Tags.empty(),
                v -> v.stats().totalTunnels());
        for (int cls = 1; cls <= 5; cls++) {
            int c = cls;
            counter("pibl.responses", "responses sent to clients, by status class", Tags.of("class", cls + "xx"),
                    v -> v.stats().responses(c));
        }
        for (int status : ProxyStats.REFUSALS) {
            counter("pibl.requests.refused", "requests answered by PIBL itself and never forwarded, by status",
                    Tags.of("status", Integer.toString(status)), v -> v.stats().refused(status));
        }
        counter("pibl.http2.connections", "HTTP/2 client connections served (h2c and h2)", Tags.empty(),
                v -> v.stats().http2().connections());
        counter("pibl.http2.streams", "HTTP/2 streams opened by clients", Tags.empty(),
                v -> v.stats().http2().streams());
        gauge("pibl.http2.streams.open", "HTTP/2 streams open now on all client connections", Tags.empty(), null,
                v -> v.stats().http2().openStreams());
        counter("pibl.http2.streams.refused",
                "HTTP/2 streams refused (REFUSED_STREAM) because http2.max-open-streams were open", Tags.empty(),
                v -> v.stats().http2().refusedStreams());
        for (Http2Stats.GoAway why : Http2Stats.GoAway.values()) {
            counter("pibl.http2.goaway", "GOAWAY frames sent to HTTP/2 clients, by reason", Tags.of("reason", why.key()),
                    v -> v.stats().http2().goAways(why));
        }
        counter("pibl.http2.closed.idle", "HTTP/2 connections closed with no stream open for timeouts.client-idle",
                Tags.empty(), v -> v.stats().http2().idleClosedCount());
        counter("pibl.http2.closed.header.timeout",
                "HTTP/2 connections closed with no request head within timeouts.client-header", Tags.empty(),
                v -> v.stats().http2().headerTimeouts());
        gauge("pibl.upstream.panic", "1 when every backend of a pool is out of rotation and its requests go to all of "
                + "them in turn", Tags.empty(), null,
                v -> v.pools().stream().anyMatch(p -> p.balancer().inPanic()) ? 1 : 0);
        counter("pibl.upstream.panic.requests", "backends picked in panic (every backend of the pool out of rotation)",
                Tags.empty(), v -> v.pools().stream().mapToLong(p -> p.balancer().panic().requests()).sum());
        counter("pibl.requests.no.route", "requests no route took, answered 404", Tags.empty(),
                v -> v.router() == null ? 0 : v.router().noRoute());
        gauge("pibl.cache.enabled", "1 when the cache is on", Tags.empty(), null, v -> v.cache() == null ? 0 : 1);
        gauge("pibl.cache.entries", "stored variants", Tags.empty(), null,
                v -> v.cache() == null ? 0 : v.cache().store().entryCount());
        gauge("pibl.cache.bytes", "bytes of the stored variants' files", Tags.empty(), null,
                v -> v.cache() == null ? 0 : v.cache().store().bytes());
        gauge("pibl.cache.index.slots", "index slots in use (entries and Vary markers)", Tags.empty(), null,
                v -> v.cache() == null ? 0 : v.cache().store().status().slots());
        gauge("pibl.cache.index.max.slots", "index slots at most (cache.max-entries)", Tags.empty(), null,
                v -> v.cache() == null ? 0 : v.cache().store().status().maxSlots());
        counter("pibl.cache.stored", "responses stored since start", Tags.empty(),
                v -> v.cache() == null ? 0 : v.cache().store().status().stored());
        counter("pibl.cache.evictions", "entries evicted since start to make room (max-entries, max-size)",
                Tags.empty(), v -> v.cache() == null ? 0 : v.cache().store().status().evicted());
        gauge("pibl.cache.index.loading", "1 while the index is being rebuilt from the directory", Tags.empty(),
                null, v -> v.cache() == null || !v.cache().store().status().loading() ? 0 : 1);
        for (CacheStatus status : CacheStatus.values()) {
            counter("pibl.cache.lookups", "exchanges by what the cache did (the X-Cache value)",
                    Tags.of("status", status.name()), v -> {
                        HttpCache cache = v.cache();
                        return cache == null ? 0 : cache.stats().count(status);
                    });
        }
    }

    private void counter(String name, String help, Tags tags, ToDoubleFunction<ProxyView> f) {
        FunctionCounter.builder(name, view, f).description(help).tags(tags).register(registry);
    }

    private void gauge(String name, String help, Tags tags, String unit, ToDoubleFunction<ProxyView> f) {
        Gauge.builder(name, view, f).description(help).tags(tags).baseUnit(unit).strongReference(true)
                .register(registry);
    }

    private void syncBackends(List<Pool> pools) {
        Map<String, Bound> now = new LinkedHashMap<>();
        for (Pool p : pools) {
            for (Backend b : p.balancer().backends()) {
                now.putIfAbsent(p.name() + " " + b.label(), new Bound(b, p.name(), b.label(), List.of()));
            }
        }
        sync(bound, now, w -> bind((Backend) w.read(), w.pool()));
    }

    private void syncPools(List<Pool> pools) {
        Map<String, Bound> now = new LinkedHashMap<>();
        for (Pool p : pools) {
            now.put(p.name(), new Bound(p.balancer(), p.name(), p.name(), List.of()));
        }
        sync(boundPools, now, w -> new Bound(w.read(), w.pool(), w.name(), List.of(
                Gauge.builder("pibl.pool.panic", (LoadBalancer) w.read(), b -> b.inPanic() ? 1 : 0)
                        .description("1 when every backend of the pool is out of rotation (panic)")
                        .tags(Tags.of("pool", w.pool())).register(registry),
                Gauge.builder("pibl.pool.info", () -> 1)
                        .description("always 1; the pool's balancing policy is the balance tag")
                        .tags(Tags.of("pool", w.pool(), "balance", ((LoadBalancer) w.read()).policy()))
                        .register(registry),
                FunctionCounter.builder("pibl.pool.panic.requests", (LoadBalancer) w.read(), b -> b.panic().requests())
                        .description("the pool's backends picked in panic").tags(Tags.of("pool", w.pool()))
                        .register(registry))));
    }

    private void syncRoutes(Router router) {
        Map<String, Bound> now = new LinkedHashMap<>();
        if (router != null) {
            for (Route r : router.routes()) {
                now.put(r.label(), new Bound(r.stats(), r.pool().name(), r.label(), List.of()));
            }
        }
        sync(boundRoutes, now, w -> {
            RouteStats stats = (RouteStats) w.read();
            Tags tags = Tags.of("route", w.name(), "pool", w.pool());
            return new Bound(stats, w.pool(), w.name(), List.of(
                    FunctionCounter.builder("pibl.route.requests", stats, RouteStats::matches)
                            .description("requests the route took, refused ones included").tags(tags)
                            .register(registry),
                    FunctionCounter.builder("pibl.route.denied", stats, RouteStats::denials)
                            .description("requests the route answered 403 (allow:, deny:)").tags(tags)
                            .register(registry),
                    FunctionCounter.builder("pibl.route.rate.limited", stats, RouteStats::rateLimits)
                            .description("requests the route answered 429 (rate-limit:)").tags(tags)
                            .register(registry)));
        });
    }

    /**
     * Brings {@code bound} to {@code now} (both by key): what is gone or read from another object or pool loses its
     * meters, what is new gets them from {@code bind} (given the wanted entry, meters empty).
     */
    private void sync(Map<String, Bound> bound, Map<String, Bound> now, Function<Bound, Bound> bind) {
        bound.entrySet().removeIf(e -> {
            Bound want = now.get(e.getKey());
            if (want != null && want.read() == e.getValue().read() && want.pool().equals(e.getValue().pool())) {
                return false;
            }
            e.getValue().meters().forEach(registry::remove);
            return true;
        });
        now.forEach((key, want) -> bound.computeIfAbsent(key, k -> bind.apply(want)));
    }

    private Bound bind(Backend b, String pool) {
        Tags tags = Tags.of("backend", b.label(), "pool", pool);
        List<Meter> meters = new ArrayList<>();
        meters.add(FunctionCounter.builder("pibl.backend.requests", b, Backend::requests)
                .description("requests sent to the backend").tags(tags).register(registry));
        meters.add(FunctionCounter.builder("pibl.backend.failures", b, Backend::failures)
                .description("attempts that failed: refused, reset or timed out").tags(tags).register(registry));
        meters.add(Gauge.builder("pibl.backend.in.flight", b, Backend::inFlight)
                .description("requests at the backend now").tags(tags).register(registry));
        meters.add(Gauge.builder("pibl.backend.up", b, x -> BackendReadings.UP.equals(BackendReadings.health(x)) ? 1 : 0)
                .description("1 when the backend is in rotation and healthy").tags(tags).register(registry));
        meters.add(Gauge.builder("pibl.backend.weight", b, Backend::weight)
                .description("configured weight").tags(tags).register(registry));
        meters.add(Gauge.builder("pibl.backend.slow.start", b, Backend::rampFactor)
                .description("share of its full weight while it ramps up after coming back (slow-start); 1 when not")
                .tags(tags).register(registry));
        for (double q : StatusSnapshot.QUANTILES) {
            meters.add(Gauge.builder("pibl.backend.latency", b, x -> BackendReadings.latencyMillis(x, q) / 1000.0)
                    .description("recent response latency quantiles").baseUnit("seconds")
                    .tags(tags.and("quantile", quantile(q))).register(registry));
        }
        return new Bound(b, pool, b.label(), List.copyOf(meters));
    }

    private static String quantile(double q) {
        return Double.toString(q);
    }
}
