package pibl.http;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

import java.util.Locale;

/**
 * What RFC 9112 allows in a request line and in {@code Host}, checked before anything is forwarded. A proxy that
 * passes on what it cannot parse lets the hops behind it parse it differently (request smuggling, cache poisoning
 * through an odd {@code Host}); so, as HAProxy does, PIBL refuses rather than repairs.
 *
 * <pre>
 *   HTTP-version   HTTP/1.0, HTTP/1.1                            served
 *                  HTTP/1.2 .. HTTP/1.9                          served as HTTP/1.1 (RFC 9110 section 2.5: the
 *                                                                highest minor version of the major it speaks)
 *                  HTTP/2.0, HTTP/3.1, HTTP/0.9 (any other major) 505
 *                  HTTP/1.10, HTTP/1.1.1, HTTX/1.1, http/1.1      400 (HTTP-name "/" DIGIT "." DIGIT, exactly)
 *   request-target /path?query (origin-form)                     any method but CONNECT
 *                  *            (asterisk-form)                  OPTIONS only
 *                  host:port    (authority-form)                 CONNECT only (which PIBL answers 405)
 *                  http://host/path (absolute-form)              accepted: forwarded as /path, Host from it
 *                  a control character, a space, DEL             400
 *   Host           uri-host [ ":" port ]: reg-name, IPv4, [IPv6]  else 400, as is a second Host line
 * </pre>
 *
 * Bytes above 0x7F in a target are let through, as nginx does: browsers send UTF-8 paths unencoded now and then.
 */
public final class RequestLine {
    /** RFC 3986's unreserved marks and sub-delims: besides letters and digits, what a reg-name may hold. */
    private static final String MARKS_AND_SUB_DELIMS = "-._~!$&'()*+,;=";

    private RequestLine() {
    }

    /** A request line or {@code Host} that no careful server forwards: answered 400, the connection closed. */
    public static final class MalformedException extends IllegalArgumentException {
        public MalformedException(String why) {
            super(why);
        }
    }

    /** A well-formed {@code HTTP-version} of a major version PIBL does not speak here: answered 505. */
    public static final class UnsupportedVersionException extends IllegalArgumentException {
        public UnsupportedVersionException(String version) {
            super("HTTP version " + version + " is not served here");
        }
    }

    /** The version of a request line, or why it is refused. */
    public static HttpVersion version(String text) {
        if (text.length() != 8 || !text.startsWith("HTTP/") || !isDigit(text.charAt(5)) || text.charAt(6) != '.'
                || !isDigit(text.charAt(7))) {
            throw new MalformedException("not an HTTP-version: '" + printable(text) + "'");
        }
        if (text.charAt(5) != '1') {
            throw new UnsupportedVersionException(text);
        }
        return text.charAt(7) == '0' ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
    }

    /** Refuses a request-target that is not of a form {@code method} may use (see the class comment). */
    public static void checkTarget(String method, String target) {
        if (target.isEmpty()) {
            throw new MalformedException("empty request-target");
        }
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= ' ' || c == 0x7F) {
                throw new MalformedException("a control character or space in the request-target");
            }
        }
        boolean connect = HttpMethod.CONNECT.name().equals(method);
        if (target.equals("*")) {
            if (!HttpMethod.OPTIONS.name().equals(method)) {
                throw new MalformedException("'*' is a request-target for OPTIONS only");
            }
        } else if (target.charAt(0) == '/') {
            if (connect) {
                throw new MalformedException("CONNECT takes host:port, not a path");
            }
        } else if (absoluteAuthorityEnd(target) > 0) {
            if (connect) {
                throw new MalformedException("CONNECT takes host:port, not a URI");
            }
        } else if (!connect) {
            throw new MalformedException("host:port is a request-target for CONNECT only");
        }
    }

    /**
     * An absolute-form target ({@code http://shop.example/a?b}) as its authority and its origin-form
     * ({@code shop.example}, {@code /a?b}); null for any other form. Only the http and https schemes, no user
     * information, a valid host.
     */
    public static String[] splitAbsolute(String target) {
        if (target.isEmpty() || target.charAt(0) == '/') {
            return null; // origin-form, nearly every request: no scan
        }
        int end = absoluteAuthorityEnd(target);
        if (end < 0) {
            return null;
        }
        int start = target.indexOf("://") + 3;
        String scheme = target.substring(0, start - 3).toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new MalformedException("scheme " + printable(scheme) + " is not proxied here");
        }
        String authority = target.substring(start, end);
        if (authority.isEmpty() || !isValidHost(authority)) {
            throw new MalformedException("not a valid authority in the request-target: '" + printable(authority) + "'");
        }
        String rest = target.substring(end);
        if (rest.isEmpty() || rest.charAt(0) == '?') {
            rest = "/" + rest;
        }
        return new String[] {authority, rest};
    }

    /** {@code uri-host [ ":" port ]} (RFC 9110 section 7.2, RFC 3986 section 3.2.2). An empty value is valid. */
    public static boolean isValidHost(CharSequence value) {
        int n = value.length();
        int hostEnd;
        if (n > 0 && value.charAt(0) == '[') {
            hostEnd = indexOf(value, ']');
            if (hostEnd < 2 || !ipLiteral(value, 1, hostEnd)) {
                return false;
            }
            hostEnd++;
        } else {
            hostEnd = indexOf(value, ':');
            if (hostEnd < 0) {
                hostEnd = n;
            }
            for (int i = 0; i < hostEnd; i++) {
                if (!regNameChar(value, i)) {
                    return false;
                }
            }
        }
        if (hostEnd == n) {
            return true;
        }
        if (value.charAt(hostEnd) != ':' || n - hostEnd - 1 > 5) {
            return false;
        }
        for (int i = hostEnd + 1; i < n; i++) {
            if (!isDigit(value.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** Where the authority of an absolute-form target ends (its path, query or end), or -1 if it is not one. */
    private static int absoluteAuthorityEnd(String target) {
        int colon = target.indexOf("://");
        if (colon <= 0) {
            return -1;
        }
        for (int i = 0; i < colon; i++) { // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
            char c = target.charAt(i);
            boolean ok = isAlpha(c) || i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.');
            if (!ok) {
                return -1;
            }
        }
        int start = colon + 3;
        int end = start;
        while (end < target.length() && "/?#".indexOf(target.charAt(end)) < 0) {
            end++;
        }
        return end;
    }

    /** unreserved / pct-encoded / sub-delims: what a reg-name or an IPv4 address is made of. */
    private static boolean regNameChar(CharSequence s, int i) {
        char c = s.charAt(i);
        if (isAlpha(c) || isDigit(c) || MARKS_AND_SUB_DELIMS.indexOf(c) >= 0) {
            return true;
        }
        return c == '%' && i + 2 < s.length() && isHex(s.charAt(i + 1)) && isHex(s.charAt(i + 2));
    }

    /** An IPv6 address or an IPvFuture between the brackets: hex digits, colons and dots, or "v" hex "." ... */
    private static boolean ipLiteral(CharSequence s, int from, int to) {
        if (s.charAt(from) == 'v' || s.charAt(from) == 'V') {
            for (int i = from + 1; i < to; i++) {
                char c = s.charAt(i);
                if (!(isAlpha(c) || isDigit(c) || c == ':' || MARKS_AND_SUB_DELIMS.indexOf(c) >= 0)) {
                    return false;
                }
            }
            return true;
        }
        boolean colon = false;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == ':') {
                colon = true;
            } else if (!isHex(c) && c != '.') {
                return false;
            }
        }
        return colon;
    }

    private static int indexOf(CharSequence s, char c) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == c) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isAlpha(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isHex(char c) {
        return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    /** A value fit for a log line: control characters shown as '?', at most 64 characters. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 64));
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            b.append(c < ' ' || c == 0x7F ? '?' : c);
        }
        return b.toString();
    }
}
