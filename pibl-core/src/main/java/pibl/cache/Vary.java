package pibl.cache;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Secondary cache keys (RFC 9111 4.1): a response with {@code Vary: Accept-Encoding} is stored together with the
 * request's {@code Accept-Encoding}, and reused only for requests that send the same value.
 *
 * <pre>
 *   stored for   Accept-Encoding: gzip, br      -&gt; {accept-encoding="gzip,br"}
 *   request      Accept-Encoding: gzip,br       -&gt; matches (whitespace around list members is not significant)
 *   request      (no Accept-Encoding)           -&gt; does not match (absent matches only absent)
 * </pre>
 *
 * Values are kept in a map whose value is null for a header the request did not send.
 */
public final class Vary {
    private Vary() {
    }

    /** The lower-cased field names listed by every {@code Vary} line, in order, without duplicates. */
    public static List<String> names(HttpHeaders responseHeaders) {
        if (!responseHeaders.contains(HttpHeaderNames.VARY)) {
            return List.of();
        }
        Set<String> names = new LinkedHashSet<>();
        for (String line : responseHeaders.getAll(HttpHeaderNames.VARY)) {
            for (String name : line.split(",")) {
                String n = name.trim().toLowerCase(Locale.ROOT);
                if (!n.isEmpty()) {
                    names.add(n);
                }
            }
        }
        return List.copyOf(names);
    }

    /** True for {@code Vary: *}: the response can never be selected by a later request. */
    public static boolean isWildcard(HttpHeaders responseHeaders) {
        return names(responseHeaders).contains("*");
    }

    /** The request's normalized values for {@code names}; null values for absent headers. Unmodifiable. */
    public static Map<String, String> values(List<String> names, HttpHeaders requestHeaders) {
        if (names.isEmpty()) {
            return Map.of();
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (String name : names) {
            values.put(name, normalized(requestHeaders.getAll(name)));
        }
        return Collections.unmodifiableMap(values);
    }

    /** True if the request carries the same normalized values as the stored variant was chosen by. */
    public static boolean matches(Map<String, String> storedValues, HttpHeaders requestHeaders) {
        for (Map.Entry<String, String> e : storedValues.entrySet()) {
            if (!Objects.equals(e.getValue(), normalized(requestHeaders.getAll(e.getKey())))) {
                return false;
            }
        }
        return true;
    }

    /** Joins all lines of a field, trimming whitespace around list members; null if there is no line. */
    static String normalized(List<String> lines) {
        if (lines.isEmpty()) {
            return null;
        }
        List<String> members = new ArrayList<>();
        for (String line : lines) {
            for (String member : line.split(",", -1)) {
                members.add(member.trim());
            }
        }
        return String.join(",", members);
    }
}
