package pibl.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Request ids and W3C Trace Context ({@code traceparent}, Trace Context Level 1 section 3.2), read strictly and
 * made anew; pure functions but for the random ids.
 *
 * <pre>
 *   traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
 *                version trace-id (32 hex)              parent-id (16 hex) flags
 *   PIBL forwards 00-4bf92f3577b34da6a3ce929d0e0e4736-&lt;its own span id&gt;-01: same trace, PIBL the new parent
 *   X-Request-Id: kept when 1-128 of [A-Za-z0-9._:@/+=-], else a new 32-hex id (nginx's $request_id form)
 * </pre>
 *
 * Lower-case hex only; an all-zero trace-id or parent-id, version {@code ff}, or any other shape is invalid. A
 * version above 00 is read as 00 when its first 55 characters have the 00 shape and a {@code -} or nothing follows
 * (the spec's rule for future versions).
 */
public final class TraceContext {
    public static final AsciiString X_REQUEST_ID = AsciiString.cached("X-Request-Id");
    public static final AsciiString TRACEPARENT = AsciiString.cached("traceparent");
    public static final AsciiString TRACESTATE = AsciiString.cached("tracestate");
    private static final int MAX_REQUEST_ID = 128;

    /** A valid {@code traceparent}'s parts. */
    public record Parent(String traceId, String parentId, String flags) {
    }

    /**
     * What one exchange carries: its request id, and its trace (null {@code traceId} when it has none): the trace-id,
     * PIBL's own span id for it, the flags, and whether the client's {@code tracestate} may travel with it (only
     * with the client's own valid {@code traceparent}).
     */
    public record Ids(String requestId, String traceId, String spanId, String flags, boolean keepTracestate) {
    }

    /**
     * The ids of a request: its {@code X-Request-Id} if well-formed, else a new one; its {@code traceparent}'s trace
     * if valid (PIBL adding its span), a new trace if it is invalid (a broken context is not passed on) or, with
     * {@code generate}, if there is none.
     */
    public static Ids of(HttpHeaders request, boolean generate) {
        String id = request.get(X_REQUEST_ID);
        String requestId = isValidRequestId(id) ? id : newId128();
        String sent = request.get(TRACEPARENT);
        // Only a request with a traceparent pays for counting them (getAll copies them into a list).
        Parent parent = sent != null && request.getAll(TRACEPARENT).size() == 1 ? parse(sent) : null;
        if (parent != null) {
            return new Ids(requestId, parent.traceId(), newId64(), parent.flags(), true);
        }
        if (sent != null || generate) {
            return new Ids(requestId, newId128(), newId64(), "00", false);
        }
        return new Ids(requestId, null, null, null, false);
    }

    /** Writes the ids into a request for the backend (or a response's {@code X-Request-Id}, without a trace). */
    public static void apply(HttpHeaders request, Ids ids) {
        request.set(X_REQUEST_ID, ids.requestId());
        if (ids.traceId() == null) {
            return;
        }
        request.set(TRACEPARENT, header(ids.traceId(), ids.spanId(), ids.flags()));
        if (!ids.keepTracestate()) {
            request.remove(TRACESTATE);
        }
    }

    private TraceContext() {
    }

    /** The parts of a valid {@code traceparent}, or null. */
    public static Parent parse(String value) {
        if (value == null) {
            return null;
        }
        String v = value.trim();
        if (v.length() < 55 || !hex(v, 0, 2) || v.startsWith("ff") || v.charAt(2) != '-' || !hex(v, 3, 35)
                || v.charAt(35) != '-' || !hex(v, 36, 52) || v.charAt(52) != '-' || !hex(v, 53, 55)) {
            return null;
        }
        boolean v00 = v.startsWith("00");
        if (v00 ? v.length() != 55 : v.length() > 55 && v.charAt(55) != '-') {
            return null;
        }
        String traceId = v.substring(3, 35);
        String parentId = v.substring(36, 52);
        if (allZero(traceId) || allZero(parentId)) {
            return null;
        }
        return new Parent(traceId, parentId, v.substring(53, 55));
    }

    /** The {@code traceparent} for the next hop: this trace, {@code spanId} as the parent. */
    public static String header(String traceId, String spanId, String flags) {
        return "00-" + traceId + "-" + spanId + "-" + flags;
    }

    /** A client's {@code X-Request-Id} worth keeping: 1-128 characters, none that could break a log line. */
    public static boolean isValidRequestId(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_REQUEST_ID) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "._:@/+=-".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** 32 lower-case hex digits, never all zero: a request id or a trace-id. */
    public static String newId128() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long hi = r.nextLong();
        long lo = r.nextLong();
        if (hi == 0 && lo == 0) {
            lo = 1;
        }
        byte[] b = HEX_SCRATCH.get();
        hex16(hi, b, 0);
        hex16(lo, b, 16);
        return new String(b, 0, 32, StandardCharsets.ISO_8859_1);
    }

    /** 16 lower-case hex digits, never all zero: a span id. */
    public static String newId64() {
        long v = ThreadLocalRandom.current().nextLong();
        byte[] b = HEX_SCRATCH.get();
        hex16(v == 0 ? 1 : v, b, 0);
        return new String(b, 0, 16, StandardCharsets.ISO_8859_1);
    }

    /** Every request gets an id: written through a thread's scratch array, the id is its String and nothing else. */
    private static final ThreadLocal<byte[]> HEX_SCRATCH = ThreadLocal.withInitial(() -> new byte[32]);
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.ISO_8859_1);

    private static void hex16(long v, byte[] into, int at) {
        for (int i = 15; i >= 0; i--) {
            into[at + i] = HEX[(int) (v & 0xF)];
            v >>>= 4;
        }
    }

    private static boolean hex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static boolean allZero(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }
}
