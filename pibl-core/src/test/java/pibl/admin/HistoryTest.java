package pibl.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pibl.cache.CacheStatus;
import pibl.cache.HttpCache;
import pibl.config.CacheConfig;
import pibl.lb.Backend;

import java.nio.file.Path;
import java.time.Clock;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.admin.FakeView.backend;

/** The per-second history: differences of the counters between two samples, oldest first, drawn as SVG. */
class HistoryTest {
    private static final long T0 = 1_764_655_200_000L;
    private static final long MS = 1_000_000;

    @Test
    void eachSampleIsTheSecondSinceThePrevious(@TempDir Path dir) throws Exception {
        Backend b = backend(9001);
        FakeView view = new FakeView(b);
        try (HttpCache cache = new HttpCache(CacheConfig.defaults().withDirectory(dir), Clock.systemUTC())) {
            view.cache = cache;
            History history = new History(view);
            history.sample(T0); // the starting point only
            assertThat(history.series().seconds()).isEmpty();

            view.stats.exchangeEnded(200, 1 + CacheStatus.HIT.ordinal(), 2 * MS);
            view.stats.exchangeEnded(200, 1 + CacheStatus.MISS.ordinal(), 10 * MS);
            view.stats.exchangeEnded(502, 0, 40 * MS);
            cache.stats().record(CacheStatus.HIT);
            cache.stats().record(CacheStatus.MISS);
            b.onRequestStart();
            b.onRequestEnd();
            b.recordFailure(new java.net.ConnectException("refused"));
            history.sample(T0 + 1_000);
            history.sample(T0 + 2_000); // a quiet second

            History.Series s = history.series();
            assertThat(s.seconds()).containsExactly(T0 / 1000 + 1, T0 / 1000 + 2);
            assertThat(s.requests()).containsExactly(3.0, 0.0);
            assertThat(s.errors()).containsExactly(1.0, 0.0);
            assertThat(s.p50Ms()[0]).as("the middle of 2, 10, 40 ms").isBetween(8.0, 12.0);
            assertThat(s.p99Ms()[0]).isBetween(32.0, 48.0);
            assertThat(s.p50Ms()[1]).as("nothing ended in the quiet second").isZero();
            assertThat(s.hitRatio()).containsExactly(0.5, -1.0);
            assertThat(s.backends().get("127.0.0.1:9001")[0]).containsExactly(1.0, 0.0);
            assertThat(s.backends().get("127.0.0.1:9001")[1]).containsExactly(1.0, 0.0);

            JsonNode json = new ObjectMapper().readTree(s.json());
            assertThat(json.get("requests").toString()).isEqualTo("[3.0,0.0]");
            assertThat(json.get("backends").get("127.0.0.1:9001").get("errors").toString()).isEqualTo("[1.0,0.0]");

            String page = StatusPage.render(StatusSnapshot.of(view, T0 + 2_000), s);
            assertThat(page).contains("<svg class=\"chart\"").contains("Requests/s")
                    .contains("points=\"0.0,0.0 300.0,60.0\"") // 3 req/s at the top, then 0 at the bottom
                    .doesNotContain("<script").doesNotContain("http://").doesNotContain("https://");
        }
    }

    @Test
    void theRingKeepsTheLastFifteenMinutes() {
        FakeView view = new FakeView(backend(9001));
        History history = new History(view);
        for (int i = 0; i <= History.SECONDS + 10; i++) {
            view.stats.exchangeEnded(200, 0, MS);
            history.sample(T0 + i * 1_000L);
        }
        History.Series s = history.series();
        assertThat(s.seconds()).hasSize(History.SECONDS);
        assertThat(s.seconds()[0]).as("oldest first").isEqualTo(T0 / 1000 + 11);
        assertThat(s.seconds()[History.SECONDS - 1]).isEqualTo(T0 / 1000 + History.SECONDS + 10);
        assertThat(s.requests()).containsOnly(1.0);
    }
}
