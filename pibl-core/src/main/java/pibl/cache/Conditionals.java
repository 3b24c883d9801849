package pibl.cache;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import pibl.http.HttpDate;

import java.util.ArrayList;
import java.util.List;

/**
 * Conditional requests (RFC 9110 13) in both directions: answering a client's validators from a stored response,
 * and revalidating a stored response with the backend.
 *
 * <pre>
 *   client:  GET /a, If-None-Match: W/"v1", "v2"       stored: 200, ETag: "v2"
 *     isNotModified -&gt; true: answer 304 with notModifiedHeaders(stored), no body
 *   backend: GET /a, revalidationHeaders(stored) = If-None-Match: "v2" (+ If-Modified-Since: Last-Modified)
 * </pre>
 */
public final class Conditionals {
    private Conditionals() {
    }

    /**
     * Whether the client's request carries a validator a cache may answer ({@code If-None-Match} or
     * {@code If-Modified-Since}): its answer may be a 304, which is never stored for others.
     */
    public static boolean isConditional(HttpHeaders requestHeaders) {
        return requestHeaders.contains(HttpHeaderNames.IF_NONE_MATCH)
                || requestHeaders.contains(HttpHeaderNames.IF_MODIFIED_SINCE);
    }

    /**
     * RFC 9110 13.2.2 for a GET or HEAD answered from a stored response: should the answer be 304? Preconditions
     * are evaluated only against a 2xx stored response. {@code If-None-Match} ({@code *} or a list, weak
     * comparison) takes precedence; otherwise {@code If-Modified-Since} is compared with the stored
     * {@code Last-Modified}, or its {@code Date} when it has none (RFC 9111 4.3.2). Invalid dates are ignored.
     */
    public static boolean isNotModified(HttpHeaders requestHeaders, int storedStatus, HttpHeaders storedHeaders) {
        if (storedStatus < 200 || storedStatus > 299) {
            return false;
        }
        List<String> ifNoneMatch = requestHeaders.getAll(HttpHeaderNames.IF_NONE_MATCH);
        if (!ifNoneMatch.isEmpty()) {
            String etag = storedHeaders.get(HttpHeaderNames.ETAG);
            for (String line : ifNoneMatch) {
                for (String tag : entityTags(line)) {
                    if (tag.equals("*") || (etag != null && weakMatch(tag, etag.trim()))) {
                        return true;
                    }
                }
            }
            return false;
        }
        List<String> ims = requestHeaders.getAll(HttpHeaderNames.IF_MODIFIED_SINCE);
        if (ims.size() != 1) {
            return false;
        }
        long since = HttpDate.parse(ims.get(0).trim()); // not a valid HTTP-date: ignored (RFC 9110 13.1.3)
        String lastModifiedValue = storedHeaders.get(HttpHeaderNames.LAST_MODIFIED);
        if (lastModifiedValue == null) {
            lastModifiedValue = storedHeaders.get(HttpHeaderNames.DATE);
        }
        long lastModified = lastModifiedValue == null ? -1 : HttpDate.parse(lastModifiedValue.trim());
        return since >= 0 && lastModified >= 0 && lastModified <= since;
    }

    /**
     * RFC 9110 13.1.5: does the request's {@code If-Range} let its {@code Range} apply to this response? Yes when
     * there is none. An entity-tag holds by strong comparison: a weak tag on either side never does. An HTTP-date
     * holds only when it equals the response's {@code Last-Modified} exactly and that is strong, at least a second
     * before its {@code Date} (8.8.2.2). Anything else (an invalid date, two lines) fails: the whole
     * representation is sent.
     *
     * <pre>
     *   If-Range: "v2"                          ETag: "v2"      -&gt; true     ETag: W/"v2" -&gt; false
     *   If-Range: Sun, 06 Nov 1994 08:49:37 GMT  Last-Modified the same, Date a minute later -&gt; true
     * </pre>
     */
    public static boolean ifRangeHolds(List<String> ifRangeLines, HttpHeaders responseHeaders) {
        if (ifRangeLines.isEmpty()) {
            return true;
        }
        if (ifRangeLines.size() > 1) {
            return false;
        }
        String validator = ifRangeLines.get(0).trim();
        if (validator.startsWith("\"") || validator.startsWith("W/")) {
            String etag = responseHeaders.get(HttpHeaderNames.ETAG);
            return validator.startsWith("\"") && etag != null && validator.equals(etag.trim());
        }
        long date = HttpDate.parse(validator);
        String lastModified = responseHeaders.get(HttpHeaderNames.LAST_MODIFIED);
        String dateValue = responseHeaders.get(HttpHeaderNames.DATE);
        long modified = lastModified == null ? -1 : HttpDate.parse(lastModified.trim());
        long dated = dateValue == null ? -1 : HttpDate.parse(dateValue.trim());
        return date >= 0 && modified == date && dated >= 0 && modified <= dated - 1000;
    }

    /** RFC 9110 8.8.3.2 weak comparison: equal opaque tags, either or both may be weak. */
    public static boolean weakMatch(String a, String b) {
        return opaque(a).equals(opaque(b));
    }

    private static String opaque(String tag) {
        return tag.startsWith("W/") ? tag.substring(2) : tag;
    }

    /** Splits an entity-tag list on the commas outside quotes: {@code W/"a,b", "c"} -&gt; [W/"a,b", "c"]. */
    static List<String> entityTags(String line) {
        List<String> tags = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                addTrimmed(tags, current);
            } else {
                current.append(c);
            }
        }
        addTrimmed(tags, current);
        return tags;
    }

    private static void addTrimmed(List<String> tags, StringBuilder current) {
        String t = current.toString().trim();
        if (!t.isEmpty()) {
            tags.add(t);
        }
        current.setLength(0);
    }

    /**
     * The headers of a 304 generated from a stored response (RFC 9110 15.4.5): {@code Cache-Control},
     * {@code Content-Location}, {@code Date}, {@code ETag}, {@code Expires}, {@code Vary}, and
     * {@code Last-Modified} when there is no {@code ETag}. The caller adds {@code Age}.
     */
    public static HttpHeaders notModifiedHeaders(HttpHeaders storedHeaders) {
        HttpHeaders out = new DefaultHttpHeaders();
        for (CharSequence name : List.of(HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.CONTENT_LOCATION,
                HttpHeaderNames.DATE, HttpHeaderNames.ETAG, HttpHeaderNames.EXPIRES, HttpHeaderNames.VARY)) {
            List<String> values = storedHeaders.getAll(name);
            if (!values.isEmpty()) {
                out.set(name, values);
            }
        }
        if (!storedHeaders.contains(HttpHeaderNames.ETAG) && storedHeaders.contains(HttpHeaderNames.LAST_MODIFIED)) {
            out.set(HttpHeaderNames.LAST_MODIFIED, storedHeaders.get(HttpHeaderNames.LAST_MODIFIED));
        }
        return out;
    }

    /**
     * The validators to send the backend when revalidating a stored response (RFC 9111 4.3.1):
     * {@code If-None-Match} from its {@code ETag}, {@code If-Modified-Since} from its {@code Last-Modified}.
     * The caller replaces the client's own {@code If-None-Match}/{@code If-Modified-Since} with these, since a 304
     * must refer to the stored response. Empty if it has no validators (the request is then a plain fetch).
     */
    public static HttpHeaders revalidationHeaders(HttpHeaders storedHeaders) {
        HttpHeaders out = new DefaultHttpHeaders();
        String etag = storedHeaders.get(HttpHeaderNames.ETAG);
        if (etag != null) {
            out.set(HttpHeaderNames.IF_NONE_MATCH, etag.trim());
        }
        String lastModified = storedHeaders.get(HttpHeaderNames.LAST_MODIFIED);
        if (lastModified != null) {
            out.set(HttpHeaderNames.IF_MODIFIED_SINCE, lastModified.trim());
        }
        return out;
    }
}
