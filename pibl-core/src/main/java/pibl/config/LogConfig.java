package pibl.config;

import java.nio.file.Path;

/**
 * @param file         the access and server log file; rolled by size
 * @param format       the access line format
 * @param traceContext whether PIBL starts a W3C trace for requests that come without one
 */
public record LogConfig(Path file, Format format, TraceContext traceContext) {

    /** Without trace generation. */
    public LogConfig(Path file, Format format) {
        this(file, format, TraceContext.PROPAGATE);
    }

    /** {@code log.trace-context}. */
    public enum TraceContext {
        /** A valid {@code traceparent} is continued (PIBL's span added), an invalid one replaced, none left none. */
        PROPAGATE,
        /** As PROPAGATE, and a request without {@code traceparent} starts a new trace. */
        GENERATE
    }

    /** Access log line formats. */
    public enum Format {
        /** PIBL's own line: time, client, request, status, bytes, backend, cache, ms, User-Agent. */
        DEFAULT,
        /** Apache/nginx combined, readable by GoAccess and friends. */
        COMBINED,
        /** One JSON object per line. */
        JSON
    }

    public static LogConfig defaults() {
        return new LogConfig(Path.of("logs", "pibl.log"), Format.DEFAULT);
    }

    void validate() {
        if (file == null || file.toString().isBlank()) {
            throw new ConfigException("log.file", "must not be empty");
        }
        if (format == null) {
            throw new ConfigException("log.format", "must be one of default, combined, json");
        }
        if (traceContext == null) {
            throw new ConfigException("log.trace-context", "must be propagate or generate");
        }
    }
}
