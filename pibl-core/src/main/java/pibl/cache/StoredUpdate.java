package pibl.cache;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import pibl.config.CacheConfig;
import pibl.http.HopByHop;

import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a backend's answer about a stored response does to it, as pure functions of headers (the RFC 9111 rules
 * {@link CacheFill} applies): a 304 refreshes its fields (3.2, 4.3.4), a 200 to HEAD refreshes them when it
 * describes the same representation and otherwise outdates it (4.3.5).
 *
 * <pre>
 *   stored: ETag "v1", Cache-Control: max-age=0, X-V: 1     304: ETag "v1", Cache-Control: max-age=60, X-V: 2
 *     updatedHeaders -&gt; ETag "v1", Cache-Control: max-age=60, X-V: 2  (Content-Length kept: it is the body's)
 *   HEAD 200: ETag "v2"  -&gt; headDescribes false: the stored GET is removed
 * </pre>
 */
public final class StoredUpdate {
    /** Fields describing the stored body, which a 304 must not change (RFC 9111 3.2). */
    private static final Set<String> BODY_FIELDS = Set.of("content-length", "content-encoding", "content-range");

    private StoredUpdate() {
    }

    /**
     * May a stored response still be kept once a 304 refreshed its headers into {@code merged}? Not when they now
     * say {@code no-store} or {@code private}, or {@code Vary: *} (RFC 9111 3, 4.3.4).
     */
    public static boolean isStorableAfterRefresh(HttpHeaders merged, CacheConfig cfg) {
        CacheControl cc = CacheControl.ofResponse(merged, cfg.targetedField());
        return !CachePolicy.responseNoStore(cc) && !cc.has("private") && !Vary.isWildcard(merged);
    }

    /**
     * RFC 9111 3.2 / 4.3.4: the stored headers refreshed by a backend 304. Every field of the 304 replaces the
     * stored field of that name, except hop-by-hop and proxy fields, the fields describing the stored body
     * ({@code Content-Length}, {@code Content-Encoding}, {@code Content-Range}) and, unless configured,
     * {@code Set-Cookie}. {@code Date} and {@code Age} describe the 304 itself: a 304 without them removes the
     * stored {@code Age} and dates the entry at {@code responseTime}.
     */
    public static HttpHeaders updatedHeaders(HttpHeaders stored, HttpHeaders notModified, long responseTime,
                                             CacheConfig cfg) {
        HttpHeaders out = new DefaultHttpHeaders().add(stored);
        List<String> connectionListed = HopByHop.connectionTokens(notModified);
        for (String name : notModified.names()) {
            String lower = name.toLowerCase(Locale.ROOT);
            boolean cookie = lower.equals("set-cookie") || lower.equals("set-cookie2");
            if (CachePolicy.isNotStored(name, connectionListed) || BODY_FIELDS.contains(lower)
                    || (cookie && !cfg.storeSetCookie())) {
                continue;
            }
            out.set(name, notModified.getAll(name));
        }
        if (!notModified.contains(HttpHeaderNames.AGE)) {
            out.remove(HttpHeaderNames.AGE);
        }
        if (!notModified.contains(HttpHeaderNames.DATE)) {
            out.set(HttpHeaderNames.DATE, DateFormatter.format(new Date(responseTime)));
        }
        return out;
    }

    /**
     * RFC 9111 4.3.5: does a 200 to HEAD describe the stored GET response, so that it may refresh it? Every validator
     * it carries ({@code ETag}, {@code Last-Modified}) must equal the stored one, at least one must be there (without
     * a validator nothing says the representation is the same), and a {@code Content-Length} must equal the stored
     * body's length.
     */
    public static boolean headDescribes(HttpHeaders stored, long storedBodyLength, HttpHeaders headResponse) {
        boolean validated = false;
        for (CharSequence validator : List.of(HttpHeaderNames.ETAG, HttpHeaderNames.LAST_MODIFIED)) {
            String received = headResponse.get(validator);
            if (received != null) {
                if (!received.trim().equals(stored.get(validator, "").trim())) {
                    return false;
                }
                validated = true;
            }
        }
        String length = headResponse.get(HttpHeaderNames.CONTENT_LENGTH);
        return validated && (length == null || length.trim().equals(Long.toString(storedBodyLength)));
    }
}
