package pibl.admin;

import pibl.testing.NoLeaks;
import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.cache.CacheKey;
import pibl.cache.CacheStatus;
import pibl.cache.CacheWriter;
import pibl.cache.HttpCache;
import pibl.config.BackendConfig;
import pibl.config.CacheConfig;
import pibl.lb.Backend;
import pibl.testing.RawHttp;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static pibl.admin.FakeView.backend;
import static pibl.admin.FakeView.served;

/** {@code GET /status} over real sockets: every field read from the same counters the proxy bumps. */
@ExtendWith(NoLeaks.class)
class AdminStatusIT {
    @Test
    void backendsShowTheirCountersHealthAndLatency() throws Exception {
        Backend busy = served(backend(9001), 5, 2);
        busy.recordFailure();
        for (int i = 0; i < 100; i++) {
            busy.recordLatency(TimeUnit.MILLISECONDS.toNanos(10));
        }
        Backend cooling = backend(9002, 3);
        for (int i = 0; i < 3; i++) {
            cooling.onRequestStart();
            cooling.onRequestEnd();
            cooling.recordFailure();
        }
        Backend secure = new Backend(new BackendConfig("127.0.0.1", 9443, 1, BackendConfig.Tls.ON));
        try (AdminFixture admin = AdminFixture.start(new FakeView(busy, cooling, secure))) {
            JsonNode backends = admin.status().get("backends");

            assertThat(backends).hasSize(3);
            JsonNode b1 = backends.get(0);
            assertThat(b1.get("address").asText()).isEqualTo("127.0.0.1:9001");
            assertThat(b1.get("weight").asInt()).isEqualTo(1);
            assertThat(b1.get("tls").asBoolean()).isFalse();
            assertThat(backends.get(2).get("tls").asBoolean()).as("PIBL speaks TLS to it").isTrue();
            assertThat(b1.get("health").asText()).isEqualTo("up");
            assertThat(b1.get("requests").asLong()).as("five ended and two still open").isEqualTo(7);
            assertThat(b1.get("inFlight").asInt()).isEqualTo(2);
            assertThat(b1.get("errors").asLong()).isEqualTo(1);
            JsonNode latency = b1.get("latencyMs");
            for (String p : List.of("p50", "p90", "p99")) {
                assertThat(latency.get(p).asDouble()).as(p + " of a hundred 10 ms samples").isCloseTo(10, within(2.5));
            }
            assertThat(latency.get("p50").asDouble())
                    .as("the backend's own histogram, rounded to the microsecond")
                    .isEqualTo(Math.round(busy.latencyPercentile(0.5) * 1000) / 1000.0);

            JsonNode b2 = backends.get(1);
            assertThat(b2.get("address").asText()).isEqualTo("127.0.0.1:9002");
            assertThat(b2.get("weight").asInt()).isEqualTo(3);
            assertThat(b2.get("health").asText()).as("three failures in a row start the passive cooldown")
                    .isEqualTo("cooldown");
            assertThat(b2.get("errors").asLong()).isEqualTo(3);
            assertThat(b2.get("latencyMs").get("p99").isNull())
                    .as("no sample yet is null, not a misleading 0").isTrue();
        }
    }

    @Test
    void theUpstreamShowsWhetherThePoolIsInPanicAndWhatWasSentSo() throws Exception {
        Backend a = backend(9001);
        Backend b = backend(9002);
        FakeView view = new FakeView(a, b);
        try (AdminFixture admin = AdminFixture.start(view)) {
            JsonNode calm = admin.status().get("upstream");
            assertThat(calm.get("panic").asBoolean()).isFalse();
            assertThat(calm.get("panicRequests").asLong()).isZero();

            for (Backend x : List.of(a, b)) {
                for (int i = 0; i < 3; i++) {
                    x.recordFailure();
                }
            }
            for (int i = 0; i < 5; i++) {
                view.balancer().pick(List.of());
            }
            JsonNode status = admin.status();
            assertThat(status.get("upstream").get("panic").asBoolean()).as("both cooling down").isTrue();
            assertThat(status.get("upstream").get("panicRequests").asLong()).isEqualTo(5);
            assertThat(status.get("backends").get(0).get("health").asText())
                    .as("each backend's own state is still shown as it is").isEqualTo("cooldown");
        }
    }

    @Test
    void aBackendRampingUpShowsItsSlowStartShareInStatusPageAndMetrics() throws Exception {
        java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong(1_000_000_000L);
        pibl.config.HealthCheckConfig health = pibl.config.HealthCheckConfig.defaults();
        pibl.config.BalanceConfig balance = pibl.config.BalanceConfig.defaults(); // slow start 30 s
        List<pibl.config.BackendConfig> one = List.of(pibl.config.BackendConfig.parse("127.0.0.1:9001"));
        List<pibl.config.BackendConfig> two = List.of(pibl.config.BackendConfig.parse("127.0.0.1:9001"),
                pibl.config.BackendConfig.parse("127.0.0.1:9002"));
        try (pibl.lb.BackendGroup first = pibl.lb.BackendGroup.create(one, health, balance, nanos::get);
             pibl.lb.BackendGroup group = first.reconfigure(two, health, balance);
             AdminFixture admin = AdminFixture.start(new FakeView(group.backends().toArray(new Backend[0])))) {
            nanos.addAndGet(TimeUnit.SECONDS.toNanos(12));

            JsonNode backends = admin.status().get("backends");
            assertThat(backends.get(0).get("slowStart").isNull()).as("not ramping: null").isTrue();
            assertThat(backends.get(1).get("slowStart").asDouble()).as("added 12 s into a 30 s ramp")
                    .isEqualTo(0.4);
            assertThat(admin.get("/").bodyText()).contains("slow start 40 %");
            assertThat(admin.metrics())
                    .contains("pibl_backend_slow_start{backend=\"127.0.0.1:9002\",pool=\"default\"} 0.4")
                    .contains("pibl_backend_slow_start{backend=\"127.0.0.1:9001\",pool=\"default\"} 1.0");

            nanos.addAndGet(TimeUnit.SECONDS.toNanos(18));
            assertThat(admin.status().get("backends").get(1).get("slowStart").isNull()).as("ramp over").isTrue();
        }
    }

    @Test
    void connectionsAndResponsesByStatusClass() throws Exception {
        FakeView view = new FakeView(backend(9001));
        view.stats.connectionOpened();
        view.stats.connectionOpened();
        view.stats.connectionOpened();
        view.stats.connectionClosed();
        view.stats.connectionRejected();
        view.stats.tunnelOpened();
        view.stats.tunnelOpened();
        view.stats.tunnelClosed();
        view.responses(101, 200, 200, 204, 304, 404, 503, 503, 502);
        try (AdminFixture admin = AdminFixture.start(view)) {
            JsonNode status = admin.status();

            JsonNode connections = status.get("connections");
            assertThat(connections.get("open").asInt()).isEqualTo(2);
            assertThat(connections.get("accepted").asLong()).isEqualTo(3);
            assertThat(connections.get("rejected").asLong()).isEqualTo(1);
            JsonNode tunnels = status.get("tunnels");
            assertThat(tunnels.get("open").asInt()).isEqualTo(1);
            assertThat(tunnels.get("total").asLong()).isEqualTo(2);
            JsonNode responses = status.get("responses");
            assertThat(responses.get("1xx").asLong()).isEqualTo(1);
            assertThat(responses.get("2xx").asLong()).isEqualTo(3);
            assertThat(responses.get("3xx").asLong()).isEqualTo(1);
            assertThat(responses.get("4xx").asLong()).isEqualTo(1);
            assertThat(responses.get("5xx").asLong()).isEqualTo(3);
        }
    }

    @Test
    void cacheShowsItsEntriesBytesAndLookupsByStatus(@TempDir Path dir) throws Exception {
        FakeView view = new FakeView(backend(9001));
        try (HttpCache cache = new HttpCache(CacheConfig.defaults().withDirectory(dir), Clock.systemUTC())) {
            assertThat(((pibl.cache.DiskCacheStore) cache.store()).awaitLoaded(java.time.Duration.ofSeconds(10)))
                    .isTrue();
            store(cache, "/a", "hello, cache");
            for (CacheStatus s : List.of(CacheStatus.HIT, CacheStatus.HIT, CacheStatus.HIT, CacheStatus.MISS,
                    CacheStatus.STALE, CacheStatus.BYPASS, CacheStatus.BYPASS)) {
                cache.stats().record(s);
            }
            view.cache = cache;
            try (AdminFixture admin = AdminFixture.start(view)) {
                JsonNode c = admin.status().get("cache");

                assertThat(c.get("enabled").asBoolean()).isTrue();
                assertThat(c.get("entries").asLong()).isEqualTo(1);
                assertThat(c.get("bytes").asLong()).as("the entry file, header and body")
                        .isEqualTo(cache.store().bytes()).isGreaterThan("hello, cache".length());
                assertThat(c.get("hitRatio").asDouble()).as("HIT and STALE over those plus MISS: 4 of 5")
                        .isEqualTo(0.8);
                JsonNode lookups = c.get("lookups");
                assertThat(lookups.get("HIT").asLong()).isEqualTo(3);
                assertThat(lookups.get("MISS").asLong()).isEqualTo(1);
                assertThat(lookups.get("STALE").asLong()).isEqualTo(1);
                assertThat(lookups.get("REVALIDATED").asLong()).isEqualTo(0);
                assertThat(lookups.get("BYPASS").asLong()).isEqualTo(2);
                JsonNode index = c.get("index");
                assertThat(index.get("loading").asBoolean()).as("an empty directory loads at once").isFalse();
                assertThat(index.get("slots").asLong()).isEqualTo(1);
                assertThat(index.get("maxSlots").asLong()).as("max-entries derived from the heap")
                        .isGreaterThanOrEqualTo(10_000);
                assertThat(index.get("stored").asLong()).as("the one response stored").isEqualTo(1);
                assertThat(index.get("evicted").asLong()).isZero();
            }
        }
    }

    @Test
    void aDisabledCacheSaysSoWithZeros() throws Exception {
        try (AdminFixture admin = AdminFixture.start(new FakeView(backend(9001)))) {
            JsonNode c = admin.status().get("cache");

            assertThat(c.get("enabled").asBoolean()).isFalse();
            assertThat(c.get("entries").asLong()).isZero();
            assertThat(c.get("lookups").get("HIT").asLong()).as("the same keys whether on or off").isZero();
        }
    }

    @Test
    void headerFieldsVersionUptimeTransportAndPort() throws Exception {
        FakeView view = new FakeView(backend(9001));
        long started = System.currentTimeMillis() - 90_500;
        view.startedAtMillis = started;
        try (AdminFixture admin = AdminFixture.start(view)) {
            RawHttp.Response r = admin.get("/status");
            JsonNode status = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());

            assertThat(r.header("content-type")).isEqualTo("application/json; charset=utf-8");
            assertThat(r.header("cache-control")).as("a monitor must never see a cached reading")
                    .isEqualTo("no-store");
            assertThat(status.get("version").asText()).isEqualTo("9.9.9-test");
            assertThat(status.get("startedAt").asText()).isEqualTo(Instant.ofEpochMilli(started).toString());
            assertThat(status.get("uptimeSeconds").asLong()).isBetween(90L, 92L);
            assertThat(status.get("transport").asText()).isEqualTo("nio");
            assertThat(status.get("port").asInt()).isEqualTo(8080);
        }
    }

    @Test
    void aReloadShowsOnTheNextRequest() throws Exception {
        FakeView view = new FakeView(backend(9001), backend(9002));
        try (AdminFixture admin = AdminFixture.start(view)) {
            assertThat(admin.status().get("backends")).hasSize(2);

            view.backends = List.of(served(backend(9003), 4, 0));
            JsonNode backends = admin.status().get("backends");

            assertThat(backends).hasSize(1);
            assertThat(backends.get(0).get("address").asText()).isEqualTo("127.0.0.1:9003");
            assertThat(backends.get(0).get("requests").asLong()).isEqualTo(4);
        }
    }

    private static void store(HttpCache cache, String path, String body) throws Exception {
        HttpHeaders response = new DefaultHttpHeaders().set("Cache-Control", "max-age=60")
                .set("Content-Type", "text/plain").setInt("Content-Length", body.length());
        long now = System.currentTimeMillis();
        CacheWriter w = cache.store().begin(CacheKey.of("http", "example.test", path), new DefaultHttpHeaders(), 200,
                "OK", response, now, now);
        ByteBuf chunk = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        try {
            w.write(chunk);
        } finally {
            chunk.release();
        }
        assertThat(w.commit().get(10, TimeUnit.SECONDS)).as("stored").isNotNull();
    }
}
