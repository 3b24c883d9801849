package pibl.handler;

import pibl.config.LogConfig;
import pibl.runtime.Json;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Turns a finished {@link Exchange} into one access log line. Three formats:
 *
 * <pre>
 * default   2026-11-27T10:54:07.123Z 127.0.0.1 "GET /a?x=1 HTTP/1.1" 200 1024 127.0.0.1:9001 MISS 3.2ms "curl/8.5.0"
 *           5f1c0e2a9b7d4c3e8a6f1b2c3d4e5f60 4bf92f3577b34da6a3ce929d0e0e4736 route=/ pool=default
 * combined  127.0.0.1 - - [27/Nov/2026:10:54:07 +0000] "GET /a?x=1 HTTP/1.1" 200 1024 "-" "curl/8.5.0"
 *           5f1c0e2a9b7d4c3e8a6f1b2c3d4e5f60 - route=shop.example/static pool=static TLSv1.3
 * json      {"time":"2026-11-27T10:54:07.123Z","client":"127.0.0.1","method":"GET",...,"request_id":"5f1c…",
 *            "trace_id":null,"route":"/","pool":"default","tls":null}
 * tunnel    2026-11-27T10:54:07.123Z 127.0.0.1 "GET /ws HTTP/1.1" 101 5120 127.0.0.1:9001 - 61032.5ms "Mozilla/5.0"
 *           5f1c0e2a9b7d4c3e8a6f1b2c3d4e5f60 - route=/ pool=default up=812
 * </pre>
 *
 * After the User-Agent every format has the request id ({@code X-Request-Id}, the client's or PIBL's) and the W3C
 * trace-id ({@code -} when the request has no trace), so that a line can be found from a client's or a backend's
 * log, then the route that took the request and its pool ({@code route=- pool=-} for a request no route took, or
 * refused before routing; JSON {@code null}); combined stays readable by GoAccess and friends, which ignore what
 * follows the User-Agent. An exchange over TLS then ends the default and combined lines with the TLS version and
 * has it in JSON's {@code tls}.
 *
 * A tunnel's line (written when it closes) counts the bytes to the client where a body's bytes go, and those from
 * it as {@code up=} at the end (JSON: {@code "bytes_up"}); the combined format, a fixed standard, has no room for them.
 *
 * Formatting happens on the event loop, so it reuses one builder per thread and formats the
 * date part at most once a second per thread.
 */
final class AccessLogFormat {
    private static final DateTimeFormatter ISO_SECONDS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter CLF =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);

    private static final ThreadLocal<State> STATE = ThreadLocal.withInitial(State::new);

    private final LogConfig.Format format;

    AccessLogFormat(LogConfig.Format format) {
        this.format = format;
    }

    String format(Exchange e, long endNanos) {
        return line(e, endNanos).toString();
    }

    /**
     * The line in this thread's builder, valid until the thread formats the next one: for a logger that copies
     * it at once (Log4j2's garbage-free asynchronous loggers do), so that no line becomes a String of its own.
     */
    CharSequence line(Exchange e, long endNanos) {
        State s = STATE.get();
        StringBuilder b = s.builder;
        b.setLength(0);
        double ms = (endNanos - e.startNanos) / 1_000_000.0;
        String cache = e.cacheStatus() == null ? "-" : e.cacheStatus().name();
        switch (format) {
            case COMBINED -> {
                b.append(e.client()).append(" - - [").append(s.clf(e.startMillis)).append("] \"");
                requestLine(b, e).append("\" ").append(e.status).append(' ').append(e.bytes).append(" \"");
                quoted(b, e.referer == null ? "-" : e.referer).append("\" \"");
                quoted(b, e.userAgent == null ? "-" : e.userAgent).append('"');
                ids(b, e);
                tls(b, e);
            }
            case JSON -> Json.write(b, g -> {
                g.writeStartObject();
                g.writeStringField("time", s.iso(new StringBuilder(24), e.startMillis).toString());
                g.writeStringField("client", e.client());
                g.writeStringField("method", e.synthetic ? "-" : e.method.name());
                g.writeStringField("uri", e.synthetic ? "-" : e.uri);
                g.writeStringField("protocol", e.synthetic ? "-" : e.version.text());
                g.writeNumberField("status", e.status);
                g.writeNumberField("bytes", e.bytes);
                if (e.tunnelBytesUp >= 0) {
                    g.writeNumberField("bytes_up", e.tunnelBytesUp);
                }
                g.writeStringField("backend", e.backend);
                g.writeStringField("cache", cache);
                g.writeFieldName("ms");
                g.writeNumber(millis(new StringBuilder(12), ms).toString());
                g.writeFieldName("host");
                Json.stringOrNull(g, e.host);
                g.writeFieldName("referer");
                Json.stringOrNull(g, e.referer);
                g.writeFieldName("user_agent");
                Json.stringOrNull(g, e.userAgent);
                g.writeStringField("request_id", e.ids.requestId());
                g.writeFieldName("trace_id");
                Json.stringOrNull(g, e.ids.traceId());
                g.writeFieldName("route");
                Json.stringOrNull(g, e.route() == null ? null : e.route().label());
                g.writeFieldName("pool");
                Json.stringOrNull(g, e.route() == null ? null : e.route().pool().name());
                g.writeFieldName("tls");
                Json.stringOrNull(g, e.tls == null ? null : e.tls.protocol());
                g.writeEndObject();
            });
            default -> {
                s.iso(b, e.startMillis).append(' ').append(e.client()).append(" \"");
                requestLine(b, e).append("\" ").append(e.status).append(' ').append(e.bytes).append(' ')
                        .append(e.backend).append(' ').append(cache).append(' ');
                millis(b, ms).append("ms \"");
                quoted(b, e.userAgent == null ? "-" : e.userAgent).append('"');
                ids(b, e);
                tls(b, e);
                if (e.tunnelBytesUp >= 0) {
                    b.append(" up=").append(e.tunnelBytesUp);
                }
            }
        }
        return b;
    }

    /**
     * The request id and the trace-id ({@code -} without a trace), then the route and pool: ids PIBL checked, a
     * label and a name the configuration checked, nothing to escape.
     */
    private static void ids(StringBuilder b, Exchange e) {
        b.append(' ').append(e.ids.requestId()).append(' ').append(e.ids.traceId() == null ? "-" : e.ids.traceId());
        b.append(" route=").append(e.route() == null ? "-" : e.route().label())
                .append(" pool=").append(e.route() == null ? "-" : e.route().pool().name());
    }

    /** Over TLS, its version ends the line; a cleartext line is as it always was. */
    private static void tls(StringBuilder b, Exchange e) {
        if (e.tls != null) {
            b.append(' ').append(e.tls.protocol());
        }
    }

    /** {@code GET /a?x=1 HTTP/1.1}, escaped; {@code -} for a request line that never arrived. */
    private static StringBuilder requestLine(StringBuilder b, Exchange e) {
        if (e.synthetic) {
            return b.append('-');
        }
        quoted(b, e.method.name()).append(' ');
        return quoted(b, e.uri).append(' ').append(e.version.text());
    }

    private static StringBuilder millis(StringBuilder b, double ms) {
        long tenths = Math.round(ms * 10);
        return b.append(tenths / 10).append('.').append(tenths % 10);
    }

    /** Escapes quotes, backslashes and control characters so one request is one parseable line. */
    private static StringBuilder quoted(StringBuilder b, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                b.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
            } else {
                b.append(c);
            }
        }
        return b;
    }

    /** Per-thread builder and per-second date cache. */
    private static final class State {
        final StringBuilder builder = new StringBuilder(256);
        long isoSecond = Long.MIN_VALUE;
        String isoPrefix;
        long clfSecond = Long.MIN_VALUE;
        String clfText;
        final char[] iso = new char[24];

        /** Appends {@code 2026-11-27T10:54:07.123Z}. */
        StringBuilder iso(StringBuilder b, long millis) {
            long second = Math.floorDiv(millis, 1000);
            if (second != isoSecond) {
                isoSecond = second;
                isoPrefix = ISO_SECONDS.format(Instant.ofEpochSecond(second));
            }
            int ms = (int) Math.floorMod(millis, 1000);
            isoPrefix.getChars(0, 19, iso, 0);
            iso[19] = '.';
            iso[20] = (char) ('0' + ms / 100);
            iso[21] = (char) ('0' + ms / 10 % 10);
            iso[22] = (char) ('0' + ms % 10);
            iso[23] = 'Z';
            return b.append(iso);
        }

        String clf(long millis) {
            long second = Math.floorDiv(millis, 1000);
            if (second != clfSecond) {
                clfSecond = second;
                clfText = CLF.format(Instant.ofEpochSecond(second));
            }
            return clfText;
        }
    }
}
