package pibl.admin;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import pibl.cache.CacheStatus;
import pibl.lb.Backend;
import pibl.route.Pool;
import pibl.runtime.LatencyHistogram;
import pibl.runtime.ProxyStats;

import java.util.HashSet;
import java.util.Set;

/**
 * The latencies as Prometheus histograms, so that they add up across nodes and over time (quantiles do not):
 *
 * <pre>
 * pibl_request_duration_seconds_bucket{class="2xx",cache="HIT",le="0.000131072"} 812   request to last byte
 * pibl_response_first_byte_seconds_bucket{le="0.000262144"} 640                         request to response head
 * pibl_backend_response_seconds_bucket{backend="10.0.0.1:9001",pool="default",le="0.004194304"} 97   dispatch to
 *                                                                                       backend head
 * </pre>
 *
 * Read at scrape time from the {@link LatencyHistogram}s the proxy records into anyway (one {@code LongAdder}
 * increment per sample); the buckets double from 65.5 µs to 68.7 s ({@link LatencyHistogram#COARSE_BOUNDS_SECONDS}).
 * A class and cache pair that never occurred is left out.
 */
final class Histograms implements MultiCollector {
    private final ProxyView view;

    Histograms(ProxyView view) {
        this.view = view;
    }

    @Override
    public MetricSnapshots collect() {
        ProxyStats stats = view.stats();
        HistogramSnapshot.Builder requests = HistogramSnapshot.builder().name("pibl_request_duration_seconds")
                .unit(Unit.SECONDS).help("client requests, from their head arriving to their response's last byte");
        for (int cls = 1; cls <= 5; cls++) {
            for (int outcome = 0; outcome < ProxyStats.CACHE_OUTCOMES; outcome++) {
                LatencyHistogram.Snapshot s = stats.durations(cls, outcome).snapshot();
                if (s.count() > 0) {
                    String cache = outcome == 0 ? "-" : CacheStatus.values()[outcome - 1].name();
                    requests.dataPoint(point(s, Labels.of("cache", cache, "class", cls + "xx")));
                }
            }
        }
        HistogramSnapshot.Builder firstByte = HistogramSnapshot.builder().name("pibl_response_first_byte_seconds")
                .unit(Unit.SECONDS).help("client requests, from their head arriving to their response head going out")
                .dataPoint(point(stats.firstByte().snapshot(), Labels.EMPTY));
        HistogramSnapshot.Builder backends = HistogramSnapshot.builder().name("pibl_backend_response_seconds")
                .unit(Unit.SECONDS).help("backend requests, from being sent to the backend's response head");
        Set<String> seen = new HashSet<>();
        for (Pool pool : view.pools()) {
            for (Backend b : pool.balancer().backends()) {
                if (seen.add(pool.name() + " " + b.label())) { // one series per pool and address
                    backends.dataPoint(point(b.latency().snapshot(),
                            Labels.of("backend", b.label(), "pool", pool.name())));
                }
            }
        }
        return MetricSnapshots.of(requests.build(), firstByte.build(), backends.build());
    }

    private static HistogramDataPointSnapshot point(LatencyHistogram.Snapshot s, Labels labels) {
        return HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(LatencyHistogram.COARSE_BOUNDS_SECONDS,
                        s.coarseCounts()))
                .sum(s.sumNanos() / 1e9).labels(labels).build();
    }
}
