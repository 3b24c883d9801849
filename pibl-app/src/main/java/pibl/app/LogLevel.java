package pibl.app;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import pibl.config.ConfigException;

/** The root log level ({@code log.level}, {@code --log-level}); {@code debug} adds request and response headers. */
public enum LogLevel {
    TRACE, DEBUG, INFO, WARN, ERROR, OFF;

    static LogLevel parse(String key, String text) {
        try {
            return valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, "must be one of " + names() + ", got '" + text + "'");
        }
    }

    static String names() {
        return Arrays.stream(values()).map(LogLevel::toString).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
