package pibl.cache;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import pibl.http.StructuredDictionary;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The directives of every {@code Cache-Control} line of a message, parsed once (RFC 9111 5.2).
 *
 * <pre>
 *   Cache-Control: public, max-age=60
 *   Cache-Control: private="Set-Cookie, X-User", s-maxage="30"
 *       -&gt; {public=null, max-age=60, private=Set-Cookie, X-User, s-maxage=30}
 * </pre>
 *
 * <p>Names are case-insensitive; quoted values are unquoted; commas inside quotes do not split. When a directive
 * repeats, the first occurrence wins (RFC 9111 4.2.1). A delta-seconds value that is not a number reads as 0, so a
 * response with {@code max-age=soon} is treated as stale, as 4.2.1 encourages.
 *
 * <p>A response's directives may instead come from a targeted field (RFC 9213), see {@link #ofResponse}.
 */
public final class CacheControl {
    /** Delta-seconds larger than this are capped (RFC 9111 1.2.2). */
    static final long MAX_DELTA_SECONDS = 2_147_483_648L;

    /** The targeted field for CDN caches (RFC 9213 3), second on PIBL's target list. */
    public static final AsciiString CDN_CACHE_CONTROL = AsciiString.cached("CDN-Cache-Control");

    private static final CacheControl EMPTY = new CacheControl(Map.of(), false);

    private final Map<String, String> directives;
    private final boolean targeted;

    private CacheControl(Map<String, String> directives, boolean targeted) {
        this.directives = directives;
        this.targeted = targeted;
    }

    /**
     * The directives that govern how PIBL caches a response (RFC 9213 2.1): those of the first field of its target
     * list, {@code targetedField} (PIBL's own, {@code cache.targeted-field}) then {@code CDN-Cache-Control}, that
     * is present with a valid, non-empty Structured Dictionary; else those of {@code Cache-Control}. A targeted
     * field, once chosen, replaces {@code Cache-Control} and {@code Expires} entirely ({@link #isTargeted()}).
     *
     * <pre>
     *   Cache-Control: no-store               CDN-Cache-Control: max-age=60      -&gt; max-age=60 (targeted)
     *   Cache-Control: max-age=5              CDN-Cache-Control: max-age=6 0     -&gt; max-age=5 (invalid: ignored)
     *   PIBL-Cache-Control: no-store          CDN-Cache-Control: max-age=60      -&gt; no-store (first on the list)
     * </pre>
     */
    public static CacheControl ofResponse(HttpHeaders responseHeaders, CharSequence targetedField) {
        CacheControl own = targeted(responseHeaders, targetedField);
        if (own != null) {
            return own;
        }
        CacheControl cdn = targeted(responseHeaders, CDN_CACHE_CONTROL);
        return cdn != null ? cdn : of(responseHeaders);
    }

    private static CacheControl targeted(HttpHeaders headers, CharSequence name) {
        if (name == null || headers == null || !headers.contains(name)) {
            return null;
        }
        Map<String, String> members = StructuredDictionary.parse(String.join(", ", headers.getAll(name)));
        return members == null || members.isEmpty() ? null : new CacheControl(members, true);
    }

    /**
     * True when the directives come from a targeted field: then {@code Expires} is ignored too. As in
     * {@code Cache-Control}, a delta-seconds value that is not a non-negative integer (a decimal, a token)
     * reads as 0.
     */
    public boolean isTargeted() {
        return targeted;
    }

    public static CacheControl of(HttpHeaders headers) {
        if (headers == null || !headers.contains(HttpHeaderNames.CACHE_CONTROL)) {
            return EMPTY;
        }
        Map<String, String> map = new LinkedHashMap<>();
        for (String line : headers.getAll(HttpHeaderNames.CACHE_CONTROL)) {
            parseInto(line, map);
        }
        return new CacheControl(Collections.unmodifiableMap(map), false);
    }

    /** Parses one field value, e.g. {@code "no-cache, max-age=0"}. */
    public static CacheControl parse(String value) {
        Map<String, String> map = new LinkedHashMap<>();
        parseInto(value, map);
        return new CacheControl(Collections.unmodifiableMap(map), false);
    }

    private static void parseInto(String value, Map<String, String> into) {
        int i = 0;
        int n = value.length();
        while (i < n) {
            while (i < n && (value.charAt(i) == ',' || isSpace(value.charAt(i)))) {
                i++;
            }
            int nameStart = i;
            while (i < n && value.charAt(i) != '=' && value.charAt(i) != ',') {
                i++;
            }
            String name = value.substring(nameStart, i).trim().toLowerCase(Locale.ROOT);
            String arg = null;
            if (i < n && value.charAt(i) == '=') {
                i++;
                while (i < n && isSpace(value.charAt(i))) {
                    i++;
                }
                if (i < n && value.charAt(i) == '"') {
                    StringBuilder sb = new StringBuilder();
                    i++;
                    while (i < n && value.charAt(i) != '"') {
                        char c = value.charAt(i++);
                        if (c == '\\' && i < n) {
                            c = value.charAt(i++);
                        }
                        sb.append(c);
                    }
                    i++; // closing quote (or end)
                    arg = sb.toString();
                    while (i < n && value.charAt(i) != ',') {
                        i++;
                    }
                } else {
                    int argStart = i;
                    while (i < n && value.charAt(i) != ',') {
                        i++;
                    }
                    arg = value.substring(argStart, i).trim();
                }
            }
            if (!name.isEmpty()) {
                into.putIfAbsent(name, arg);
            }
        }
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t';
    }

    /** True if the directive is present, with or without an argument. */
    public boolean has(String name) {
        return directives.containsKey(name);
    }

    /** The directive's argument (unquoted), or null if absent or given without one. */
    public String value(String name) {
        return directives.get(name);
    }

    /**
     * The directive's delta-seconds: -1 if absent; 0 if present but not a number (treat as stale);
     * capped at 2^31.
     */
    public long seconds(String name) {
        if (!directives.containsKey(name)) {
            return -1;
        }
        return parseDeltaSeconds(directives.get(name));
    }

    static long parseDeltaSeconds(String s) {
        if (s == null || s.isEmpty()) {
            return 0;
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return 0;
            }
            v = v * 10 + (c - '0');
            if (v > MAX_DELTA_SECONDS) {
                return MAX_DELTA_SECONDS;
            }
        }
        return v;
    }

    public boolean isEmpty() {
        return directives.isEmpty();
    }

    @Override
    public String toString() {
        return directives.toString();
    }
}
