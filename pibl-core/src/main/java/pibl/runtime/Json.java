package pibl.runtime;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * The one JSON writer of PIBL ({@code /status}, the JSON access log): Jackson's streaming generator, configured
 * once. Strings are escaped per RFC 8259 (quote, backslash, every control character) and additionally
 * U+2028/U+2029, so a line is also safe inside a script; other non-ASCII characters are written as they are.
 * Non-finite numbers, which JSON cannot represent, are written as {@code null} by {@link #number}.
 *
 * <pre>
 *   StringBuilder b = new StringBuilder();
 *   Json.write(b, g -&gt; { g.writeStartObject(); g.writeStringField("uri", "/a\u0001"); g.writeEndObject(); });
 *   // {"uri":"/a\u0001"}
 * </pre>
 */
public final class Json {
    private static final JsonFactory FACTORY = new JsonFactoryBuilder()
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .disable(StreamWriteFeature.FLUSH_PASSED_TO_STREAM)
            .characterEscapes(new LineSeparatorEscapes())
            .build();

    /** What to write with the generator. */
    @FunctionalInterface
    public interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private Json() {
    }

    /** Appends one JSON value, written by {@code body}, to {@code out}. */
    public static StringBuilder write(StringBuilder out, Body body) {
        try (JsonGenerator g = FACTORY.createGenerator(new BuilderWriter(out))) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON into memory", e);
        }
        return out;
    }

    /** One JSON value, written by {@code body}, as a string. */
    public static String toString(Body body) {
        return write(new StringBuilder(256), body).toString();
    }

    /** A number, or {@code null} when it is not finite (JSON has no NaN or infinity). */
    public static void number(JsonGenerator g, double d) throws IOException {
        if (Double.isFinite(d)) {
            g.writeNumber(d);
        } else {
            g.writeNull();
        }
    }

    /** A string, or {@code null}. */
    public static void stringOrNull(JsonGenerator g, String s) throws IOException {
        if (s == null) {
            g.writeNull();
        } else {
            g.writeString(s);
        }
    }

    /** Jackson's standard escapes plus U+2028 and U+2029 (line and paragraph separators). */
    private static final class LineSeparatorEscapes extends CharacterEscapes {
        private static final SerializedString LS = new SerializedString("\\u2028");
        private static final SerializedString PS = new SerializedString("\\u2029");
        private final int[] ascii = standardAsciiEscapesForJSON();

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return ch == '\u2028' ? LS : ch == '\u2029' ? PS : null;
        }
    }

    /** A {@link Writer} appending to a {@link StringBuilder} the caller owns (no copy, no synchronization). */
    private static final class BuilderWriter extends Writer {
        private final StringBuilder out;

        BuilderWriter(StringBuilder out) {
            this.out = out;
        }

        @Override
        public void write(char[] chars, int off, int len) {
            out.append(chars, off, len);
        }

        @Override
        public void write(String s, int off, int len) {
            out.append(s, off, off + len);
        }

        @Override
        public void write(int c) {
            out.append((char) c);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
