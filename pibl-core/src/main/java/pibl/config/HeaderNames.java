package pibl.config;

import java.util.Locale;
import java.util.Set;

/**
 * Field names and values as the configuration may give them ({@code cache.targeted-field}, a route's
 * {@code headers:}), checked by hand: the configuration is read before logging is set up, and touching Netty's
 * validators would start Log4j before it knows its file.
 */
final class HeaderNames {
    /**
     * Fields a route may neither set nor remove: they frame the message or describe one connection (RFC 9110 7.6.1),
     * and PIBL writes them itself for each hop.
     */
    static final Set<String> MANAGED = Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding",
            "content-length", "te", "trailer", "upgrade");

    private HeaderNames() {
    }

    /** RFC 9110 5.6.2: a field name (and a method) is a token. */
    static boolean isToken(String s) {
        if (s == null || s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!tchar) {
                return false;
            }
        }
        return true;
    }

    /** RFC 9110 5.5: visible characters, spaces and tabs; no CR, LF or other control character. */
    static boolean isValue(String s) {
        if (s == null) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < ' ' && c != '\t' || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    static boolean isManaged(String name) {
        return MANAGED.contains(name.toLowerCase(Locale.ROOT));
    }
}
