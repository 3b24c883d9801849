package pibl.cache;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import pibl.http.ByteRanges;

import java.util.List;

/**
 * A client's range request as the cache answers it (RFC 9110 14, RFC 9111 3.3-3.4): its {@code Range} and
 * {@code If-Range}, applied to a complete 200, stored or streaming in from the backend on a miss. Pure functions
 * of headers, like {@link CachePolicy}.
 *
 * <pre>
 *   GET /v, Range: bytes=0-99                       stored 200 of 10000 B  -&gt; 206, Content-Range: bytes 0-99/10000
 *   GET /v, Range: bytes=0-99, If-Range: "old"      stored ETag: "new"     -&gt; 200, the whole body
 *   GET /v, Range: bytes=20000-                                            -&gt; 416, Content-Range: bytes &#42;/10000
 *   GET /v, Range: bytes=0-99, not stored           the backend is asked without Range and If-Range
 *                                                   ({@link #removeFrom}); its 200 is stored whole while the
 *                                                   client's part is cut from it as it streams by
 * </pre>
 *
 * Only GET has ranges (a HEAD gets the whole head, RFC 9110 14.2), only a 200 is cut, and not one whose origin
 * said {@code Accept-Ranges: none}. Conditionals come first: a 304 from {@link Conditionals} wins over a range
 * (RFC 9110 13.2.2). PIBL stores no partial content: RFC 9111 3.4 lets a cache combine stored 206s, and PIBL,
 * like nginx by default, never does. A backend's 206 (a Range passed through for a key known to be unstorable or
 * too large, see {@link HttpCache#isPass}) is never stored ({@link CachePolicy#isStorable}).
 */
public final class RangeRequest {
    private final ByteRanges ranges;
    private final List<String> ifRange;

    private RangeRequest(ByteRanges ranges, List<String> ifRange) {
        this.ranges = ranges;
        this.ifRange = ifRange;
    }

    /**
     * The range request a client's request makes, or null when none applies: not a GET, no {@code Range}, or one
     * that is ignored ({@link ByteRanges#parse(List)}: another unit, invalid, too many ranges). An {@code If-Range}
     * without a {@code Range} is ignored too (RFC 9110 13.1.5).
     */
    public static RangeRequest of(HttpMethod method, HttpHeaders requestHeaders) {
        if (!HttpMethod.GET.equals(method) || !requestHeaders.contains(HttpHeaderNames.RANGE)) {
            return null;
        }
        ByteRanges ranges = ByteRanges.parse(requestHeaders.getAll(HttpHeaderNames.RANGE));
        return ranges == null ? null : new RangeRequest(ranges, requestHeaders.getAll(HttpHeaderNames.IF_RANGE));
    }

    /**
     * What to send for a response of {@code status} with these headers and a body of {@code length} bytes
     * ({@code -1}: not known): the whole of it unless it is a 200 of known length, ranges are not refused, and
     * {@code If-Range} holds; else the part, or unsatisfiable.
     */
    public ByteRanges.Selection select(int status, HttpHeaders responseHeaders, long length) {
        if (status != 200 || length < 0 || refusesRanges(responseHeaders)
                || !Conditionals.ifRangeHolds(ifRange, responseHeaders)) {
            return ByteRanges.Selection.whole(length);
        }
        return ranges.select(length);
    }

    private static boolean refusesRanges(HttpHeaders responseHeaders) {
        String accept = responseHeaders.get(HttpHeaderNames.ACCEPT_RANGES);
        return accept != null && accept.trim().equalsIgnoreCase("none");
    }

    /**
     * Takes {@code Range} and {@code If-Range} off a request to the backend: the cache wants the whole response,
     * to store it and cut any client's range from it.
     */
    public static void removeFrom(HttpHeaders upstreamHeaders) {
        upstreamHeaders.remove(HttpHeaderNames.RANGE);
        upstreamHeaders.remove(HttpHeaderNames.IF_RANGE);
    }

    /** The status line for a selection: 200 (the response's own), 206 or 416. */
    public static HttpResponseStatus status(ByteRanges.Selection s, HttpResponseStatus whole) {
        return switch (s.kind()) {
            case WHOLE -> whole;
            case PART -> HttpResponseStatus.PARTIAL_CONTENT;
            case UNSATISFIABLE -> HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE;
        };
    }

    /**
     * Turns the headers of a whole 200 into those of a 206 for {@code part}: {@code Content-Range} and the part's
     * {@code Content-Length}; every other field (ETag, Last-Modified, Cache-Control, Expires, Date, Vary ...) stays
     * as it describes the representation (RFC 9110 15.3.7).
     */
    public static void describePart(HttpHeaders headers, ByteRanges.Selection part) {
        headers.set(HttpHeaderNames.CONTENT_RANGE, part.contentRange());
        headers.set(HttpHeaderNames.CONTENT_LENGTH, part.partLength());
    }

    /**
     * The head of a 416 (RFC 9110 15.5.17): {@code Content-Range: bytes &#42;/length}, no body, the validators of
     * the representation, and {@code no-store}: an answer about a range is for no cache to keep.
     */
    public static HttpHeaders unsatisfiedHeaders(ByteRanges.Selection unsatisfiable, HttpHeaders representation) {
        HttpHeaders out = new DefaultHttpHeaders();
        out.set(HttpHeaderNames.CONTENT_RANGE, unsatisfiable.contentRange());
        out.set(HttpHeaderNames.CONTENT_LENGTH, 0);
        out.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        for (CharSequence name : List.of(HttpHeaderNames.DATE, HttpHeaderNames.ETAG, HttpHeaderNames.LAST_MODIFIED)) {
            String value = representation.get(name);
            if (value != null) {
                out.set(name, value);
            }
        }
        return out;
    }

    /**
     * {@code Accept-Ranges: bytes} on a 200 PIBL could cut, unless the origin said otherwise (nginx does the same
     * for what it serves from its cache).
     */
    public static void advertise(HttpHeaders headers) {
        if (!headers.contains(HttpHeaderNames.ACCEPT_RANGES)) {
            headers.set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
        }
    }

    /** A response's {@code Content-Length}, or -1 when it has none or an invalid one (one line of digits). */
    public static long contentLength(HttpHeaders responseHeaders) {
        List<String> lines = responseHeaders.getAll(HttpHeaderNames.CONTENT_LENGTH);
        if (lines.size() != 1) {
            return -1;
        }
        String v = lines.get(0).trim();
        if (v.isEmpty() || v.length() > 18 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        return Long.parseLong(v);
    }
}
