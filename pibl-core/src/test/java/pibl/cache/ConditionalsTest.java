package pibl.cache;

import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.TestHeaders.date;
import static pibl.cache.TestHeaders.h;

class ConditionalsTest {
    private static final HttpHeaders TAGGED = h("ETag: \"v2\"", "Last-Modified: " + date(-100), "Date: " + date(0));
    private static final HttpHeaders WEAK = h("ETag: W/\"v2\"", "Date: " + date(0));
    private static final HttpHeaders DATED_ONLY = h("Date: " + date(0));

    static Stream<Arguments> notModified() {
        return Stream.of(
                row("same strong tag", h("If-None-Match: \"v2\""), 200, TAGGED, true),
                row("weak request tag matches strong stored tag", h("If-None-Match: W/\"v2\""), 200, TAGGED, true),
                row("strong request tag matches weak stored tag", h("If-None-Match: \"v2\""), 200, WEAK, true),
                row("other tag", h("If-None-Match: \"v1\""), 200, TAGGED, false),
                row("tag in a list", h("If-None-Match: \"v0\", W/\"v1\" ,\"v2\""), 200, TAGGED, true),
                row("tag on a second line", h("If-None-Match: \"v0\"", "If-None-Match: \"v2\""), 200, TAGGED, true),
                row("comma inside a tag does not split", h("If-None-Match: \"v2,x\""), 200, TAGGED, false),
                row("star matches any stored response", h("If-None-Match: *"), 200, DATED_ONLY, true),
                row("no ETag stored", h("If-None-Match: \"v2\""), 200, DATED_ONLY, false),
                row("If-None-Match wins over a matching If-Modified-Since",
                        h("If-None-Match: \"v1\"", "If-Modified-Since: " + date(0)), 200, TAGGED, false),
                row("not modified since", h("If-Modified-Since: " + date(-100)), 200, TAGGED, true),
                row("modified since", h("If-Modified-Since: " + date(-101)), 200, TAGGED, false),
                row("no Last-Modified: compare with Date", h("If-Modified-Since: " + date(0)), 200, DATED_ONLY, true),
                row("no Last-Modified, Date later", h("If-Modified-Since: " + date(-1)), 200, DATED_ONLY, false),
                row("invalid If-Modified-Since is ignored", h("If-Modified-Since: yesterday"), 200, TAGGED, false),
                row("only 2xx responses are evaluated", h("If-None-Match: *"), 404, TAGGED, false),
                row("no conditional at all", h(), 200, TAGGED, false));
    }

    private static Arguments row(String why, HttpHeaders req, int status, HttpHeaders stored, boolean expected) {
        return Arguments.of(Named.of(why, req), status, stored, expected);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource
    void notModified(HttpHeaders req, int storedStatus, HttpHeaders stored, boolean expected) {
        assertThat(Conditionals.isNotModified(req, storedStatus, stored)).isEqualTo(expected);
    }

    @Test
    void revalidationCarriesTheStoredValidators() {
        HttpHeaders out = Conditionals.revalidationHeaders(TAGGED);
        assertThat(out.get("If-None-Match")).isEqualTo("\"v2\"");
        assertThat(out.get("If-Modified-Since")).isEqualTo(date(-100));
        assertThat(Conditionals.revalidationHeaders(DATED_ONLY).isEmpty()).isTrue();
    }

    @Test
    void a304CarriesOnlyTheCacheRelevantFields() {
        HttpHeaders stored = h("ETag: \"v2\"", "Last-Modified: " + date(-100), "Date: " + date(0),
                "Cache-Control: max-age=60", "Vary: Accept-Encoding", "Content-Type: text/html",
                "Content-Length: 10");
        assertThat(Conditionals.notModifiedHeaders(stored).names())
                .containsExactlyInAnyOrder("cache-control", "date", "etag", "vary");
        assertThat(Conditionals.notModifiedHeaders(h("Last-Modified: " + date(-100))).names())
                .as("Last-Modified helps a client without an ETag").containsExactly("last-modified");
    }
}
