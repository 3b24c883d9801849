package pibl.cache;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import pibl.http.ByteRanges;

import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.TestHeaders.date;
import static pibl.cache.TestHeaders.h;

/** {@link RangeRequest} and {@link Conditionals#ifRangeHolds}: which responses a range applies to, as tables. */
class RangeRequestTest {
    /** Last-Modified 100 s before Date: a strong validator (RFC 9110 8.8.2.2). */
    private static final HttpHeaders STORED = h("ETag: \"v2\"", "Last-Modified: " + date(-100), "Date: " + date(0));

    static Stream<Arguments> ifRange() {
        return Stream.of(
                row("no If-Range: the Range applies", List.of(), STORED, true),
                row("the same strong tag", List.of("\"v2\""), STORED, true),
                row("the tag with OWS around it", List.of(" \"v2\" "), STORED, true),
                row("another tag", List.of("\"v1\""), STORED, false),
                row("a weak request tag never matches (strong comparison)", List.of("W/\"v2\""), STORED, false),
                row("a weak stored tag never matches", List.of("\"v2\""), h("ETag: W/\"v2\""), false),
                row("no ETag stored", List.of("\"v2\""), h("Date: " + date(0)), false),
                row("a list of tags is not one validator", List.of("\"v1\", \"v2\""), STORED, false),
                row("two If-Range lines", List.of("\"v2\"", "\"v2\""), STORED, false),
                row("the date equal to a strong Last-Modified", List.of(date(-100)), STORED, true),
                row("a date later than Last-Modified: not an exact match", List.of(date(-99)), STORED, false),
                row("a date earlier than Last-Modified", List.of(date(-101)), STORED, false),
                row("Last-Modified less than a second before Date is weak (RFC 9110 13.1.5)", List.of(date(0)),
                        h("Last-Modified: " + date(0), "Date: " + date(0)), false),
                row("Last-Modified exactly a second before Date is strong", List.of(date(-1)),
                        h("Last-Modified: " + date(-1), "Date: " + date(0)), true),
                row("no Date: Last-Modified cannot be shown strong", List.of(date(-100)),
                        h("Last-Modified: " + date(-100)), false),
                row("no Last-Modified stored", List.of(date(-100)), h("ETag: \"v2\"", "Date: " + date(0)), false),
                row("not a date in any of the three forms", List.of("yesterday"), STORED, false),
                row("a lenient date (two-digit year) is no HTTP-date", List.of("Sun, 31 Dec 23 23:58:20 GMT"), STORED,
                        false),
                row("an unquoted tag is neither a tag nor a date", List.of("v2"), STORED, false));
    }

    private static Arguments row(String why, List<String> ifRange, HttpHeaders stored, boolean holds) {
        return Arguments.of(Named.of(why, ifRange), stored, holds);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void ifRange(List<String> ifRange, HttpHeaders stored, boolean holds) {
        assertThat(Conditionals.ifRangeHolds(ifRange, stored)).isEqualTo(holds);
    }

    private static String answer(RangeRequest r, int status, HttpHeaders response, long length) {
        ByteRanges.Selection s = r.select(status, response, length);
        return s.kind() == ByteRanges.Kind.PART ? s.contentRange() : s.kind().name();
    }

    @Test
    void onlyAGetWithAValidRangeIsARangeRequest() {
        assertThat(RangeRequest.of(HttpMethod.GET, h("Range: bytes=0-1"))).isNotNull();
        assertThat(RangeRequest.of(HttpMethod.HEAD, h("Range: bytes=0-1"))).as("HEAD ignores Range (RFC 9110 14.2)")
                .isNull();
        assertThat(RangeRequest.of(HttpMethod.POST, h("Range: bytes=0-1"))).isNull();
        assertThat(RangeRequest.of(HttpMethod.GET, h("Range: items=0-1"))).as("an unknown unit is ignored").isNull();
        assertThat(RangeRequest.of(HttpMethod.GET, h("Range: bytes=3-1"))).as("an invalid Range is ignored").isNull();
        assertThat(RangeRequest.of(HttpMethod.GET, h("If-Range: \"v2\""))).as("If-Range without Range is ignored")
                .isNull();
    }

    @Test
    void aRangeAppliesOnlyToAWhole200OfKnownLengthWhoseIfRangeHolds() {
        RangeRequest r = RangeRequest.of(HttpMethod.GET, h("Range: bytes=0-9", "If-Range: \"v2\""));
        assertThat(answer(r, 200, STORED, 100)).isEqualTo("bytes 0-9/100");
        assertThat(answer(r, 404, STORED, 100)).as("only a 200 is cut").isEqualTo("WHOLE");
        assertThat(answer(r, 206, STORED, 100)).as("a backend's own 206 goes as it is").isEqualTo("WHOLE");
        assertThat(answer(r, 200, STORED, -1)).as("no Content-Length: nothing to cut against").isEqualTo("WHOLE");
        assertThat(answer(r, 200, h("ETag: \"v3\""), 100)).as("If-Range fails: the whole").isEqualTo("WHOLE");
        HttpHeaders refused = h("ETag: \"v2\"", "Accept-Ranges: none");
        assertThat(answer(r, 200, refused, 100)).as("the origin said Accept-Ranges: none").isEqualTo("WHOLE");
        RangeRequest beyond = RangeRequest.of(HttpMethod.GET, h("Range: bytes=100-"));
        assertThat(answer(beyond, 200, STORED, 100)).isEqualTo("UNSATISFIABLE");
        assertThat(answer(beyond, 200, h("ETag: \"v3\""), 100)).as("no If-Range: the Range applies")
                .isEqualTo("UNSATISFIABLE");
    }

    @Test
    void the416SaysWhatTheLengthIsAndIsForNoCache() {
        ByteRanges.Selection none = RangeRequest.of(HttpMethod.GET, h("Range: bytes=100-")).select(200, STORED, 100);
        HttpHeaders h = RangeRequest.unsatisfiedHeaders(none, STORED);
        assertThat(h.get(HttpHeaderNames.CONTENT_RANGE)).isEqualTo("bytes */100");
        assertThat(h.get(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo("0");
        assertThat(h.get(HttpHeaderNames.CACHE_CONTROL)).as("a downstream cache must not keep it for the URL")
                .isEqualTo("no-store");
        assertThat(h.get(HttpHeaderNames.ETAG)).isEqualTo("\"v2\"");
    }

    @Test
    void theBackendIsAskedForTheWhole() {
        HttpHeaders upstream = h("Range: bytes=0-1", "If-Range: \"v2\"", "Accept: */*");
        RangeRequest.removeFrom(upstream);
        assertThat(upstream.names()).containsExactly("Accept");
    }

    @Test
    void contentLengthIsOneLineOfDigits() {
        assertThat(RangeRequest.contentLength(h("Content-Length: 42"))).isEqualTo(42);
        assertThat(RangeRequest.contentLength(h())).isEqualTo(-1);
        assertThat(RangeRequest.contentLength(h("Content-Length: 4", "Content-Length: 4"))).isEqualTo(-1);
        assertThat(RangeRequest.contentLength(h("Content-Length: -4"))).isEqualTo(-1);
        assertThat(RangeRequest.contentLength(h("Content-Length: 4x"))).isEqualTo(-1);
    }
}
