package pibl.cache;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What a purge wider than one key removes: every stored response whose key starts with a prefix, or every one
 * whose response carried one of some tags.
 *
 * <pre>
 *   PURGE /static/* HTTP/1.1          Host: shop.example      -&gt;  prefix "shop.example/static/"
 *   PURGE / HTTP/1.1                  Surrogate-Key: sku-17 home   -&gt;  tags {sku-17, home}
 *
 *   a stored response matches tag "home" if it carried   Surrogate-Key: home products    (Fastly: spaces)
 *                                                    or   Cache-Tag: home,products        (Cloudflare: commas)
 * </pre>
 *
 * <p>A prefix is matched against the key without its scheme ({@code host/target}), so that one purge reaches the
 * {@code http} and the {@code https} entries of a site alike. Tags are case-sensitive, as both conventions have
 * them, and are matched across every host: they are the operator's names, not a site's.
 */
public record Ban(String prefix, Set<String> tags) {
    /** The response headers that tag a stored response. */
    public static final String SURROGATE_KEY = "Surrogate-Key";
    public static final String CACHE_TAG = "Cache-Tag";

    public Ban {
        tags = Set.copyOf(tags);
        if ((prefix == null) == tags.isEmpty()) {
            throw new IllegalArgumentException("a ban has a prefix or tags, not both and not neither");
        }
    }

    /** Every stored response of {@code host} whose target starts with {@code targetPrefix}, under either scheme. */
    public static Ban prefix(String host, String targetPrefix) {
        String text = CacheKey.of("http", host, targetPrefix.isEmpty() ? "/" : targetPrefix).text();
        return new Ban(withoutScheme(text), Set.of());
    }

    /** Every stored response tagged with one of {@code tags}. */
    public static Ban tags(Set<String> tags) {
        return new Ban(null, tags);
    }

    /**
     * The tags a request or a response names in its {@code Surrogate-Key} (space-separated) and {@code Cache-Tag}
     * (comma-separated) fields, in order, without duplicates; empty if neither is there.
     */
    public static Set<String> tagsOf(Iterable<Map.Entry<String, String>> headers) {
        Set<String> out = new LinkedHashSet<>();
        for (Map.Entry<String, String> h : headers) {
            if (SURROGATE_KEY.equalsIgnoreCase(h.getKey())) {
                split(h.getValue(), ' ', out);
            } else if (CACHE_TAG.equalsIgnoreCase(h.getKey())) {
                split(h.getValue(), ',', out);
            }
        }
        return out;
    }

    /** Whether the stored response of key {@code keyText} with these stored headers is one this ban removes. */
    public boolean matches(String keyText, Iterable<Map.Entry<String, String>> headers) {
        if (prefix != null) {
            return withoutScheme(keyText).startsWith(prefix);
        }
        for (String t : tagsOf(headers)) {
            if (tags.contains(t)) {
                return true;
            }
        }
        return false;
    }

    /** Whether only the key is needed to judge: then markers (the Vary lists of keys) match too. */
    boolean byKey() {
        return prefix != null;
    }

    /** How the purge is named in logs and answers. */
    public String describe() {
        return prefix != null ? "prefix " + prefix : "tags " + String.join(" ", tags);
    }

    private static String withoutScheme(String keyText) {
        int i = keyText.indexOf("://");
        return i < 0 ? keyText : keyText.substring(i + 3);
    }

    private static void split(String value, char separator, Set<String> out) {
        int start = 0;
        for (int i = 0; i <= value.length(); i++) {
            if (i == value.length() || value.charAt(i) == separator || separator == ' ' && value.charAt(i) == '\t') {
                String t = value.substring(start, i).trim();
                if (!t.isEmpty()) {
                    out.add(t);
                }
                start = i + 1;
            }
        }
    }
}
