package pibl.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.testing.NoLeaks;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pibl.config.AdminConfig;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** /status and /metrics of a running proxy report what the traffic did. */
@ExtendWith(NoLeaks.class)
class AdminEndToEndIT {
    @TempDir
    Path dir;

    @Test
    void statusAndMetricsCountTheTrafficSent() throws Exception {
        try (TestBackend a = TestBackend.start("a"); TestBackend b = TestBackend.start("b")) {
            for (TestBackend t : List.of(a, b)) {
                t.behave((ctx, req, backend) -> {
                    boolean cacheable = req.uri().startsWith("/c");
                    req.release();
                    var r = backend.named(HttpResponseStatus.OK, "ok");
                    r.headers().set(HttpHeaderNames.CACHE_CONTROL, cacheable ? "max-age=60" : "no-store");
                    ctx.writeAndFlush(r);
                });
            }
            var config = ProxyFixture.withCache(ProxyFixture.config(List.of(a.address(), b.address())),
                    dir, Duration.ofSeconds(60)).withAdmin(new AdminConfig(true, "127.0.0.1", 0));
            try (ProxyServer proxy = new ProxyServer(config).start(); RawHttp http = new RawHttp(proxy.port())) {
                for (int i = 0; i < 4; i++) {
                    assertThat(http.get("/n" + i).status()).isEqualTo(200);
                }
                assertThat(http.get("/c").header("X-Cache")).isEqualTo("MISS");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (proxy.cache().store().entryCount() < 1 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(http.get("/c").header("X-Cache")).isEqualTo("HIT");
                assertThat(http.get("/c").header("X-Cache")).isEqualTo("HIT");

                try (RawHttp admin = new RawHttp(proxy.adminPort())) {
                    String status = admin.get("/status").bodyText().replaceAll("\\s", "");
                    assertThat(status).contains("\"address\":\"" + a.address() + "\"")
                            .contains("\"requests\":3") // 5 forwarded requests over two backends: 3 and 2
                            .contains("\"requests\":2")
                            .contains("\"HIT\":2")
                            .contains("\"MISS\":5")
                            .contains("\"2xx\":7");
                    String metrics = admin.get("/metrics").bodyText();
                    assertThat(metrics).contains("pibl_backend_requests_total{backend=\"" + a.address() + "\",pool=\"default\"} 3.0")
                            .contains("pibl_cache_lookups_total{status=\"HIT\"} 2.0");
                    assertThat(admin.get("/").bodyText()).contains(b.address());
                    assertThat(missingFromTheDashboard(metrics)).as("every series deploy/grafana/pibl-dashboard.json"
                            + " queries is exported by a running PIBL").isEmpty();
                }
            }
        }
    }

    /** The metric names the shipped Grafana dashboard's queries use that this scrape does not have. */
    private static List<String> missingFromTheDashboard(String metrics) throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(Path.of("..", "deploy", "grafana", "pibl-dashboard.json")
                .toFile());
        Set<String> used = new TreeSet<>();
        Matcher names = Pattern.compile("\\bpibl_[a-z0-9_]+").matcher("");
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                names.reset(target.get("expr").asText());
                while (names.find()) {
                    used.add(names.group());
                }
            }
        }
        assertThat(used).as("the dashboard queries something").hasSizeGreaterThan(10);
        Set<String> exported = new HashSet<>();
        for (String line : metrics.split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                exported.add(line.split("[{ ]", 2)[0]);
            }
        }
        return used.stream().filter(n -> !exported.contains(n)).toList();
    }
}
