package pibl.demo;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Date;
import java.util.List;

/**
 * Conditional {@code GET}/{@code HEAD} (RFC 9110 section 13): when may a {@code 200} become a bodiless {@code 304}?
 *
 * <pre>
 *   GET /cache/etag                         200 OK
 *   If-None-Match: "cache-etag-v1"    --&gt;   ETag: "cache-etag-v1"         --&gt;  304 Not Modified
 *                                           Cache-Control: no-cache             ETag: "cache-etag-v1"
 *                                                                               Cache-Control: no-cache
 * </pre>
 *
 * {@code If-None-Match} decides when present (weak comparison, {@code *} matches any tag); only without it does
 * {@code If-Modified-Since} count, against {@code Last-Modified}. Pure functions over headers; no channel in sight.
 */
final class Conditionals {

    /** Headers a 304 keeps from the 200 it replaces (RFC 9110 section 15.4.5), plus Last-Modified to guide caches. */
    private static final List<CharSequence> KEPT_ON_304 = List.of(
            HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.CONTENT_LOCATION, HttpHeaderNames.ETAG,
            HttpHeaderNames.EXPIRES, HttpHeaderNames.VARY, HttpHeaderNames.LAST_MODIFIED);

    private Conditionals() {
    }

    /** Whether a {@code 200} with {@code response} headers is "not modified" for a request with {@code request}. */
    static boolean notModified(HttpHeaders request, HttpHeaders response) {
        String ifNoneMatch = request.get(HttpHeaderNames.IF_NONE_MATCH);
        if (ifNoneMatch != null) {
            String etag = response.get(HttpHeaderNames.ETAG);
            return etag != null && anyTagMatches(ifNoneMatch, etag);
        }
        String ifModifiedSince = request.get(HttpHeaderNames.IF_MODIFIED_SINCE);
        String lastModified = response.get(HttpHeaderNames.LAST_MODIFIED);
        if (ifModifiedSince == null || lastModified == null) {
            return false;
        }
        Date since = DateFormatter.parseHttpDate(ifModifiedSince);
        Date modified = DateFormatter.parseHttpDate(lastModified);
        return since != null && modified != null && !modified.after(since);
    }

    /**
     * Whether the {@code If-None-Match} field value lists a tag that weakly matches {@code etag}: {@code W/"a"} and
     * {@code "a"} match each other, and {@code *} matches anything.
     */
    static boolean anyTagMatches(String ifNoneMatch, String etag) {
        if (ifNoneMatch.trim().equals("*")) {
            return true;
        }
        String wanted = opaque(etag);
        int i = 0;
        int n = ifNoneMatch.length();
        while (i < n) {
            char c = ifNoneMatch.charAt(i);
            if (c == ' ' || c == '\t' || c == ',') {
                i++;
            } else if (ifNoneMatch.startsWith("W/", i)) {
                i += 2;
            } else if (c == '"') {
                int end = ifNoneMatch.indexOf('"', i + 1);
                if (end < 0) {
                    return false;
                }
                if (ifNoneMatch.substring(i, end + 1).equals(wanted)) {
                    return true;
                }
                i = end + 1;
            } else {
                return false; // not a list of entity-tags: match nothing
            }
        }
        return false;
    }

    /** The {@code 304} that replaces a {@code 200} with the given headers: validators and caching headers only. */
    static Reply notModifiedReply(Reply ok) {
        HttpHeaders kept = new DefaultHttpHeaders();
        for (CharSequence name : KEPT_ON_304) {
            List<String> values = ok.headers().getAll(name);
            if (!values.isEmpty()) {
                kept.set(name, values);
            }
        }
        return new Reply(HttpResponseStatus.NOT_MODIFIED, kept, new Reply.Fixed(new byte[0]), ok.close());
    }

    private static String opaque(String etag) {
        return etag.startsWith("W/") ? etag.substring(2) : etag;
    }
}
