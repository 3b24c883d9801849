package pibl.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link ByteRanges}: RFC 9110 14.1.2 read exactly, each refusal with its reason, and what a length selects. */
class ByteRangesTest {
    private static final long LENGTH = 10_000;

    private static String select(String field, long length) {
        ByteRanges r = ByteRanges.parse(field);
        if (r == null) {
            return "ignored";
        }
        ByteRanges.Selection s = r.select(length);
        return switch (s.kind()) {
            case WHOLE -> "whole";
            case PART -> s.first() + "-" + s.last();
            case UNSATISFIABLE -> "416";
        };
    }

    @ParameterizedTest(name = "''{0}'' -> {1}")
    @CsvSource(delimiter = '|', value = {
            "bytes=0-499|0-499|an int range",
            "bytes=500-999|500-999|an int range inside",
            "bytes=0-0|0-0|one byte",
            "bytes=9999-9999|9999-9999|the last byte",
            "bytes=9500-|9500-9999|an open range runs to the end",
            "bytes=-500|9500-9999|a suffix range is the last bytes",
            "bytes=-20000|0-9999|a suffix longer than the representation is all of it",
            "bytes=0-99999|0-9999|a last position past the end is clamped",
            "bytes=9000-99999999999999999999999|9000-9999|a last position beyond a long is clamped too",
            "bytes=0-9999|0-9999|the whole, as a part: still a 206",
            "Bytes=0-1|0-1|the unit is case-insensitive",
            "BYTES=0-1|0-1|the unit is case-insensitive",
            "bytes= 0-1|0-1|OWS after bytes= (as nginx reads it)",
            "bytes=0-1 ,|0-1|OWS before a comma, an empty element after it",
            "'bytes=,\t, 0-1'|0-1|empty elements are skipped (RFC 9110 5.6.1.2)",
            "bytes=20000-, 0-1|0-1|an unsatisfiable range beside a satisfiable one is dropped",
            "bytes=0-0,-1|whole|two ranges: the whole representation, never multipart",
            "bytes=0-99, 50-149|whole|overlapping ranges: the whole",
            "bytes=0-0, 0-0, 0-0|whole|the same range again: the whole",
            "bytes=10000-|416|an open range starting at the length",
            "bytes=10000-20000|416|an int range starting past the end",
            "bytes=-0|416|a suffix of zero bytes",
            "bytes=20000-, -0|416|all unsatisfiable",
            "bytes=99999999999999999999999-|416|a first position beyond a long"})
    void whatALengthSelects(String field, String expected, String why) {
        assertThat(select(field, LENGTH)).as(why).isEqualTo(expected);
    }

    @ParameterizedTest(name = "''{0}''")
    @CsvSource(delimiter = '|', value = {
            "''|empty",
            "bytes|no =",
            "bytes=|no range at all",
            "bytes=,|only empty elements",
            "bytes =0-1|a space before = (the unit is a token, then =)",
            "items=0-1|another unit: ignored (RFC 9110 14.2)",
            "byte=0-1|another unit, however close",
            "bytes=1|no dash",
            "bytes=-|neither a first position nor a suffix length",
            "bytes=5-3|last position before the first (RFC 9110 14.1.1)",
            "bytes=0-1, 5-3|one invalid range invalidates the field",
            "bytes=a-1|a letter in the first position",
            "bytes=0-b|a letter in the last position",
            "bytes=-5a|a letter after the suffix length",
            "bytes=+1-2|a sign is not a digit",
            "bytes=0x10-20|hex is not decimal",
            "bytes=0 - 1|OWS inside a range",
            "bytes=0-1 2-3|two ranges without a comma",
            "bytes=0--1|a negative last position",
            "bytes=0-1;q=1|parameters after a range",
            "bytes=1.5-2|a fraction",
            "bytes==0-1|two =",
            "'bytes=0-1\u0007'|a control character"})
    void anInvalidFieldIsIgnored(String field, String why) {
        assertThat(ByteRanges.parse(field)).as(why + ": the whole representation, 200").isNull();
    }

    @Test
    void aFieldOfMoreThanMaxRangesIsIgnoredOutright() {
        String atMax = "bytes=" + "0-0,".repeat(ByteRanges.MAX_RANGES);
        assertThat(ByteRanges.parse(atMax)).as("MAX_RANGES ranges are read").isNotNull();
        assertThat(ByteRanges.parse(atMax + "1-1")).as("one more and the field is ignored (CVE-2011-3192)").isNull();
    }

    @Test
    void twoRangeLinesAreIgnoredAndOneIsRead() {
        assertThat(ByteRanges.parse(List.of("bytes=0-1", "bytes=2-3"))).as("Range is a singleton field").isNull();
        assertThat(ByteRanges.parse(List.of())).isNull();
        assertThat(ByteRanges.parse(List.of("bytes=0-1")).count()).isEqualTo(1);
    }

    @Test
    void anEmptyRepresentationHasNoPart() {
        assertThat(select("bytes=0-", 0)).as("an int range is unsatisfiable on zero bytes").isEqualTo("416");
        assertThat(select("bytes=-5", 0)).as("a suffix range is satisfiable, but there is no part to send")
                .isEqualTo("whole");
    }

    @Test
    void theContentRangeOfAPartAndOfNothing() {
        ByteRanges r = ByteRanges.parse("bytes=-500");
        assertThat(r.select(LENGTH).contentRange()).isEqualTo("bytes 9500-9999/10000");
        assertThat(r.select(LENGTH).partLength()).isEqualTo(500);
        assertThat(ByteRanges.parse("bytes=20000-").select(LENGTH).contentRange()).isEqualTo("bytes */10000");
        assertThat(ByteRanges.parse("bytes=20000-").select(LENGTH).partLength()).isZero();
    }
}
