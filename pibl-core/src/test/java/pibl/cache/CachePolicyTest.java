package pibl.cache;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import pibl.cache.CachePolicy.Reuse;
import pibl.config.CacheConfig;
import pibl.config.CacheConfig.TtlMode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.TestHeaders.T0;
import static pibl.cache.TestHeaders.cfg;
import static pibl.cache.TestHeaders.date;
import static pibl.cache.TestHeaders.h;

class CachePolicyTest {
    private static final CacheConfig TTL_60 = cfg();
    private static final CacheConfig TTL_0 = cfg(Duration.ZERO, TtlMode.DEFAULT);
    private static final CacheConfig OVERRIDE_30 = cfg(Duration.ofSeconds(30), TtlMode.OVERRIDE);
    private static final CacheConfig COOKIES = new CacheConfig(true, Path.of("c"), Duration.ofSeconds(60),
            TtlMode.DEFAULT, 1L << 30, 1L << 20, 0, true, Duration.ZERO);
    private static final CacheConfig HEURISTIC_10 = TTL_0.withHeuristic(10, Duration.ofDays(1));
    private static final CacheConfig EDGE_FIELD = TTL_60.withTargetedField("Edge-Control");

    private static Arguments row(String why, HttpMethod method, HttpHeaders req, int status, HttpHeaders resp,
                                 CacheConfig cfg, boolean expected) {
        return Arguments.of(Named.of(why, method), req, status, resp, cfg, expected);
    }

    static Stream<Arguments> storable() {
        HttpMethod get = HttpMethod.GET;
        return Stream.of(
                row("plain 200 with the default TTL", get, h(), 200, h(), TTL_60, true),
                row("plain 200, TTL 0, no validator: never reusable", get, h(), 200, h(), TTL_0, false),
                row("plain 200, TTL 0, ETag: revalidatable", get, h(), 200, h("ETag: \"a\""), TTL_0, true),
                row("plain 200, TTL 0, Last-Modified", get, h(), 200, h("Last-Modified: " + date(-60)), TTL_0, true),
                row("TTL 0 but max-age", get, h(), 200, h("Cache-Control: max-age=5"), TTL_0, true),
                row("max-age=0 without validator", get, h(), 200, h("Cache-Control: max-age=0"), TTL_60, false),
                row("no-cache without validator", get, h(), 200, h("Cache-Control: no-cache"), TTL_60, false),
                row("no-cache with ETag", get, h(), 200, h("Cache-Control: no-cache", "ETag: \"a\""), TTL_60, true),
                row("stale-if-error alone keeps it useful", get, h(), 200,
                        h("Cache-Control: max-age=0, stale-if-error=60"), TTL_0, true),
                row("HEAD responses are not stored", HttpMethod.HEAD, h(), 200, h(), TTL_60, false),
                row("POST responses are not stored", HttpMethod.POST, h(), 200, h("Cache-Control: max-age=60"),
                        TTL_60, false),
                row("response no-store", get, h(), 200, h("Cache-Control: no-store"), TTL_60, false),
                row("response no-store among others", get, h(), 200,
                        h("Cache-Control: public, max-age=60", "Cache-Control: no-store"), TTL_60, false),
                row("request no-store", get, h("Cache-Control: no-store"), 200, h(), TTL_60, false),
                row("private", get, h(), 200, h("Cache-Control: private, max-age=60"), TTL_60, false),
                row("qualified private counts as private", get, h(), 200,
                        h("Cache-Control: private=\"Set-Cookie\""), TTL_60, false),
                row("Authorization without permission", get, h("Authorization: Basic eDp5"), 200,
                        h("Cache-Control: max-age=60"), TTL_60, false),
                row("Authorization with public", get, h("Authorization: Basic eDp5"), 200,
                        h("Cache-Control: public"), TTL_60, true),
                row("Authorization with s-maxage", get, h("Authorization: Basic eDp5"), 200,
                        h("Cache-Control: s-maxage=10"), TTL_60, true),
                row("Authorization with must-revalidate", get, h("Authorization: Basic eDp5"), 200,
                        h("Cache-Control: must-revalidate, max-age=10"), TTL_60, true),
                row("Set-Cookie by default", get, h(), 200, h("Set-Cookie: a=b"), TTL_60, false),
                row("Set-Cookie when configured", get, h(), 200, h("Set-Cookie: a=b"), COOKIES, true),
                row("Vary: *", get, h(), 200, h("Vary: Accept, *"), TTL_60, false),
                row("Vary: Accept-Encoding", get, h(), 200, h("Vary: Accept-Encoding"), TTL_60, true),
                row("204 heuristically cacheable", get, h(), 204, h(), TTL_60, true),
                row("301 heuristically cacheable", get, h(), 301, h(), TTL_60, true),
                row("404 heuristically cacheable", get, h(), 404, h(), TTL_60, true),
                row("410 heuristically cacheable", get, h(), 410, h(), TTL_60, true),
                row("501 heuristically cacheable", get, h(), 501, h(), TTL_60, true),
                row("206: ranges are not cached", get, h(), 206, h("Cache-Control: max-age=60"), TTL_60, false),
                row("304 is never stored", get, h(), 304, h("Cache-Control: max-age=60"), TTL_60, false),
                row("100 is not final", get, h(), 100, h(), TTL_60, false),
                row("302 without explicit freshness", get, h(), 302, h(), TTL_60, false),
                row("302 with max-age", get, h(), 302, h("Cache-Control: max-age=60"), TTL_60, true),
                row("307 with Expires", get, h(), 307, h("Date: " + date(0), "Expires: " + date(60)), TTL_60, true),
                row("500 without explicit freshness", get, h(), 500, h(), TTL_60, false),
                row("503 with s-maxage", get, h(), 503, h("Cache-Control: s-maxage=5"), TTL_60, true),
                row("302 with public and the default TTL", get, h(), 302, h("Cache-Control: public"), TTL_60, true),
                row("override TTL makes max-age=0 reusable", get, h(), 200, h("Cache-Control: max-age=0"),
                        OVERRIDE_30, true),
                row("must-understand, no-store on a status PIBL understands: no-store is for other caches", get,
                        h(), 200, h("Cache-Control: must-understand, no-store, max-age=60"), TTL_60, true),
                row("must-understand on a status PIBL does not know", get, h(), 299,
                        h("Cache-Control: must-understand, no-store, max-age=60"), TTL_60, false),
                row("must-understand on 206, which PIBL does not store", get, h(), 206,
                        h("Cache-Control: must-understand, max-age=60"), TTL_60, false),
                row("must-understand does not lift the request's no-store", get, h("Cache-Control: no-store"), 200,
                        h("Cache-Control: must-understand, no-store, max-age=60"), TTL_60, false),
                row("must-understand does not lift private", get, h(), 200,
                        h("Cache-Control: must-understand, no-store, private, max-age=60"), TTL_60, false),
                row("CDN-Cache-Control no-store beats Cache-Control public (RFC 9213 2.1)", get, h(), 200,
                        h("Cache-Control: public, max-age=60", "CDN-Cache-Control: no-store"), TTL_60, false),
                row("CDN-Cache-Control max-age lets PIBL store what Cache-Control keeps from browsers", get, h(),
                        200, h("Cache-Control: no-store", "CDN-Cache-Control: max-age=60"), TTL_60, true),
                row("PIBL-Cache-Control, first on the target list, beats CDN-Cache-Control", get, h(), 200,
                        h("CDN-Cache-Control: no-store", "PIBL-Cache-Control: max-age=60"), TTL_60, true),
                row("targeted private", get, h(), 200, h("PIBL-Cache-Control: private"), TTL_60, false),
                row("an invalid targeted field is ignored: Cache-Control decides", get, h(), 200,
                        h("Cache-Control: no-store", "CDN-Cache-Control: max-age=60,"), TTL_60, false),
                row("targeted s-maxage permits a response to an Authorization request", get,
                        h("Authorization: Basic eDp5"), 200, h("CDN-Cache-Control: s-maxage=10"), TTL_60, true),
                row("a 302 with targeted max-age has explicit freshness", get, h(), 302,
                        h("CDN-Cache-Control: max-age=60"), TTL_60, true),
                row("a 302 with Expires but a targeted field: Expires is ignored", get, h(), 302,
                        h("CDN-Cache-Control: must-revalidate", "Date: " + date(0), "Expires: " + date(60)), TTL_60,
                        false),
                row("the configured targeted field is obeyed", get, h(), 200,
                        h("Cache-Control: max-age=60", "Edge-Control: no-store"), EDGE_FIELD, false),
                row("with another targeted field configured, PIBL-Cache-Control means nothing", get, h(), 200,
                        h("Cache-Control: max-age=60", "PIBL-Cache-Control: no-store"), EDGE_FIELD, true),
                row("plain 200, heuristic on, Last-Modified: fresh for a while", get, h(), 200,
                        h("Date: " + date(0), "Last-Modified: " + date(-1000)), HEURISTIC_10, true),
                row("heuristic on, but a 302 has no heuristic freshness", get, h(), 302,
                        h("Date: " + date(0), "Last-Modified: " + date(-1000)), HEURISTIC_10, false));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource
    void storable(HttpMethod method, HttpHeaders req, int status, HttpHeaders resp, CacheConfig cfg,
                  boolean expected) {
        assertThat(CachePolicy.isStorable(method, req, status, resp, cfg)).isEqualTo(expected);
    }

    static Stream<Arguments> lifetime() {
        return Stream.of(
                Arguments.of(Named.of("s-maxage beats max-age and Expires", h(
                        "Cache-Control: max-age=20, s-maxage=10", "Date: " + date(0), "Expires: " + date(30))),
                        TTL_60, 10_000L),
                Arguments.of(Named.of("max-age beats Expires", h(
                        "Cache-Control: max-age=20", "Date: " + date(0), "Expires: " + date(30))), TTL_60, 20_000L),
                Arguments.of(Named.of("Expires minus Date", h("Date: " + date(0), "Expires: " + date(30))),
                        TTL_60, 30_000L),
                Arguments.of(Named.of("Expires minus response time without Date", h("Expires: " + date(45))),
                        TTL_60, 45_000L),
                Arguments.of(Named.of("Expires in the past", h("Date: " + date(0), "Expires: " + date(-30))),
                        TTL_60, 0L),
                Arguments.of(Named.of("invalid Expires \"0\" means expired", h("Expires: 0")), TTL_60, 0L),
                Arguments.of(Named.of("two Expires lines mean expired (RFC 9111 5.3)",
                        h("Date: " + date(0), "Expires: " + date(30), "Expires: " + date(30))), TTL_60, 0L),
                Arguments.of(Named.of("a lenient date (no comma) means expired, not read as a date",
                        h("Date: " + date(0), "Expires: " + date(30).replace(",", ""))), TTL_60, 0L),
                Arguments.of(Named.of("no explicit freshness: the TTL", h()), TTL_60, 60_000L),
                Arguments.of(Named.of("no explicit freshness, TTL 0", h()), TTL_0, 0L),
                Arguments.of(Named.of("the TTL does not beat explicit freshness", h("Cache-Control: max-age=5")),
                        TTL_60, 5_000L),
                Arguments.of(Named.of("override beats max-age", h("Cache-Control: max-age=500")), OVERRIDE_30,
                        30_000L),
                Arguments.of(Named.of("override beats max-age=0", h("Cache-Control: max-age=0")), OVERRIDE_30,
                        30_000L),
                Arguments.of(Named.of("invalid max-age is stale", h("Cache-Control: max-age=soon")), TTL_60, 0L),
                Arguments.of(Named.of("CDN-Cache-Control beats Cache-Control", h(
                        "Cache-Control: max-age=5", "CDN-Cache-Control: max-age=60")), TTL_60, 60_000L),
                Arguments.of(Named.of("PIBL-Cache-Control beats CDN-Cache-Control and Cache-Control", h(
                        "Cache-Control: max-age=5", "CDN-Cache-Control: max-age=60", "PIBL-Cache-Control: max-age=30")),
                        TTL_60, 30_000L),
                Arguments.of(Named.of("targeted s-maxage beats targeted max-age", h(
                        "CDN-Cache-Control: max-age=60, s-maxage=20")), TTL_60, 20_000L),
                Arguments.of(Named.of("a targeted field replaces Expires too: the TTL applies", h(
                        "CDN-Cache-Control: public", "Date: " + date(0), "Expires: " + date(30))), TTL_60, 60_000L),
                Arguments.of(Named.of("an invalid targeted field (space in a value) is ignored", h(
                        "Cache-Control: max-age=5", "CDN-Cache-Control: max-age=6 0")), TTL_60, 5_000L),
                Arguments.of(Named.of("an invalid targeted field (upper-case key) is ignored", h(
                        "Cache-Control: max-age=5", "CDN-Cache-Control: Max-Age=60")), TTL_60, 5_000L),
                Arguments.of(Named.of("an empty targeted field is ignored", h(
                        "Cache-Control: max-age=5", "PIBL-Cache-Control: ")), TTL_60, 5_000L),
                Arguments.of(Named.of("an invalid first targeted field falls to the next on the list", h(
                        "PIBL-Cache-Control: max-age=\"30", "CDN-Cache-Control: max-age=60")), TTL_60, 60_000L),
                Arguments.of(Named.of("targeted lines combine; a repeated key: the last wins (RFC 9651)", h(
                        "CDN-Cache-Control: max-age=10", "CDN-Cache-Control: max-age=40")), TTL_60, 40_000L),
                Arguments.of(Named.of("a targeted decimal max-age reads as stale", h(
                        "Cache-Control: max-age=50", "CDN-Cache-Control: max-age=1.5")), TTL_60, 0L),
                Arguments.of(Named.of("the configured targeted field", h(
                        "Edge-Control: max-age=40", "PIBL-Cache-Control: max-age=30")), EDGE_FIELD, 40_000L),
                Arguments.of(Named.of("heuristic: 10% of Date - Last-Modified", h(
                        "Date: " + date(0), "Last-Modified: " + date(-1000))), HEURISTIC_10, 100_000L),
                Arguments.of(Named.of("heuristic capped at heuristic-max", h(
                        "Date: " + date(0), "Last-Modified: " + date(-10_000_000))), HEURISTIC_10, 86_400_000L),
                Arguments.of(Named.of("heuristic: Last-Modified after Date gives nothing", h(
                        "Date: " + date(0), "Last-Modified: " + date(60))), HEURISTIC_10, 0L),
                Arguments.of(Named.of("heuristic: an invalid Last-Modified gives nothing", h(
                        "Date: " + date(0), "Last-Modified: yesterday")), HEURISTIC_10, 0L),
                Arguments.of(Named.of("heuristic never beats explicit freshness", h(
                        "Cache-Control: max-age=5", "Date: " + date(0), "Last-Modified: " + date(-1000))),
                        HEURISTIC_10, 5_000L),
                Arguments.of(Named.of("heuristic only when the TTL is 0: the TTL wins", h(
                        "Date: " + date(0), "Last-Modified: " + date(-1000))),
                        TTL_60.withHeuristic(10, Duration.ofDays(1)), 60_000L),
                Arguments.of(Named.of("heuristic off by default", h(
                        "Date: " + date(0), "Last-Modified: " + date(-1000))), TTL_0, 0L));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource
    void lifetime(HttpHeaders resp, CacheConfig cfg, long expectedMillis) {
        assertThat(CachePolicy.freshnessLifetime(resp, T0, cfg)).isEqualTo(expectedMillis);
    }

    static Stream<Arguments> age() {
        // request sent at T0 - delay, response received at T0
        return Stream.of(
                Arguments.of(Named.of("fresh from the origin", h("Date: " + date(0))), 0L, 0L),
                Arguments.of(Named.of("no Date: received time", h()), 0L, 0L),
                Arguments.of(Named.of("apparent age from an old Date", h("Date: " + date(-30))), 0L, 30_000L),
                Arguments.of(Named.of("Date in the future counts as 0", h("Date: " + date(30))), 0L, 0L),
                Arguments.of(Named.of("origin Age plus response delay", h("Date: " + date(0), "Age: 100")),
                        2_000L, 102_000L),
                Arguments.of(Named.of("response delay alone", h("Date: " + date(0))), 2_000L, 2_000L),
                Arguments.of(Named.of("apparent age beats a smaller Age", h("Date: " + date(-50), "Age: 10")),
                        0L, 50_000L),
                Arguments.of(Named.of("list-valued Age uses the first member", h("Age: 7, 9")), 0L, 7_000L),
                Arguments.of(Named.of("invalid Age is ignored", h("Age: x")), 0L, 0L));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource
    void age(HttpHeaders resp, long delay, long expectedMillis) {
        assertThat(CachePolicy.correctedInitialAge(resp, T0 - delay, T0)).isEqualTo(expectedMillis);
    }

    @Test
    void currentAgeAddsResidentTimeAndFreshnessEndsWhereAgeReachesTheLifetime() {
        Freshness f = CachePolicy.freshness(h("Date: " + date(-10), "Age: 5", "Cache-Control: max-age=60"),
                T0 - 1_000, T0, TTL_60);
        assertThat(f.correctedInitialAge()).as("max(apparent 10 s, Age 5 s + delay 1 s)").isEqualTo(10_000);
        assertThat(f.ageSeconds(T0 + 20_500)).isEqualTo(30);
        assertThat(f.freshUntil()).isEqualTo(T0 + 50_000);
        assertThat(f.isFresh(T0 + 49_999)).isTrue();
        assertThat(f.isFresh(T0 + 50_000)).isFalse();
        assertThat(f.staleness(T0 + 55_000)).isEqualTo(5_000);
        assertThat(f.currentAge(T0 - 5_000)).as("a clock that steps back adds no age").isEqualTo(10_000);
    }

    @Test
    void aCappedTtlBoundsWhatIsLeftAtArrivalNeverMoreThanTheOriginGave() {
        CacheConfig cap5 = TTL_60.cappedAt(java.time.Duration.ofSeconds(5));
        Freshness owners = CachePolicy.freshness(h("Date: " + date(-10), "Age: 10", "Cache-Control: max-age=600"),
                T0, T0, cap5);
        assertThat(owners.freshUntil()).as("arrived 10 s old with 590 s left: 5 s more").isEqualTo(T0 + 5_000);
        Freshness nearlyDone = CachePolicy.freshness(h("Date: " + date(-10), "Age: 598", "Cache-Control: max-age=600"),
                T0, T0, cap5);
        assertThat(nearlyDone.freshUntil()).as("2 s left at the owner: 2 s here").isEqualTo(T0 + 2_000);
        Freshness silent = CachePolicy.freshness(h("Date: " + date(0)), T0, T0, cap5);
        assertThat(silent.freshUntil()).as("no freshness from the origin: the ttl").isEqualTo(T0 + 5_000);
    }

    private static Freshness fresh60(String... extra) {
        String[] lines = new String[extra.length + 1];
        lines[0] = "Date: " + date(0);
        System.arraycopy(extra, 0, lines, 1, extra.length);
        return CachePolicy.freshness(h(lines), T0, T0, TTL_60);
    }

    static Stream<Arguments> reuse() {
        Freshness plain = fresh60("Cache-Control: max-age=60");
        Freshness swr = fresh60("Cache-Control: max-age=60, stale-while-revalidate=30");
        Freshness mustRevalidate = fresh60("Cache-Control: max-age=60, must-revalidate, stale-while-revalidate=30");
        Freshness sMaxAge = fresh60("Cache-Control: s-maxage=60");
        Freshness noCache = fresh60("Cache-Control: no-cache, max-age=60", "ETag: \"a\"");
        return Stream.of(
                reuseRow("fresh", plain, h(), 10, Reuse.FRESH),
                reuseRow("stale", plain, h(), 60, Reuse.REVALIDATE),
                reuseRow("client no-cache", plain, h("Cache-Control: no-cache"), 10, Reuse.REVALIDATE),
                reuseRow("Pragma: no-cache without Cache-Control", plain, h("Pragma: no-cache"), 10,
                        Reuse.REVALIDATE),
                reuseRow("Pragma ignored when Cache-Control present", plain,
                        h("Pragma: no-cache", "Cache-Control: max-stale"), 10, Reuse.FRESH),
                reuseRow("client max-age=0", plain, h("Cache-Control: max-age=0"), 0, Reuse.REVALIDATE),
                reuseRow("client max-age above the age", plain, h("Cache-Control: max-age=20"), 10, Reuse.FRESH),
                reuseRow("client max-age below the age", plain, h("Cache-Control: max-age=5"), 10,
                        Reuse.REVALIDATE),
                reuseRow("min-fresh satisfied", plain, h("Cache-Control: min-fresh=20"), 10, Reuse.FRESH),
                reuseRow("min-fresh not satisfied", plain, h("Cache-Control: min-fresh=20"), 45, Reuse.REVALIDATE),
                reuseRow("max-stale without limit", plain, h("Cache-Control: max-stale"), 500, Reuse.STALE),
                reuseRow("max-stale within limit", plain, h("Cache-Control: max-stale=10"), 70, Reuse.STALE),
                reuseRow("max-stale beyond limit", plain, h("Cache-Control: max-stale=10"), 71, Reuse.REVALIDATE),
                reuseRow("max-stale vs must-revalidate", mustRevalidate, h("Cache-Control: max-stale"), 70,
                        Reuse.REVALIDATE),
                reuseRow("max-stale vs s-maxage (implies proxy-revalidate)", sMaxAge,
                        h("Cache-Control: max-stale"), 70, Reuse.REVALIDATE),
                reuseRow("stale-while-revalidate within window", swr, h(), 90, Reuse.STALE_WHILE_REVALIDATE),
                reuseRow("stale-while-revalidate past window", swr, h(), 91, Reuse.REVALIDATE),
                reuseRow("stale-while-revalidate vs client max-age", swr, h("Cache-Control: max-age=100"), 70,
                        Reuse.REVALIDATE),
                reuseRow("stale-while-revalidate vs must-revalidate", mustRevalidate, h(), 70, Reuse.REVALIDATE),
                reuseRow("no-cache response is never fresh", noCache, h(), 0, Reuse.REVALIDATE),
                reuseRow("only-if-cached and fresh", plain, h("Cache-Control: only-if-cached"), 10, Reuse.FRESH),
                reuseRow("only-if-cached and stale", plain, h("Cache-Control: only-if-cached"), 61,
                        Reuse.GATEWAY_TIMEOUT),
                reuseRow("only-if-cached with max-stale", plain,
                        h("Cache-Control: only-if-cached, max-stale"), 61, Reuse.STALE));
    }

    private static Arguments reuseRow(String why, Freshness f, HttpHeaders req, long secondsAfterT0, Reuse expected) {
        return Arguments.of(Named.of(why, f), req, secondsAfterT0, expected);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource
    void reuse(Freshness f, HttpHeaders req, long secondsAfterT0, Reuse expected) {
        assertThat(CachePolicy.reuse(f, req, T0 + secondsAfterT0 * 1000)).isEqualTo(expected);
    }

    static Stream<Arguments> staleOnError() {
        CacheConfig grace = new CacheConfig(true, Path.of("c"), Duration.ofSeconds(60), TtlMode.DEFAULT,
                1L << 30, 1L << 20, 0, false, Duration.ofSeconds(300));
        Freshness plain = fresh60("Cache-Control: max-age=60");
        Freshness sie = fresh60("Cache-Control: max-age=60, stale-if-error=100");
        Freshness mustRevalidate = fresh60("Cache-Control: max-age=60, must-revalidate");
        Freshness mustRevalidateSie = fresh60("Cache-Control: max-age=60, must-revalidate, stale-if-error=100");
        Freshness noCache = fresh60("Cache-Control: no-cache", "ETag: \"a\"");
        return Stream.of(
                Arguments.of(Named.of("still fresh", plain), TTL_60, 30, true),
                Arguments.of(Named.of("stale, no permission", plain), TTL_60, 61, false),
                Arguments.of(Named.of("within the origin's stale-if-error", sie), TTL_60, 160, true),
                Arguments.of(Named.of("past the origin's stale-if-error", sie), TTL_60, 161, false),
                Arguments.of(Named.of("within the operator's grace", plain), grace, 360, true),
                Arguments.of(Named.of("past the operator's grace", plain), grace, 361, false),
                Arguments.of(Named.of("must-revalidate beats the operator's grace", mustRevalidate), grace, 61,
                        false),
                Arguments.of(Named.of("the origin's stale-if-error beats must-revalidate", mustRevalidateSie),
                        TTL_60, 100, true),
                Arguments.of(Named.of("no-cache is never served unvalidated", noCache), grace, 0, false));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource
    void staleOnError(Freshness f, CacheConfig cfg, long secondsAfterT0, boolean expected) {
        assertThat(CachePolicy.canServeStaleOnError(f, T0 + secondsAfterT0 * 1000, cfg)).isEqualTo(expected);
    }

    @Test
    void errorStatusesThatAllowStale() {
        assertThat(Stream.of(500, 502, 503, 504)).allMatch(CachePolicy::isErrorForStale);
        assertThat(Stream.of(200, 404, 501, 505)).noneMatch(CachePolicy::isErrorForStale);
    }

    @Test
    void lookupOnlyForGetAndHeadWithoutOriginPreconditions() {
        assertThat(CachePolicy.isLookupAllowed(HttpMethod.GET, h())).isTrue();
        assertThat(CachePolicy.isLookupAllowed(HttpMethod.HEAD, h("If-None-Match: \"a\""))).isTrue();
        assertThat(CachePolicy.isLookupAllowed(HttpMethod.POST, h())).isFalse();
        assertThat(CachePolicy.isLookupAllowed(HttpMethod.GET, h("If-Match: \"a\""))).isFalse();
        assertThat(CachePolicy.isLookupAllowed(HttpMethod.GET, h("If-Unmodified-Since: " + date(0)))).isFalse();
        assertThat(CachePolicy.isLookupAllowed(HttpMethod.GET, h("If-Range: \"a\"", "Range: bytes=0-1")))
                .as("If-Range is evaluated against the stored response (RangeRequest)").isTrue();
        assertThat(CachePolicy.onlyIfCached(h("Cache-Control: only-if-cached"))).isTrue();
    }

    @Test
    void storedHeadersDropHopByHopAndGainADate() {
        HttpHeaders stored = CachePolicy.storedHeaders(h("Connection: close, X-Trace", "X-Trace: 1",
                "Keep-Alive: timeout=5", "Transfer-Encoding: chunked", "Proxy-Authenticate: Basic",
                "Content-Type: text/plain", "Set-Cookie: a=1"), T0);
        assertThat(stored.names()).containsExactlyInAnyOrder("Content-Type", "Set-Cookie", "date");
        assertThat(stored.get(HttpHeaderNames.DATE)).isEqualTo(date(0));
        assertThat(CachePolicy.storedHeaders(h("Date: " + date(-5)), T0).get(HttpHeaderNames.DATE))
                .as("the origin's Date is kept").isEqualTo(date(-5));
    }

    @Test
    void a304ReplacesStoredFieldsButNotTheBodyDescription() {
        HttpHeaders stored = h("Content-Type: text/html", "Content-Length: 1234", "Content-Encoding: gzip",
                "ETag: \"v1\"", "Cache-Control: max-age=60", "X-Old: kept", "Date: " + date(-100), "Age: 40",
                "Link: </a>", "Link: </b>");
        HttpHeaders notModified = h("ETag: \"v1\"", "Cache-Control: max-age=120", "Content-Length: 0",
                "Content-Encoding: br", "Connection: keep-alive, X-Hop", "X-Hop: 1", "Keep-Alive: timeout=5",
                "Set-Cookie: s=1", "Link: </c>", "Expires: " + date(120));
        HttpHeaders merged = StoredUpdate.updatedHeaders(stored, notModified, T0, TTL_60);

        assertThat(merged.get("Cache-Control")).isEqualTo("max-age=120");
        assertThat(merged.get("Expires")).isEqualTo(date(120));
        assertThat(merged.getAll("Link")).as("a field of the 304 replaces all stored lines").containsExactly("</c>");
        assertThat(merged.get("Content-Length")).as("the stored body did not change").isEqualTo("1234");
        assertThat(merged.get("Content-Encoding")).isEqualTo("gzip");
        assertThat(merged.get("X-Old")).isEqualTo("kept");
        assertThat(merged.contains("Connection")).isFalse();
        assertThat(merged.contains("X-Hop")).as("listed in Connection").isFalse();
        assertThat(merged.contains("Keep-Alive")).isFalse();
        assertThat(merged.contains("Set-Cookie")).as("would leak one client's cookie to all").isFalse();
        assertThat(merged.contains("Age")).as("the old Age described the old response").isFalse();
        assertThat(merged.get("Date")).as("a 304 without Date is dated when received").isEqualTo(date(0));
        assertThat(StoredUpdate.updatedHeaders(stored, notModified, T0, COOKIES).get("Set-Cookie")).isEqualTo("s=1");
        HttpHeaders dated = StoredUpdate.updatedHeaders(stored, h("Date: " + date(-1), "Age: 3"), T0, TTL_60);
        assertThat(dated.get("Date")).isEqualTo(date(-1));
        assertThat(dated.get("Age")).isEqualTo("3");
    }

    /** RFC 9111 4.3.5, against a stored GET with {@code ETag: "e1"}, a Last-Modified and 7 bytes of body. */
    static Stream<Arguments> headDescribes() {
        return Stream.of(
                Arguments.of(Named.of("same ETag", h("ETag: \"e1\"")), true),
                Arguments.of(Named.of("same ETag and Last-Modified and length", h("ETag: \"e1\"",
                        "Last-Modified: " + date(-60), "Content-Length: 7")), true),
                Arguments.of(Named.of("same Last-Modified alone", h("Last-Modified: " + date(-60))), true),
                Arguments.of(Named.of("another ETag", h("ETag: \"e2\"")), false),
                Arguments.of(Named.of("a weak twin of the ETag is another value", h("ETag: W/\"e1\"")), false),
                Arguments.of(Named.of("same ETag, newer Last-Modified", h("ETag: \"e1\"",
                        "Last-Modified: " + date(0))), false),
                Arguments.of(Named.of("same ETag, another length", h("ETag: \"e1\"", "Content-Length: 8")), false),
                Arguments.of(Named.of("no validator: nothing says it is the same", h("Content-Length: 7")), false));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource
    void headDescribes(HttpHeaders headResponse, boolean expected) {
        HttpHeaders stored = h("ETag: \"e1\"", "Last-Modified: " + date(-60), "Content-Length: 7");
        assertThat(StoredUpdate.headDescribes(stored, 7, headResponse)).isEqualTo(expected);
    }
}
