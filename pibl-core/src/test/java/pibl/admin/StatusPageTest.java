package pibl.admin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pibl.cache.CacheStatus;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class StatusPageTest {

    private static StatusSnapshot snapshot(String address, String health, StatusSnapshot.CacheRow cache) {
        return snapshot(address, health, cache, new StatusSnapshot.Upstream(false, 0));
    }

    private static StatusSnapshot snapshot(String address, String health, StatusSnapshot.CacheRow cache,
                                           StatusSnapshot.Upstream upstream) {
        return new StatusSnapshot("1.<b>", 0, 3_723_000, "epoll", 8080,
                List.of(new StatusSnapshot.BackendRow("default", address, 2, false, health, 1, 10, 0, 1.25,
                        Double.NaN, 9.5, Double.NaN)),
                upstream, List.of(new StatusSnapshot.PoolRow("default", "round robin", 30, List.of(address),
                        Map.of("up", 1, "down", 0, "cooldown", 0), 1, 10, 0, 1.25, Double.NaN, 9.5, upstream.panic(),
                        upstream.panicRequests())),
                List.of(new StatusSnapshot.RouteRow("/", "default", 10, 0, 0)), 0, cache,
                new StatusSnapshot.Connections(1, 2, 3),
                new StatusSnapshot.Tunnels(1, 4),
                Map.of("2xx", 10L), Map.of("total", 2L, "400", 2L, "505", 0L),
                new StatusSnapshot.Tls(4, 1), StatusSnapshot.Http2Row.of(new pibl.runtime.Http2Stats()),
                List.of());
    }

    private static StatusSnapshot.CacheRow cache(long bytes) {
        Map<CacheStatus, Long> lookups = new EnumMap<>(CacheStatus.class);
        for (CacheStatus s : CacheStatus.values()) {
            lookups.put(s, (long) s.ordinal());
        }
        return new StatusSnapshot.CacheRow(true, 7, bytes, 0.4567, lookups,
                new pibl.cache.CacheStore.StoreStatus(false, 7, 7, 1000, 7, 0));
    }

    @Test
    void everythingFromOutsideIsEscaped() {
        String html = StatusPage.render(snapshot("<script>alert('x')</script>:80", "up", cache(0)));

        assertThat(html).as("a hostile name in the config cannot inject markup")
                .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;:80")
                .contains("version 1.&lt;b&gt;")
                .doesNotContain("<script>");
    }

    @Test
    void numbersAreFormattedForPeople() {
        String html = StatusPage.render(snapshot("h:1", "up", cache(5L << 20)));

        assertThat(html)
                .contains("up 1h 2m 3s")
                .contains("<dt>Size</dt><dd>5.0 MiB</dd>")
                .contains("<dt>Hit ratio</dt><dd>45.7 %</dd>")
                .contains("<dt>MISS</dt><dd>1</dd>")
                .contains("<td>1.3</td><td>&ndash;</td><td>9.5</td>")
                .as("a quantile without samples shows a dash");
    }

    @Test
    void aPoolInPanicSaysSoAboveTheCount() {
        assertThat(StatusPage.render(snapshot("h:1", "cooldown", cache(0), new StatusSnapshot.Upstream(true, 12))))
                .contains("<span class=\"badge down\">panic</span> every backend is out of rotation")
                .contains("Requests sent in panic since start: 12");
        assertThat(StatusPage.render(snapshot("h:1", "up", cache(0))))
                .as("no badge while a backend is in rotation").doesNotContain("badge down\">panic")
                .contains("Requests sent in panic since start: 0");
    }

    @Test
    void poolsAndRoutesHaveTablesOfTheirOwn() {
        StatusSnapshot one = snapshot("h:1", "up", cache(0));
        StatusSnapshot s = new StatusSnapshot(one.version(), 0, 1000, "nio", 8080,
                List.of(new StatusSnapshot.BackendRow("shop", "h:1", 1, false, "up", 0, 3, 1, 1, 2, 3, Double.NaN),
                        new StatusSnapshot.BackendRow("<api>", "h:2", 1, false, "down", 0, 4, 4, 1, 2, 3,
                                Double.NaN)),
                new StatusSnapshot.Upstream(true, 4),
                List.of(new StatusSnapshot.PoolRow("shop", "least-request", 0, List.of("h:1"), Map.of("up", 1, "down", 0, "cooldown", 0),
                                0, 3, 1, 1.5, 2, 3, false, 0),
                        new StatusSnapshot.PoolRow("<api>", "hash (cookie:<S>, bounded-load 1.25)", 30,
                                List.of("h:2"), Map.of("up", 0, "down", 1, "cooldown", 0),
                                2, 4, 4, 1, 2, 3, true, 4)),
                List.of(new StatusSnapshot.RouteRow("*.shop.example/static", "shop", 7, 1, 2)), 5, one.cache(),
                one.connections(), one.tunnels(), one.responses(), one.refused(), one.tls(), one.http2(),
                List.of(new StatusSnapshot.PeerRow("10.0.1.10:8080", true, "up", 0, 0, 7, 0.334),
                        new StatusSnapshot.PeerRow("10.0.1.11:8080", false, "cooldown", 1, 9, 0, 0)));

        String html = StatusPage.render(s);

        assertThat(html).contains("<td>h:2</td><td>&lt;api&gt;</td>")
                .contains("<tr><td>shop</td><td>least-request</td><td>1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>3</td><td>1</td>"
                        + "<td>1.5</td><td>3.0</td><td>no</td></tr>")
                .contains("<tr><td>&lt;api&gt;</td><td>hash (cookie:&lt;S&gt;, bounded-load 1.25), slow start 30 s"
                        + "</td><td>1</td><td>0</td><td>1</td>")
                .contains("<span class=\"badge down\">panic</span></td></tr>")
                .contains("<tr><td>*.shop.example/static</td><td>shop</td><td>7</td><td>1</td><td>2</td></tr>")
                .contains("No route (404): 5")
                .contains("<h2>Fleet</h2>")
                .contains("<tr><td>10.0.1.10:8080 (this node)</td><td>up</td><td>0</td><td>0</td><td>7</td>"
                        + "<td>33 %</td></tr>")
                .contains("<tr><td>10.0.1.11:8080</td><td>cooldown</td><td>1</td><td>9</td><td>0</td><td>0 %</td>");
    }

    @Test
    void anUnknownHealthWordGetsANeutralBadge() {
        assertThat(StatusPage.render(snapshot("h:1", "draining", cache(0))))
                .contains("<span class=\"badge unknown\">draining</span>");
    }

    @ParameterizedTest
    @CsvSource({"0, 0s", "59, 59s", "61, 1m 1s", "3600, 1h 0m 0s", "90061, 1d 1h 1m"})
    void durations(long seconds, String text) {
        assertThat(StatusPage.duration(seconds)).isEqualTo(text);
    }
}
