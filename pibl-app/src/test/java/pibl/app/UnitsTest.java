package pibl.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pibl.config.ConfigException;

class UnitsTest {

    @ParameterizedTest
    @CsvSource({"500ms, 500", "5s, 5000", "2m, 120000", "1h, 3600000", "30, 30000", "0, 0", "-5s, -5000", "1d, 86400000",
            "' 7s ', 7000"})
    void durations(String text, long millis) {
        assertThat(Units.duration("k", text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @CsvSource({"1024, 1024", "64k, 65536", "64KiB, 65536", "64K, 65536", "10m, 10485760", "10MiB, 10485760",
            "1g, 1073741824", "1GiB, 1073741824", "0, 0"})
    void sizes(String text, long bytes) {
        assertThat(Units.size("k", text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @CsvSource({"5 sec", "1.5s", "5w", "s", "''", "99999999999999999999s", "9999999999999999h"})
    void notDurations(String text) {
        assertThatThrownBy(() -> Units.duration("timeouts.connect", text)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("timeouts.connect: ").hasMessageContaining("'" + text + "'");
    }

    @ParameterizedTest
    @CsvSource({"16 KB", "1.5m", "-1", "1t", "k", "99999999999g"})
    void notSizes(String text) {
        assertThatThrownBy(() -> Units.size("cache.max-size", text)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("cache.max-size: ").hasMessageContaining("'" + text + "'");
    }

    @ParameterizedTest
    @CsvSource({"500, 500ms", "1500, 1500ms", "0, 0s", "90000, 90s", "120000, 2m", "7200000, 2h"})
    void durationsAreShownInTheFilesNotation(long millis, String shown) {
        assertThat(Units.format(Duration.ofMillis(millis))).isEqualTo(shown);
    }

    @ParameterizedTest
    @CsvSource({"1000, 1000", "65536, 64k", "10485760, 10m", "1073741824, 1g", "1536, 1536", "0, 0"})
    void sizesAreShownInTheFilesNotation(long bytes, String shown) {
        assertThat(Units.formatSize(bytes)).isEqualTo(shown);
    }
}
