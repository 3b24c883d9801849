package pibl.demo;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ConditionalsTest {

    private static final String LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT";

    @ParameterizedTest(name = "If-None-Match: {0} vs ETag {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
            "\"a\"                | \"a\"   | true",
            "W/\"a\"              | \"a\"   | true",
            "\"a\"                | W/\"a\" | true",
            "\"x\", \"a\"         | \"a\"   | true",
            "\"x\",W/\"a\"        | \"a\"   | true",
            "*                    | \"a\"   | true",
            "\"b\"                | \"a\"   | false",
            "\"ab\"               | \"a\"   | false",
            "a                    | \"a\"   | false",
            "\"a                  | \"a\"   | false",
            "\"x,y\", \"a\"       | \"a\"   | true",
    })
    void ifNoneMatchUsesWeakComparison(String ifNoneMatch, String etag, boolean matches) {
        assertThat(Conditionals.anyTagMatches(ifNoneMatch, etag)).isEqualTo(matches);
    }

    @ParameterizedTest(name = "If-None-Match={0} If-Modified-Since={1} -> 304? {2}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            "\"v1\" | -                             | true",
            "\"v2\" | -                             | false",
            "\"v2\" | Wed, 01 Jan 2025 00:00:00 GMT | false",
            "-      | Wed, 01 Jan 2025 00:00:00 GMT | true",
            "-      | Thu, 02 Jan 2025 00:00:00 GMT | true",
            "-      | Tue, 31 Dec 2024 23:59:59 GMT | false",
            "-      | not a date                    | false",
            "-      | -                             | false",
    })
    void ifNoneMatchDecidesAndIfModifiedSinceOnlyWithoutIt(String ifNoneMatch, String ifModifiedSince,
                                                           boolean notModified) {
        HttpHeaders request = new DefaultHttpHeaders();
        if (ifNoneMatch != null) {
            request.set(HttpHeaderNames.IF_NONE_MATCH, ifNoneMatch);
        }
        if (ifModifiedSince != null) {
            request.set(HttpHeaderNames.IF_MODIFIED_SINCE, ifModifiedSince);
        }
        HttpHeaders response = new DefaultHttpHeaders()
                .set(HttpHeaderNames.ETAG, "\"v1\"")
                .set(HttpHeaderNames.LAST_MODIFIED, LAST_MODIFIED);
        assertThat(Conditionals.notModified(request, response)).isEqualTo(notModified);
    }

    @Test
    void aResponseWithoutValidatorsIsNeverNotModified() {
        HttpHeaders request = new DefaultHttpHeaders().set(HttpHeaderNames.IF_NONE_MATCH, "*");
        assertThat(Conditionals.notModified(request, new DefaultHttpHeaders()))
                .as("If-None-Match: * only matches a representation that has an ETag")
                .isFalse();
    }

    @Test
    void notModifiedKeepsValidatorsAndCachingHeadersOnly() {
        Reply ok = Reply.text(HttpResponseStatus.OK, "hello")
                .with(HttpHeaderNames.ETAG, "\"v1\"")
                .with(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .with(HttpHeaderNames.VARY, "Accept-Encoding")
                .with(HttpHeaderNames.LAST_MODIFIED, LAST_MODIFIED)
                .with(HttpHeaderNames.SET_COOKIE, "a=b");

        Reply notModified = Conditionals.notModifiedReply(ok);

        assertThat(notModified.status()).isEqualTo(HttpResponseStatus.NOT_MODIFIED);
        assertThat(notModified.body().length()).isZero();
        assertThat(notModified.headers().names()).containsExactlyInAnyOrder(
                "cache-control", "etag", "vary", "last-modified");
    }
}
