package pibl.cache;

import java.util.Locale;

/**
 * The primary cache key of RFC 9111 section 2: scheme, authority and request target.
 *
 * <pre>
 *   GET /img/logo.png?v=3 HTTP/1.1
 *   Host: WWW.Example.com:80          -&gt;  text() = "http://www.example.com/img/logo.png?v=3"
 * </pre>
 *
 * <p>Scheme and host are case-folded and the scheme's default port is dropped (RFC 9110 4.2.3 makes
 * {@code example.com:80} and {@code example.com} the same origin); the target is kept exactly as sent, query
 * included. A target in absolute form ({@code GET http://host/path}) takes its authority from the target, as
 * RFC 9112 3.2.2 requires. Nothing of the key ever becomes a file path: stores name files after its {@link Digest}.
 */
public final class CacheKey {
    private final String scheme;
    private final String host;
    private final String target;
    private final String text;
    private volatile Digest digest;

    private CacheKey(String scheme, String host, String target) {
        this.scheme = scheme;
        this.host = host;
        this.target = target;
        this.text = scheme + "://" + host + target;
    }

    /**
     * @param scheme {@code http} or {@code https}
     * @param host   the request's {@code Host} value (may be null or empty for HTTP/1.0 requests without one)
     * @param target the request target as sent: origin form {@code /path?query}, or absolute form
     */
    public static CacheKey of(String scheme, String host, String target) {
        String s = scheme == null ? "http" : scheme.toLowerCase(Locale.ROOT);
        String h = host == null ? "" : host.trim();
        String t = target == null || target.isEmpty() ? "/" : target;
        String lower = t.length() > 8 ? t.substring(0, 8).toLowerCase(Locale.ROOT) : t.toLowerCase(Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            int schemeEnd = t.indexOf("://");
            s = lower.substring(0, schemeEnd);
            int pathStart = t.indexOf('/', schemeEnd + 3);
            int queryStart = t.indexOf('?', schemeEnd + 3);
            int authorityEnd = pathStart < 0 ? queryStart : queryStart < 0 ? pathStart : Math.min(pathStart, queryStart);
            h = authorityEnd < 0 ? t.substring(schemeEnd + 3) : t.substring(schemeEnd + 3, authorityEnd);
            t = authorityEnd < 0 ? "/" : t.substring(authorityEnd);
            if (t.startsWith("?")) {
                t = "/" + t;
            }
        }
        return new CacheKey(s, normalizeHost(s, h), t);
    }

    /** The key whose {@link #text()} this is ({@code http://shop.example/a?b}), as the store keeps it. */
    public static CacheKey parse(String text) {
        int i = text.indexOf("://");
        String scheme = i > 0 ? text.substring(0, i) : "";
        if (!scheme.isEmpty() && !scheme.equals("http") && !scheme.equals("https")) {
            CacheKey rest = of(null, null, "http" + text.substring(i)); // a scheme of PIBL's own: a hot copy's
            return new CacheKey(scheme, rest.host, rest.target);
        }
        return of(null, null, text);
    }

    private static String normalizeHost(String scheme, String host) {
        String h = host.toLowerCase(Locale.ROOT);
        String defaultPort = "https".equals(scheme) ? ":443" : "http".equals(scheme) ? ":80" : null;
        if (defaultPort != null && h.endsWith(defaultPort)) {
            h = h.substring(0, h.length() - defaultPort.length());
        }
        return h;
    }

    public String scheme() {
        return scheme;
    }

    /** Lower-cased host, with {@code :port} unless it was the scheme's default. */
    public String host() {
        return host;
    }

    /** The request target as sent: path and query. */
    public String target() {
        return target;
    }

    /** {@code scheme://host/target}: what is stored in entry files and compared on lookup. */
    public String text() {
        return text;
    }

    /** 96 bits of the SHA-256 of {@link #text()}, computed once: the key's name in the index and on disk. */
    Digest digest() {
        Digest d = digest;
        if (d == null) {
            d = Digest.of(text);
            digest = d;
        }
        return d;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CacheKey other && text.equals(other.text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
