package pibl.cache;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import pibl.config.CacheConfig;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Date;

/** Compact builders for table rows. */
final class TestHeaders {
    /** 2024-01-01T00:00:00Z, the reference instant of the tables. */
    static final long T0 = 1_704_067_200_000L;

    private TestHeaders() {
    }

    /** {@code h("Cache-Control: max-age=60", "ETag: \"x\"")}; repeated names add lines. */
    static HttpHeaders h(String... lines) {
        HttpHeaders headers = new DefaultHttpHeaders();
        for (String line : lines) {
            int colon = line.indexOf(':');
            headers.add(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
        }
        return headers;
    }

    /** An HTTP-date {@code secondsFromT0} after {@link #T0}. */
    static String date(long secondsFromT0) {
        return DateFormatter.format(new Date(T0 + secondsFromT0 * 1000));
    }

    static CacheConfig cfg() {
        return cfg(Duration.ofSeconds(60), CacheConfig.TtlMode.DEFAULT);
    }

    static CacheConfig cfg(Duration ttl, CacheConfig.TtlMode mode) {
        return new CacheConfig(true, Path.of("cache"), ttl, mode, 1L << 30, 256L << 20, 64L << 20, false,
                Duration.ZERO);
    }
}
