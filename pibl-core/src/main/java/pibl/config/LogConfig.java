package pibl.config;

import java.nio.file.Path;

/**
 * @param file   the access and server log file; rolled by size
 * @param format the access line format
 */
public record LogConfig(Path file, Format format) {

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
    }
}
