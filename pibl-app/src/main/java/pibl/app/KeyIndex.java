package pibl.app;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Where each key of a YAML file is, so that an error found after binding (by a record's
 * {@code validate()}, say) can still point at a line. For
 *
 * <pre>
 * 1 port: 8080
 * 2 backends:
 * 3   - 127.0.0.1:9001
 * 4   - { address: 127.0.0.1:9002, weight: 5 }
 * </pre>
 *
 * it holds {@code port -> line 1 "8080"}, {@code backends -> line 2}, {@code backends[0] -> line 3
 * "127.0.0.1:9001"}, {@code backends[1] -> line 4}, {@code backends[1].weight -> line 4 "5"}.
 */
final class KeyIndex {
    /** @param text the scalar as written, null for a section or a list */
    record Entry(int line, String text) {
    }

    static final KeyIndex EMPTY = new KeyIndex(Map.of());

    private final Map<String, Entry> entries;

    private KeyIndex(Map<String, Entry> entries) {
        this.entries = entries;
    }

    /**
     * Reads the whole token stream. Throws the parser's exception on a syntax error, and a
     * {@link ConfigError} when a key appears twice in one section (the YAML parser would silently
     * keep the last).
     */
    static KeyIndex read(YAMLFactory yaml, String source, String text) throws IOException {
        Map<String, Entry> entries = new HashMap<>();
        try (JsonParser p = yaml.createParser(text)) {
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                int line = p.currentTokenLocation().getLineNr();
                if (t == JsonToken.FIELD_NAME) {
                    String key = path(p.getParsingContext());
                    Entry first = entries.putIfAbsent(key, new Entry(line, null));
                    if (first != null) {
                        throw new ConfigError(source, line, key, "appears twice, first on line " + first.line());
                    }
                } else if (t.isStructStart()) {
                    entries.putIfAbsent(path(p.getParsingContext().getParent()), new Entry(line, null));
                } else if (t.isScalarValue()) {
                    String key = path(p.getParsingContext());
                    int keyLine = entries.containsKey(key) ? entries.get(key).line() : line;
                    entries.put(key, new Entry(keyLine, p.getText()));
                }
            }
        }
        return new KeyIndex(entries);
    }

    /** {@code cache.ttl}, {@code backends[1].weight}; empty for the document itself. */
    private static String path(JsonStreamContext ctx) {
        if (ctx == null || ctx.inRoot()) {
            return "";
        }
        String parent = path(ctx.getParent());
        if (ctx.inArray()) {
            return parent + "[" + Math.max(ctx.getCurrentIndex(), 0) + "]";
        }
        String name = ctx.getCurrentName();
        return name == null ? parent : parent.isEmpty() ? name : parent + "." + name;
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** The entry of exactly this key, or null. */
    Entry get(String key) {
        return entries.get(key);
    }

    /**
     * The line of the key or, when it is not in the file (a key the records derive, like
     * {@code backends[0].port}), of its nearest enclosing key; 0 when none is in the file.
     */
    int line(String key) {
        String k = key;
        while (!k.isEmpty()) {
            Entry e = entries.get(k);
            if (e != null) {
                return e.line();
            }
            k = k.substring(0, Math.max(0, Math.max(k.lastIndexOf('.'), k.lastIndexOf('['))));
        }
        return 0;
    }
}
