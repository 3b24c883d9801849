package pibl.app;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import pibl.config.ConfigException;

/**
 * The duration and size notations of {@code pibl.yaml}.
 *
 * <pre>
 * durations: 500ms  5s  2m  1h  30 (bare number = seconds)   negative values parse; the records reject them
 * sizes:     1024  64k 64KiB  10m 10MiB  1g 1GiB               binary: k = 1024 bytes
 * </pre>
 */
final class Units {
    private static final Pattern DURATION = Pattern.compile("(-?\\d+)\\s*(ms|s|m|h|d)?");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(k|kib|m|mib|g|gib)?");

    private Units() {
    }

    static Duration duration(String key, String text) {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            throw new ConfigException(key, "expected a duration like 500ms, 5s, 2m, 1h, 1d or a number of seconds, "
                    + "got '" + text + "'");
        }
        try {
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            return switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofSeconds(n);
            };
        } catch (ArithmeticException | NumberFormatException e) {
            throw new ConfigException(key, "duration is too large, got '" + text + "'");
        }
    }

    static long size(String key, String text) {
        Matcher m = SIZE.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new ConfigException(key, "expected a size like 1024, 64k, 10m or 1g (k = 1024 bytes), got '"
                    + text + "'");
        }
        int shift = m.group(2) == null ? 0 : switch (m.group(2).charAt(0)) {
            case 'k' -> 10;
            case 'm' -> 20;
            default -> 30;
        };
        try {
            long n = Long.parseLong(m.group(1));
            if (n > Long.MAX_VALUE >> shift) {
                throw new ArithmeticException();
            }
            return n << shift;
        } catch (ArithmeticException | NumberFormatException e) {
            throw new ConfigException(key, "size is too large, got '" + text + "'");
        }
    }

    /** A size for an {@code int} field: at most 2 GiB - 1 byte. */
    static int intSize(String key, String text) {
        long n = size(key, text);
        if (n > Integer.MAX_VALUE) {
            throw new ConfigException(key, "must be less than 2g, got '" + text + "'");
        }
        return (int) n;
    }

    /** The shortest exact spelling in the file's notation: {@code 500ms}, {@code 90s}, {@code 2m}, {@code 1h}. */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = ms / 1000;
        if (s != 0 && s % 3600 == 0) {
            return s / 3600 + "h";
        }
        if (s != 0 && s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }

    /** {@code 64k}, {@code 10m}, {@code 1g} when exact, bytes otherwise. */
    static String formatSize(long bytes) {
        for (int shift = 30; shift >= 10; shift -= 10) {
            if (bytes != 0 && bytes % (1L << shift) == 0) {
                return (bytes >> shift) + (shift == 30 ? "g" : shift == 20 ? "m" : "k");
            }
        }
        return Long.toString(bytes);
    }
}
