package pibl.cache;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import pibl.http.HttpMethods;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * RFC 9111 4.4: what an unsafe request makes obsolete.
 *
 * <pre>
 *   POST /cart/items HTTP/1.1          HTTP/1.1 201 Created
 *   Host: shop.example                 Location: /cart/items/17
 *                                      Content-Location: https://elsewhere.example/x
 *     -&gt; invalidate http://shop.example/cart/items and http://shop.example/cart/items/17
 *        (the other origin's URI is left alone, so one origin cannot purge another's entries)
 * </pre>
 */
public final class Invalidation {
    private Invalidation() {
    }

    /** RFC 9111 4.4: an unsafe method answered with a non-error (2xx, 3xx) status invalidates. */
    public static boolean invalidates(HttpMethod method, int status) {
        return !HttpMethods.isSafe(method) && status >= 200 && status < 400;
    }

    /**
     * RFC 9111 4.4: the keys to invalidate (every variant of each) after an unsafe request: its own target, and
     * the {@code Location} and {@code Content-Location} targets when they have the same origin. Empty when
     * {@link #invalidates} is false.
     */
    public static List<CacheKey> invalidationKeys(HttpMethod method, int status, CacheKey requestKey,
                                                  HttpHeaders responseHeaders) {
        if (!invalidates(method, status)) {
            return List.of();
        }
        List<CacheKey> keys = new ArrayList<>();
        keys.add(requestKey);
        for (CharSequence field : List.of(HttpHeaderNames.LOCATION, HttpHeaderNames.CONTENT_LOCATION)) {
            String value = responseHeaders.get(field);
            CacheKey resolved = value == null ? null : resolve(requestKey, value.trim());
            if (resolved != null && resolved.scheme().equals(requestKey.scheme())
                    && resolved.host().equals(requestKey.host()) && !keys.contains(resolved)) {
                keys.add(resolved);
            }
        }
        return keys;
    }

    /** Resolves a URI reference against the request's key; null if it cannot be parsed. */
    static CacheKey resolve(CacheKey base, String reference) {
        int hash = reference.indexOf('#');
        String ref = hash < 0 ? reference : reference.substring(0, hash);
        if (ref.isEmpty()) {
            return null;
        }
        String lower = ref.toLowerCase(Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            return CacheKey.of(base.scheme(), "", ref);
        }
        if (ref.startsWith("//")) {
            return CacheKey.of(base.scheme(), "", base.scheme() + ":" + ref);
        }
        if (ref.startsWith("/")) {
            return CacheKey.of(base.scheme(), base.host(), ref);
        }
        try {
            URI resolved = URI.create(base.text()).resolve(ref);
            return CacheKey.of(base.scheme(), base.host(), resolved.getRawPath()
                    + (resolved.getRawQuery() == null ? "" : "?" + resolved.getRawQuery()));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
