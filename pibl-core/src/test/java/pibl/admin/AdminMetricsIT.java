package pibl.admin;

import pibl.testing.NoLeaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.cache.CacheStatus;
import pibl.cache.HttpCache;
import pibl.config.CacheConfig;
import pibl.lb.Backend;
import pibl.testing.RawHttp;

import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static pibl.admin.FakeView.backend;
import static pibl.admin.FakeView.served;

/**
 * {@code GET /metrics} over real sockets: the exact series Prometheus will store, read from the proxy's own
 * counters at scrape time.
 */
@ExtendWith(NoLeaks.class)
class AdminMetricsIT {
    @Test
    void backendSeriesReadTheBackendsCounters() throws Exception {
        Backend b1 = served(backend(9001), 5, 1);
        b1.recordFailure();
        b1.recordFailure();
        for (int i = 0; i < 50; i++) {
            b1.recordLatency(TimeUnit.MILLISECONDS.toNanos(20));
        }
        Backend b2 = backend(9002, 4);
        for (int i = 0; i < 3; i++) {
            b2.recordFailure();
        }
        try (AdminFixture admin = AdminFixture.start(new FakeView(b1, b2))) {
            String text = admin.metrics();

            assertThat(text).as("Micrometer's text format: counters get _total, labels quoted, values as doubles")
                    .contains("pibl_backend_requests_total{backend=\"127.0.0.1:9001\",pool=\"default\"} 6.0\n")
                    .contains("# TYPE pibl_backend_requests_total counter\n")
                    .contains("# TYPE pibl_backend_in_flight gauge\n")
                    .contains("pibl_backend_latency_seconds{backend=\"127.0.0.1:9002\",pool=\"default\",quantile=\"0.5\"} NaN\n");
            Map<String, Double> m = parse(text);
            assertThat(m.get("pibl_backend_requests_total{backend=\"127.0.0.1:9002\",pool=\"default\"}")).isEqualTo(0.0);
            assertThat(m.get("pibl_backend_failures_total{backend=\"127.0.0.1:9001\",pool=\"default\"}")).isEqualTo(2.0);
            assertThat(m.get("pibl_backend_failures_total{backend=\"127.0.0.1:9002\",pool=\"default\"}")).isEqualTo(3.0);
            assertThat(m.get("pibl_backend_in_flight{backend=\"127.0.0.1:9001\",pool=\"default\"}")).isEqualTo(1.0);
            assertThat(m.get("pibl_backend_up{backend=\"127.0.0.1:9001\",pool=\"default\"}"))
                    .as("two failures are below the three that start a cooldown").isEqualTo(1.0);
            assertThat(m.get("pibl_backend_up{backend=\"127.0.0.1:9002\",pool=\"default\"}")).as("cooling down is not up")
                    .isEqualTo(0.0);
            assertThat(m.get("pibl_backend_weight{backend=\"127.0.0.1:9002\",pool=\"default\"}")).isEqualTo(4.0);
            for (String q : List.of("0.5", "0.9", "0.99")) {
                assertThat(m.get("pibl_backend_latency_seconds{backend=\"127.0.0.1:9001\",pool=\"default\",quantile=\"" + q + "\"}"))
                        .as("quantile " + q + " of fifty 20 ms samples, in seconds").isCloseTo(0.020, within(0.005));
            }
        }
    }

    @Test
    void proxyWideSeriesReadConnectionsResponsesAndTheCache(@TempDir Path dir) throws Exception {
        FakeView view = new FakeView(backend(9001));
        view.stats.connectionOpened();
        view.stats.connectionOpened();
        view.stats.connectionRejected();
        view.responses(200, 201, 301, 404, 500, 502);
        try (HttpCache cache = new HttpCache(CacheConfig.defaults().withDirectory(dir), Clock.systemUTC());
             AdminFixture admin = AdminFixture.start(view)) {
            cache.stats().record(CacheStatus.HIT);
            cache.stats().record(CacheStatus.HIT);
            cache.stats().record(CacheStatus.REVALIDATED);
            cache.stats().record(CacheStatus.MISS);
            Map<String, Double> before = parse(admin.metrics());
            assertThat(before.get("pibl_cache_enabled")).isEqualTo(0.0);
            assertThat(before.get("pibl_cache_lookups_total{status=\"HIT\"}"))
                    .as("no cache in the view yet: zeros, same series").isEqualTo(0.0);

            view.cache = cache;
            Map<String, Double> m = parse(admin.metrics());

            assertThat(m.get("pibl_connections_open")).isEqualTo(2.0);
            assertThat(m.get("pibl_upstream_panic")).as("the only backend is up").isEqualTo(0.0);
            assertThat(m.get("pibl_upstream_panic_requests_total")).isEqualTo(0.0);
            assertThat(m.get("pibl_connections_accepted_total")).isEqualTo(2.0);
            assertThat(m.get("pibl_connections_rejected_total")).isEqualTo(1.0);
            assertThat(m.get("pibl_tunnels_open")).as("no WebSocket tunnel in this view").isEqualTo(0.0);
            assertThat(m.get("pibl_tunnels_total")).isEqualTo(0.0);
            assertThat(m.get("pibl_responses_total{class=\"1xx\"}")).isEqualTo(0.0);
            assertThat(m.get("pibl_responses_total{class=\"2xx\"}")).isEqualTo(2.0);
            assertThat(m.get("pibl_responses_total{class=\"3xx\"}")).isEqualTo(1.0);
            assertThat(m.get("pibl_responses_total{class=\"4xx\"}")).isEqualTo(1.0);
            assertThat(m.get("pibl_responses_total{class=\"5xx\"}")).isEqualTo(2.0);
            assertThat(m.get("pibl_cache_enabled")).as("the cache is read from the view at every scrape")
                    .isEqualTo(1.0);
            assertThat(m.get("pibl_cache_lookups_total{status=\"HIT\"}")).isEqualTo(2.0);
            assertThat(m.get("pibl_cache_lookups_total{status=\"REVALIDATED\"}")).isEqualTo(1.0);
            assertThat(m.get("pibl_cache_lookups_total{status=\"MISS\"}")).isEqualTo(1.0);
            assertThat(m.get("pibl_cache_lookups_total{status=\"STALE\"}")).isEqualTo(0.0);
            assertThat(m.get("pibl_cache_lookups_total{status=\"BYPASS\"}")).isEqualTo(0.0);
            assertThat(m.get("pibl_cache_entries")).isEqualTo(0.0);
            assertThat(m.get("pibl_cache_bytes")).isEqualTo(0.0);
            assertThat(m.get("pibl_cache_stored_total")).isEqualTo(0.0);
            assertThat(m.get("pibl_cache_evictions_total")).isEqualTo(0.0);
        }
    }

    @Test
    void latenciesAreHistogramsThatAddUp() throws Exception {
        FakeView view = new FakeView(backend(9001));
        long ms = 1_000_000;
        view.stats.exchangeEnded(200, 1 + CacheStatus.HIT.ordinal(), 100_000);      // 0.1 ms
        view.stats.exchangeEnded(200, 1 + CacheStatus.HIT.ordinal(), 3 * ms);
        view.stats.exchangeEnded(502, 0, 2_000 * ms);
        view.stats.firstByte(3 * ms);
        view.backends().get(0).recordLatency(20 * ms);
        try (AdminFixture admin = AdminFixture.start(view)) {
            Map<String, Double> m = parse(admin.metrics());
            String hit = "pibl_request_duration_seconds_bucket{cache=\"HIT\",class=\"2xx\",le=\"";
            assertThat(m.get(hit + "1.31072E-4\"}")).as("cumulative: the 0.1 ms one is below 131 µs").isEqualTo(1.0);
            assertThat(m.get(hit + "0.004194304\"}")).as("and both below 4.2 ms").isEqualTo(2.0);
            assertThat(m.get(hit + "+Inf\"}")).isEqualTo(2.0);
            assertThat(m.get("pibl_request_duration_seconds_count{cache=\"HIT\",class=\"2xx\"}")).isEqualTo(2.0);
            assertThat(m.get("pibl_request_duration_seconds_sum{cache=\"HIT\",class=\"2xx\"}"))
                    .isCloseTo(0.0031, within(1e-9));
            assertThat(m.get("pibl_request_duration_seconds_count{cache=\"-\",class=\"5xx\"}")).isEqualTo(1.0);
            assertThat(m).as("a pair that never occurred is left out")
                    .doesNotContainKey("pibl_request_duration_seconds_count{cache=\"MISS\",class=\"2xx\"}");
            assertThat(m.get("pibl_response_first_byte_seconds_count")).isEqualTo(1.0);
            assertThat(m.get("pibl_backend_response_seconds_count{backend=\"127.0.0.1:9001\",pool=\"default\"}")).isEqualTo(1.0);
            assertThat(m.get("pibl_backend_response_seconds_bucket{backend=\"127.0.0.1:9001\",pool=\"default\",le=\"0.016777216\"}"))
                    .as("20 ms is above 16.8 ms").isEqualTo(0.0);
            assertThat(m.get("pibl_backend_response_seconds_bucket{backend=\"127.0.0.1:9001\",pool=\"default\",le=\"0.033554432\"}"))
                    .isEqualTo(1.0);
        }
    }

    @Test
    void aReloadAddsNewBackendsDropsVanishedOnesAndRebindsReplacedOnes() throws Exception {
        Backend kept = served(backend(9001), 3, 0);
        Backend dropped = served(backend(9002), 2, 0);
        Backend replaced = served(backend(9003), 7, 0);
        FakeView view = new FakeView(kept, dropped, replaced);
        try (AdminFixture admin = AdminFixture.start(view)) {
            assertThat(parse(admin.metrics())).containsKeys("pibl_backend_requests_total{backend=\"127.0.0.1:9002\",pool=\"default\"}",
                    "pibl_backend_requests_total{backend=\"127.0.0.1:9003\",pool=\"default\"}");

            view.backends = List.of(kept, served(backend(9003), 1, 0), served(backend(9004), 9, 0));
            kept.onRequestStart();
            Map<String, Double> m = parse(admin.metrics());

            assertThat(m.get("pibl_backend_requests_total{backend=\"127.0.0.1:9001\",pool=\"default\"}"))
                    .as("a kept backend keeps its counting").isEqualTo(4.0);
            assertThat(m).as("a removed backend's series go with it")
                    .doesNotContainKeys("pibl_backend_requests_total{backend=\"127.0.0.1:9002\",pool=\"default\"}",
                            "pibl_backend_up{backend=\"127.0.0.1:9002\",pool=\"default\"}",
                            "pibl_backend_latency_seconds{backend=\"127.0.0.1:9002\",pool=\"default\",quantile=\"0.99\"}");
            assertThat(m.get("pibl_backend_requests_total{backend=\"127.0.0.1:9003\",pool=\"default\"}"))
                    .as("a new object at a known address is read, not the old one").isEqualTo(1.0);
            assertThat(m.get("pibl_backend_requests_total{backend=\"127.0.0.1:9004\",pool=\"default\"}")).isEqualTo(9.0);
        }
    }

    @Test
    void jvmAndProcessSeriesComeAlong() throws Exception {
        try (AdminFixture admin = AdminFixture.start(new FakeView(backend(9001)))) {
            RawHttp.Response r = admin.get("/metrics");

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("content-type")).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
            assertThat(r.header("cache-control")).isEqualTo("no-store");
            assertThat(parse(r.bodyText()).keySet())
                    .anyMatch(k -> k.startsWith("jvm_memory_used_bytes{"))
                    .anyMatch(k -> k.startsWith("jvm_gc_"))
                    .anyMatch(k -> k.startsWith("jvm_threads_live_threads"))
                    .anyMatch(k -> k.startsWith("system_cpu_count"))
                    .anyMatch(k -> k.startsWith("process_uptime_seconds"));
        }
    }

    @Test
    void aHeadScrapeHasNoBody() throws Exception {
        try (AdminFixture admin = AdminFixture.start(new FakeView(backend(9001)));
             RawHttp http = new RawHttp(admin.port(), 5000)) {
            http.send("HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttp.Response head = http.read(true);

            assertThat(head.status()).isEqualTo(200);
            assertThat(Integer.parseInt(head.header("content-length"))).isPositive();
            assertThat(http.get("/favicon.ico").status())
                    .as("the same connection goes on: no body bytes were sent after the HEAD's headers")
                    .isEqualTo(204);
        }
    }

    /** {@code name{labels}} to value, for every sample line. */
    static Map<String, Double> parse(String text) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            m.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return m;
    }
}
