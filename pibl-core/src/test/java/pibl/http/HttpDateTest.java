package pibl.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link HttpDate}: the three forms of RFC 9110 5.6.7 and nothing else, each refusal with its reason. */
class HttpDateTest {
    private static final long NOV_6_1994 = Instant.parse("1994-11-06T08:49:37Z").toEpochMilli();

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "Sun, 06 Nov 1994 08:49:37 GMT|IMF-fixdate",
            "Sunday, 06-Nov-94 08:49:37 GMT|obsolete RFC 850",
            "Sun Nov  6 08:49:37 1994|obsolete asctime, one-digit day padded with a space",
            "Mon, 06 Nov 1994 08:49:37 GMT|the day name is a name, not checked against the date"})
    void theThreeFormsOfTheSameInstant(String value, String why) {
        assertThat(HttpDate.parse(value)).as(why).isEqualTo(NOV_6_1994);
    }

    @ParameterizedTest(name = "''{0}''")
    @CsvSource(delimiter = '|', value = {
            "0|not a date at all",
            "-1|not a date at all",
            "Sno, 06 Nov 1994 08:49:37 GMT|a bad day name",
            "sun, 06 Nov 1994 08:49:37 GMT|names are case-sensitive",
            "Sun, 06 nov 1994 08:49:37 GMT|month names too",
            "Sun, 06 Nov 94 08:49:37 GMT|a two-digit year outside the RFC 850 form",
            "Sun 06 Nov 1994 08:49:37 GMT|a missing comma",
            "Sun,  06 Nov 1994 08:49:37 GMT|two spaces",
            "Sun, 06-Nov-1994 08:49:37 GMT|dashes in an IMF-fixdate",
            "Sun, 06 Nov 1994 8:49:37 GMT|a one-digit hour",
            "Sun, 6 Nov 1994 08:49:37 GMT|a one-digit day",
            "Sun, 06 Nov 1994 08:49:37 UTC|only GMT",
            "Sun, 06 Nov 1994 08:49:37|no zone",
            "Sun, 06 Nov 1994 24:00:00 GMT|hour 24",
            "Sun, 06 Nov 1994 08:60:00 GMT|minute 60",
            "Sun, 31 Nov 1994 08:49:37 GMT|a day November does not have",
            "Sun, 29 Feb 1995 08:49:37 GMT|no 29 February in 1995",
            "Sun, 06 Foo 1994 08:49:37 GMT|no such month",
            "Sunday, 06-Nov-1994 08:49:37 GMT|a four-digit year in the RFC 850 form",
            "Sunday, 06 Nov 94 08:49:37 GMT|spaces in the RFC 850 form",
            "Sun Nov 06 08:49:37 1994 GMT|asctime has no zone",
            "Sun Nov 6 08:49:37 1994|asctime pads a one-digit day with a space",
            "'Sun, 06 Nov 1994 08:49:37 GMT '|a trailing space (callers trim the field value first)",
            "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT|two dates in one line"})
    void anythingElseIsNotADate(String value, String why) {
        assertThat(HttpDate.parse(value)).as(why).isEqualTo(-1);
    }

    @Test
    void aLeapSecondIsTheSecondAfterTheFiftyNinth() {
        assertThat(HttpDate.parse("Sat, 31 Dec 2016 23:59:60 GMT"))
                .isEqualTo(Instant.parse("2017-01-01T00:00:00Z").toEpochMilli());
    }

    @Test
    void anRfc850YearMoreThanFiftyYearsAheadIsTheCenturyBefore() {
        assertThat(HttpDate.rfc850(" 06-Nov-94 08:49:37 GMT", 2026)).as("2094 is more than 50 years after 2026")
                .isEqualTo(NOV_6_1994);
        assertThat(HttpDate.rfc850(" 06-Nov-76 08:49:37 GMT", 2026)).as("2076 is exactly 50 years ahead: kept")
                .isEqualTo(Instant.parse("2076-11-06T08:49:37Z").toEpochMilli());
        assertThat(HttpDate.rfc850(" 06-Nov-77 08:49:37 GMT", 2026))
                .isEqualTo(Instant.parse("1977-11-06T08:49:37Z").toEpochMilli());
    }

    @Test
    void nullIsNotADate() {
        assertThat(HttpDate.parse(null)).isEqualTo(-1);
    }
}
