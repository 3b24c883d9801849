package pibl.route;

import java.util.Locale;

/**
 * A request's host and path as routes see them: what a backend would make of them, not what the bytes say, so that
 * {@code /static/../admin} cannot slip past a route on {@code /admin} (nginx matches its locations on the same
 * normalised URI, and forwards the original).
 *
 * <pre>
 * Host: Shop.Example:8080.        host  shop.example        (lower case, port and trailing dot gone)
 * GET /a//b/./c/../d?x=1          path  /a/b/d              (query gone, slashes merged, dot segments resolved)
 * GET /%61dmin/%2e%2e/admin       path  /admin              (percent-escapes decoded first, %2F too)
 * </pre>
 *
 * Only the match uses these; the request goes to the backend as the client sent it.
 */
final class RequestTarget {
    private RequestTarget() {
    }

    /** The {@code Host} value without port or trailing dot, in lower case; null for none (HTTP/1.0). */
    static String host(String hostHeader) {
        if (hostHeader == null) {
            return null;
        }
        String h = hostHeader.strip();
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            h = close < 0 ? h : h.substring(0, close + 1);
        } else {
            int colon = h.lastIndexOf(':');
            if (colon >= 0) {
                h = h.substring(0, colon);
            }
        }
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        return h.toLowerCase(Locale.ROOT);
    }

    /** The path of an origin-form target, normalised as the class comment shows; {@code *} stays {@code *}. */
    static String path(String uri) {
        if (uri == null || uri.isEmpty()) {
            return "/";
        }
        int end = uri.length();
        int q = uri.indexOf('?');
        if (q >= 0) {
            end = q;
        }
        int hash = uri.indexOf('#');
        if (hash >= 0 && hash < end) {
            end = hash;
        }
        String p = uri.substring(0, end);
        if (!p.startsWith("/")) {
            return p;
        }
        if (p.indexOf('%') < 0 && p.indexOf("//") < 0 && p.indexOf("/.") < 0) {
            return p; // the usual case: nothing to do
        }
        return resolve(decode(p));
    }

    /** Every {@code %XX}; a {@code %} without two hex digits stays as it is. */
    private static String decode(String p) {
        StringBuilder b = new StringBuilder(p.length());
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '%' && i + 2 < p.length() && hex(p.charAt(i + 1)) >= 0 && hex(p.charAt(i + 2)) >= 0) {
                b.append((char) (hex(p.charAt(i + 1)) << 4 | hex(p.charAt(i + 2))));
                i += 2;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static int hex(char c) {
        return Character.digit(c, 16) >= 0 && c < 128 ? Character.digit(c, 16) : -1;
    }

    /** RFC 3986 5.2.4 on the segments, empty segments (from {@code //}) dropped; a trailing slash kept. */
    private static String resolve(String p) {
        String[] segments = p.split("/", -1);
        String[] out = new String[segments.length];
        int n = 0;
        for (int i = 1; i < segments.length; i++) {
            String s = segments[i];
            if (s.equals("..")) {
                n = Math.max(0, n - 1);
            } else if (!s.isEmpty() && !s.equals(".")) {
                out[n++] = s;
            }
        }
        String last = segments[segments.length - 1];
        boolean trailing = last.isEmpty() || last.equals(".") || last.equals("..");
        StringBuilder b = new StringBuilder(p.length());
        for (int i = 0; i < n; i++) {
            b.append('/').append(out[i]);
        }
        if (trailing || n == 0) {
            b.append('/');
        }
        return b.toString();
    }
}
