package pibl.http;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class TraceContextTest {
    private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String VALID = "00-" + TRACE + "-00f067aa0ba902b7-01";

    @Test
    void aValidTraceparentIsReadIntoItsParts() {
        assertThat(TraceContext.parse(VALID)).isEqualTo(new TraceContext.Parent(TRACE, "00f067aa0ba902b7", "01"));
        assertThat(TraceContext.parse("cc-" + TRACE + "-00f067aa0ba902b7-01-what-the-future-adds"))
                .as("a later version, read as 00 from its first 55 characters").isNotNull();
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(delimiter = '|', textBlock = """
            00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01 | upper-case hex
            00-00000000000000000000000000000000-00f067aa0ba902b7-01 | an all-zero trace-id
            00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01 | an all-zero parent-id
            ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 | version ff
            00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01  | a trace-id of 31 digits
            00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1  | one flag digit
            00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x | more after a version 00
            00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01 | underscores for dashes
            cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x | a later version with no dash after 55
            00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0bz902b7-01 | a non-hex digit
            """)
    void anythingElseIsInvalid(String value, String why) {
        assertThat(TraceContext.parse(value)).as(why).isNull();
    }

    @ParameterizedTest(name = "[{index}] {0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            abc-123                              | true
            550e8400-e29b-41d4-a716-446655440000 | true
            a.b_c:d@e/f+g=h                      | true
            'has space'                          | false
            'quote"'                             | false
            ''                                   | false
            """)
    void requestIdsWorthKeeping(String id, boolean ok) {
        assertThat(TraceContext.isValidRequestId(id)).isEqualTo(ok);
        assertThat(TraceContext.isValidRequestId("x".repeat(129))).as("at most 128").isFalse();
    }

    @Test
    void aValidContextIsContinuedWithPiblsSpanAndItsTracestate() {
        HttpHeaders h = new DefaultHttpHeaders().add("traceparent", VALID).add("tracestate", "a=1")
                .add("X-Request-Id", "req-1");
        TraceContext.Ids ids = TraceContext.of(h, false);
        TraceContext.apply(h, ids);
        assertThat(h.get("X-Request-Id")).isEqualTo("req-1");
        assertThat(h.get("traceparent")).startsWith("00-" + TRACE + "-").endsWith("-01")
                .doesNotContain("00f067aa0ba902b7").matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
        assertThat(h.get("tracestate")).isEqualTo("a=1");
    }

    @Test
    void anInvalidContextIsReplacedAndItsTracestateDropped() {
        HttpHeaders h = new DefaultHttpHeaders().add("traceparent", "garbage").add("tracestate", "a=1")
                .add("X-Request-Id", "bad id");
        TraceContext.Ids ids = TraceContext.of(h, false);
        TraceContext.apply(h, ids);
        assertThat(h.get("X-Request-Id")).as("a malformed id is replaced").matches("[0-9a-f]{32}");
        assertThat(h.get("traceparent")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00").doesNotContain(TRACE);
        assertThat(h.contains("tracestate")).isFalse();
    }

    @Test
    void noContextStaysNoneUnlessGenerating() {
        TraceContext.Ids none = TraceContext.of(new DefaultHttpHeaders(), false);
        assertThat(none.traceId()).isNull();
        HttpHeaders h = new DefaultHttpHeaders();
        TraceContext.apply(h, none);
        assertThat(h.contains("traceparent")).isFalse();
        assertThat(TraceContext.of(new DefaultHttpHeaders(), true).traceId()).matches("[0-9a-f]{32}");
        assertThat(TraceContext.of(new DefaultHttpHeaders().add("traceparent", VALID).add("traceparent", VALID), false)
                .traceId()).as("two traceparent lines are invalid: replaced").isNotEqualTo(TRACE);
    }

    @Test
    void newIdsAreFixedWidthLowerCaseHexAndDistinct() {
        java.util.Set<String> seen = new java.util.HashSet<>();
        int leadingZero = 0;
        for (int i = 0; i < 10_000; i++) {
            String id = TraceContext.newId128();
            String span = TraceContext.newId64();
            assertThat(id).matches("[0-9a-f]{32}");
            assertThat(span).matches("[0-9a-f]{16}");
            assertThat(seen.add(id)).isTrue();
            leadingZero += id.charAt(0) == '0' || id.charAt(16) == '0' ? 1 : 0;
        }
        assertThat(leadingZero).as("a value below 2^60 keeps its leading zeros (about 1 in 8 ids here)")
                .isBetween(500, 2000);
    }
}
