package pibl.cache;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.TestHeaders.h;

class CacheControlTest {

    @ParameterizedTest(name = "[{index}] {0} -> {1}={2}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            max-age=60                              | max-age  | 60
            MAX-AGE=60                              | max-age  | 60
            max-age="60"                            | max-age  | 60
            max-age = 60                            | max-age  | 60
            max-age=abc                             | max-age  | 0
            max-age=-1                              | max-age  | 0
            max-age=99999999999999                  | max-age  | 2147483648
            max-age=10, max-age=20                  | max-age  | 10
            public                                  | max-age  | -1
            private="Set-Cookie, X", max-age=5      | max-age  | 5
            no-cache="a,b",s-maxage=7               | s-maxage | 7
            max-stale                               | max-stale| 0
            """)
    void secondsOfADirective(String header, String directive, long expected) {
        assertThat(CacheControl.parse(header).seconds(directive)).isEqualTo(expected);
    }

    @Test
    void quotedCommasDoNotSplitAndLinesCombine() {
        CacheControl cc = CacheControl.of(h("Cache-Control: private=\"Set-Cookie, X-User\"", "Cache-Control: no-store"));
        assertThat(cc.value("private")).isEqualTo("Set-Cookie, X-User");
        assertThat(cc.has("no-store")).isTrue();
        assertThat(cc.has("x-user\"")).as("the quoted list is one argument").isFalse();
        assertThat(cc.has("public")).isFalse();
    }
}
