package pibl.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The fields that describe one connection and must not travel past it (RFC 9110 7.6.1): {@code Connection},
 * every field it names, and the fixed list below. The one hop-by-hop set and the one {@code Connection} parser
 * of PIBL: forwarding strips with it in both directions, and the cache never stores what it names.
 *
 * <pre>
 *   Connection: close, X-Trace      X-Trace: 1      Keep-Alive: timeout=5      Host: a      Content-Length: 3
 *   strip() -&gt;                                                                Host: a      Content-Length: 3
 * </pre>
 *
 * The framing fields {@code Host} and {@code Content-Length} are never removed on a peer's say-so: a
 * {@code Connection: content-length} is ignored, since PIBL sets framing itself.
 */
public final class HopByHop {
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");

    /** The fields that are hop-by-hop whether or not {@code Connection} names them. */
    private static final AsciiString[] FIXED = {
        HttpHeaderNames.CONNECTION,
        HttpHeaderNames.KEEP_ALIVE,
        PROXY_CONNECTION,
        HttpHeaderNames.TE,
        HttpHeaderNames.TRAILER,
        HttpHeaderNames.TRANSFER_ENCODING,
        HttpHeaderNames.UPGRADE,
    };

    private HopByHop() {
    }

    /** True for a field of the fixed hop-by-hop list, whatever its case. */
    public static boolean isFixed(CharSequence name) {
        for (AsciiString f : FIXED) {
            if (f.contentEqualsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The tokens of every {@code Connection} line, lower-cased, in order (RFC 9110 7.6.1: a comma-separated list
     * of field names or connection options such as {@code close} and {@code keep-alive}); empty members skipped.
     */
    public static List<String> connectionTokens(HttpHeaders headers) {
        List<String> lines = headers.getAll(HttpHeaderNames.CONNECTION);
        if (lines.isEmpty()) {
            return List.of();
        }
        List<String> tokens = new ArrayList<>(2);
        for (int i = 0; i < lines.size(); i++) {
            String value = lines.get(i);
            int start = 0;
            while (start <= value.length()) {
                int comma = value.indexOf(',', start);
                int end = comma < 0 ? value.length() : comma;
                String token = value.substring(start, end).trim();
                if (!token.isEmpty()) {
                    tokens.add(token.toLowerCase(Locale.ROOT));
                }
                start = end + 1;
            }
        }
        return tokens;
    }

    /** True if {@code Connection} names {@code option} (say {@code close}), case-insensitively. */
    public static boolean connectionHas(HttpHeaders headers, String option) {
        return headers.containsValue(HttpHeaderNames.CONNECTION, option, true);
    }

    /**
     * True if {@code name} must not be stored or forwarded: a fixed hop-by-hop field, or one of
     * {@code connectionListed} (as returned by {@link #connectionTokens}) other than the framing fields.
     */
    public static boolean isHopByHop(CharSequence name, List<String> connectionListed) {
        if (isFixed(name)) {
            return true;
        }
        for (int i = 0; i < connectionListed.size(); i++) {
            String listed = connectionListed.get(i);
            if (!isFraming(listed) && AsciiString.contentEqualsIgnoreCase(listed, name)) {
                return true;
            }
        }
        return false;
    }

    /** Removes {@code Connection}, every field it names (but {@code Host} and {@code Content-Length}), and the fixed list. */
    public static void strip(HttpHeaders headers) {
        List<String> listed = connectionTokens(headers);
        for (int i = 0; i < listed.size(); i++) {
            String name = listed.get(i);
            if (!isFraming(name)) {
                headers.remove(name);
            }
        }
        for (AsciiString f : FIXED) {
            headers.remove(f);
        }
    }

    private static boolean isFraming(String name) {
        return HttpHeaderNames.HOST.contentEqualsIgnoreCase(name)
                || HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name);
    }
}
