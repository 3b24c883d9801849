package pibl.admin;

/**
 * A minimal streaming JSON writer, enough for {@code /status} without a JSON library in pibl-core. Commas are
 * placed by the writer; strings are escaped per RFC 8259 (quote, backslash, control characters, and U+2028/U+2029
 * so the output is also safe inside a script); non-finite numbers become {@code null}.
 *
 * <pre>
 * new Json().beginObject().name("port").value(8080).name("backends").beginArray().endArray().endObject()
 *     .toString()   // {"port":8080,"backends":[]}
 * </pre>
 */
final class Json {
    private final StringBuilder out = new StringBuilder(1024);
    /** Per open container: whether the next element needs a comma before it. Depth is small. */
    private boolean[] needsComma = new boolean[8];
    private int depth;
    private boolean afterName;

    Json beginObject() {
        return open('{');
    }

    Json endObject() {
        return close('}');
    }

    Json beginArray() {
        return open('[');
    }

    Json endArray() {
        return close(']');
    }

    Json name(String name) {
        separate();
        string(name);
        out.append(':');
        afterName = true;
        return this;
    }

    Json value(String s) {
        separate();
        if (s == null) {
            out.append("null");
        } else {
            string(s);
        }
        return this;
    }

    Json value(long n) {
        separate();
        out.append(n);
        return this;
    }

    Json value(double d) {
        separate();
        if (Double.isFinite(d)) {
            out.append(d);
        } else {
            out.append("null");
        }
        return this;
    }

    Json value(boolean b) {
        separate();
        out.append(b);
        return this;
    }

    @Override
    public String toString() {
        return out.toString();
    }

    private Json open(char c) {
        separate();
        out.append(c);
        if (++depth == needsComma.length) {
            needsComma = java.util.Arrays.copyOf(needsComma, depth * 2);
        }
        needsComma[depth] = false;
        return this;
    }

    private Json close(char c) {
        depth--;
        out.append(c);
        return this;
    }

    private void separate() {
        if (afterName) {
            afterName = false;
            return;
        }
        if (needsComma[depth]) {
            out.append(',');
        }
        needsComma[depth] = true;
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
