package pibl.config;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which requests a route takes: the one definition of matching, used by the router for every request and by the
 * configuration's check that no route is shadowed by an earlier one ({@link #covers}).
 *
 * <pre>
 * host   exact ({@code shop.example}) or a suffix ({@code *.shop.example}: {@code a.shop.example},
 *        {@code a.b.shop.example}, not {@code shop.example}); case-insensitive, the request's port ignored; null: any
 * path   a prefix on segment boundaries: {@code /static} and {@code /static/} both take {@code /static},
 *        {@code /static/} and {@code /static/x}, never {@code /staticfoo}; null or {@code /}: any
 * methods  empty: any; else the request's method must be one of them
 * </pre>
 *
 * The host and path given to {@link #matches} are already normalised by the caller (lower case, no port, no
 * trailing dot; the path's dot segments resolved): see {@code pibl.route.Router}.
 *
 * @param host    lower case, without {@code *.} for a suffix pattern; null for any host
 * @param suffix  {@code host} is a suffix ({@code *.}{@code host} was written)
 * @param path    without a trailing slash; empty for any path
 * @param methods upper case; empty for any
 */
public record RouteMatch(String host, boolean suffix, String path, Set<String> methods) {

    public RouteMatch {
        methods = Collections.unmodifiableSet(new LinkedHashSet<>(methods));
    }

    /** Everything: no host, path or methods. */
    public static final RouteMatch ANY = new RouteMatch(null, false, "", Set.of());

    /**
     * From the values as written in a route; throws {@link IllegalArgumentException} naming which of them is wrong
     * ({@code host}, {@code path} or {@code methods}) as the first word of its message.
     */
    public static RouteMatch of(String host, String path, List<String> methods) {
        String h = null;
        boolean suffix = false;
        if (host != null) {
            String t = host.strip().toLowerCase(Locale.ROOT);
            suffix = t.startsWith("*.");
            h = suffix ? t.substring(2) : t;
            if (!isHostName(h)) {
                throw new IllegalArgumentException("host: must be a host name (shop.example) or *. and a domain "
                        + "(*.shop.example), without a port, got " + host);
            }
        }
        String p = "";
        if (path != null) {
            if (!path.startsWith("/") || path.contains("?") || path.contains("#") || path.contains("//")
                    || hasDotSegment(path) || !printable(path)) {
                throw new IllegalArgumentException("path: must start with / and be a plain path (no query, no "
                        + "dot segments, no //), got " + path);
            }
            p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        }
        Set<String> m = new LinkedHashSet<>();
        for (String method : methods == null ? List.<String>of() : methods) {
            String u = method == null ? "" : method.strip().toUpperCase(Locale.ROOT);
            if (!HeaderNames.isToken(u)) {
                throw new IllegalArgumentException("methods: must be method names such as GET, got " + method);
            }
            m.add(u);
        }
        return new RouteMatch(h, suffix, p, m);
    }

    /**
     * @param host   lower case, without port or trailing dot; null when the request has none (HTTP/1.0)
     * @param path   the request's path without its query, dot segments resolved
     * @param method as the request has it
     */
    public boolean matches(String host, String path, String method) {
        return hostMatches(host) && pathMatches(path) && (methods.isEmpty() || methods.contains(method));
    }

    private boolean hostMatches(String requestHost) {
        if (host == null) {
            return true;
        }
        if (requestHost == null) {
            return false;
        }
        if (!suffix) {
            return requestHost.equals(host);
        }
        return requestHost.length() > host.length() + 1 && requestHost.endsWith(host)
                && requestHost.charAt(requestHost.length() - host.length() - 1) == '.';
    }

    private boolean pathMatches(String requestPath) {
        if (path.isEmpty()) {
            return true;
        }
        return requestPath.startsWith(path)
                && (requestPath.length() == path.length() || requestPath.charAt(path.length()) == '/');
    }

    /**
     * Whether every request {@code later} matches, this matches too: then a route with this match placed before
     * {@code later} leaves it nothing (first match wins).
     */
    public boolean covers(RouteMatch later) {
        boolean hostCovers;
        if (host == null) {
            hostCovers = true;
        } else if (later.host == null) {
            hostCovers = false;
        } else if (suffix) { // *.a.b takes x.a.b, *.x.a.b and *.a.b
            hostCovers = later.host.endsWith("." + host) || later.suffix && later.host.equals(host);
        } else {
            hostCovers = !later.suffix && later.host.equals(host);
        }
        boolean pathCovers = path.isEmpty() || !later.path.isEmpty() && pathMatches(later.path);
        boolean methodsCover = methods.isEmpty() || !later.methods.isEmpty() && methods.containsAll(later.methods);
        return hostCovers && pathCovers && methodsCover;
    }

    /**
     * {@code shop.example/static}, {@code *.shop.example/}, {@code /api}, {@code /}, and {@code [GET,HEAD]} after it
     * when methods are given: one word, the route's name in the access log, {@code /status} and {@code /metrics}.
     */
    public String label() {
        String h = host == null ? "" : (suffix ? "*." : "") + host;
        return h + (path.isEmpty() ? "/" : path) + (methods.isEmpty() ? "" : "[" + String.join(",", methods) + "]");
    }

    /** RFC 1123 labels (letters, digits, hyphens, and underscores seen in the wild), or an IPv4 literal. */
    private static boolean isHostName(String h) {
        if (h.isEmpty() || h.length() > 253 || h.endsWith(".")) {
            return false;
        }
        for (String label : h.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean hasDotSegment(String path) {
        for (String segment : path.split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) {
                return true;
            }
        }
        return false;
    }

    private static boolean printable(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c >= 127) {
                return false;
            }
        }
        return true;
    }
}
