package pibl.lb;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import pibl.config.BalanceConfig.HashKey;

import java.util.Iterator;

/**
 * The 64-bit key a request is hashed by ({@code hash.key}), and the hash itself, also used for the ring's points.
 *
 * <pre>
 * uri                GET /cart?id=7 HTTP/1.1            → hash("/cart?id=7")
 * header:X-User      X-User: alice                      → hash("alice")      (the first X-User)
 * cookie:SESSION     Cookie: theme=dark; SESSION=ab12   → hash("ab12")
 * client-ip          from 10.1.1.1                      → hash("10.1.1.1")  (or the client a trusted proxy names)
 * cookie:SESSION     no SESSION cookie, or an empty one → {@link #NONE}: least-request among the candidates
 * </pre>
 *
 * The hash is FNV-1a over the characters followed by MurmurHash3's 64-bit finalizer: FNV alone leaves short keys
 * that differ in their last characters ({@code 127.0.0.1:9001#17}, {@code …#18}) close together, the finalizer
 * spreads every input bit over the whole word. Hashing reads the characters in place, allocating nothing.
 */
public final class HashKeys {
    /** No key: the header or cookie is missing or empty. No hash is ever this value. */
    public static final long NONE = 0;

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private HashKeys() {
    }

    /**
     * The key of {@code request} for {@code key}; {@code clientAddress} is the client's address as the exchange
     * knows it (the peer, or the client a {@code trusted-proxies:} peer's {@code X-Forwarded-For} names;
     * {@code -} when unknown).
     */
    public static long of(HashKey key, HttpRequest request, String clientAddress) {
        return switch (key.source()) {
            case URI -> hash(request.uri());
            case HEADER -> hash(request.headers().get(key.name()));
            case COOKIE -> cookie(request.headers(), key.name());
            case CLIENT_IP -> clientAddress == null || clientAddress.equals("-") ? NONE : hash(clientAddress);
        };
    }

    /** The hash of {@code s}; {@link #NONE} for null or empty. */
    public static long hash(CharSequence s) {
        return s == null ? NONE : hash(s, 0, s.length());
    }

    /** The hash of {@code s[from, to)}; {@link #NONE} when empty. */
    static long hash(CharSequence s, int from, int to) {
        if (from >= to) {
            return NONE;
        }
        long h = FNV_OFFSET;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            h = (h ^ (c & 0xff)) * FNV_PRIME;
            if (c > 0xff) {
                h = (h ^ (c >>> 8)) * FNV_PRIME;
            }
        }
        h = mix(h);
        return h == NONE ? 1 : h;
    }

    /** MurmurHash3's fmix64: every bit of {@code h} affects every bit of the result. */
    static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /** The value of cookie {@code name} (case-sensitive, as cookie names are) in any {@code Cookie} field. */
    private static long cookie(HttpHeaders headers, String name) {
        Iterator<? extends CharSequence> fields = headers.valueCharSequenceIterator(HttpHeaderNames.COOKIE);
        while (fields.hasNext()) {
            CharSequence field = fields.next();
            int n = field.length();
            int i = 0;
            while (i < n) {
                while (i < n && (field.charAt(i) == ' ' || field.charAt(i) == '\t' || field.charAt(i) == ';')) {
                    i++;
                }
                int end = i;
                while (end < n && field.charAt(end) != ';') {
                    end++;
                }
                int eq = i + name.length();
                if (eq < end && field.charAt(eq) == '=' && regionMatches(field, i, name)) {
                    int from = eq + 1;
                    int to = end;
                    while (to > from && (field.charAt(to - 1) == ' ' || field.charAt(to - 1) == '\t')) {
                        to--;
                    }
                    if (to - from >= 2 && field.charAt(from) == '"' && field.charAt(to - 1) == '"') {
                        from++;
                        to--;
                    }
                    return hash(field, from, to);
                }
                i = end;
            }
        }
        return NONE;
    }

    private static boolean regionMatches(CharSequence s, int at, String name) {
        for (int k = 0; k < name.length(); k++) {
            if (s.charAt(at + k) != name.charAt(k)) {
                return false;
            }
        }
        return true;
    }
}
