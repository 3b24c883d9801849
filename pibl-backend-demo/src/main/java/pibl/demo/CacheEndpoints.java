package pibl.demo;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * {@code /cache/*}: one path per caching behaviour a proxy must get right.
 *
 * <pre>
 *   path                 Cache-Control           also
 *   /cache/max-age/{N}   max-age=N               ETag "max-age-N", Last-Modified
 *   /cache/etag          no-cache                ETag "etag-v1", Last-Modified;
 *                                                304 on If-None-Match / If-Modified-Since
 *   /cache/no-store      no-store
 *   /cache/private       private
 *   /cache/none          (none)                  no validators either, so only the proxy's default TTL applies
 *   /cache/vary          max-age=60              Vary: Accept-Encoding; the body repeats the Accept-Encoding received
 *   /cache/set-cookie    max-age=60              Set-Cookie: demo=&lt;instance nonce&gt;-&lt;request number&gt;; Path=/
 * </pre>
 *
 * Every body is one line such as {@code backend-1 /cache/etag request=17 nonce=3fa2c1e0}: the request number is
 * new on every response the backend really sends, so a test tells a fresh response from a cached (or revalidated) one
 * by comparing bodies. ETags name the path, not the instance, so a copy cached from one instance revalidates with 304
 * against any other.
 */
final class CacheEndpoints {

    static final String PREFIX = "/cache/";

    private CacheEndpoints() {
    }

    /** The reply for a {@code /cache/...} path, or {@code null} when there is no such path. */
    static Reply route(Exchange exchange) {
        String what = exchange.path().substring(PREFIX.length());
        Reply reply = switch (what) {
            case "etag" -> body(exchange)
                    .with(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                    .with(HttpHeaderNames.ETAG, "\"etag-v1\"")
                    .with(HttpHeaderNames.LAST_MODIFIED, StaticSite.LAST_MODIFIED);
            case "no-store" -> body(exchange).with(HttpHeaderNames.CACHE_CONTROL, "no-store");
            case "private" -> body(exchange).with(HttpHeaderNames.CACHE_CONTROL, "private");
            case "none" -> body(exchange);
            case "vary" -> {
                String acceptEncoding = exchange.request().headers().get(HttpHeaderNames.ACCEPT_ENCODING, "");
                yield body(exchange, " accept-encoding=" + acceptEncoding)
                        .with(HttpHeaderNames.CACHE_CONTROL, "max-age=60")
                        .with(HttpHeaderNames.VARY, "Accept-Encoding");
            }
            case "set-cookie" -> body(exchange)
                    .with(HttpHeaderNames.CACHE_CONTROL, "max-age=60")
                    .with(HttpHeaderNames.SET_COOKIE,
                            "demo=" + exchange.instance().nonce() + "-" + exchange.number() + "; Path=/");
            default -> null;
        };
        if (reply == null && what.startsWith("max-age/")) {
            reply = maxAge(exchange, what.substring("max-age/".length()));
        }
        return reply;
    }

    private static Reply maxAge(Exchange exchange, String seconds) {
        if (!seconds.matches("[0-9]{1,9}")) {
            return Reply.badRequest("max-age must be a whole number of seconds, e.g. /cache/max-age/60");
        }
        long n = Long.parseLong(seconds);
        return body(exchange)
                .with(HttpHeaderNames.CACHE_CONTROL, "max-age=" + n)
                .with(HttpHeaderNames.ETAG, "\"max-age-" + n + "\"")
                .with(HttpHeaderNames.LAST_MODIFIED, StaticSite.LAST_MODIFIED);
    }

    private static Reply body(Exchange exchange) {
        return body(exchange, "");
    }

    private static Reply body(Exchange exchange, String extra) {
        return Reply.text(HttpResponseStatus.OK, exchange.instance().name() + " " + exchange.path()
                + " request=" + exchange.number() + " nonce=" + exchange.instance().nonce() + extra + "\n");
    }
}
