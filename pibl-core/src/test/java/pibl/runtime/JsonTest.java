package pibl.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class JsonTest {
    private static final ObjectMapper STRICT = new ObjectMapper();

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            plain               | 'abc'          | '"abc"'
            quote               | 'a"b'          | '"a\\"b"'
            backslash           | 'a\\b'         | '"a\\\\b"'
            newline             | 'a\nb'         | '"a\\nb"'
            """)
    void escapesWhatMustBeEscaped(String name, String input, String expected) throws Exception {
        String in = input.replace("\\n", "\n");
        String json = Json.toString(g -> g.writeString(in));

        assertThat(json).isEqualTo(expected);
        assertThat(STRICT.readTree(json).asText()).as("a strict parser reads back the same string").isEqualTo(in);
    }

    @Test
    void controlCharactersAndLineSeparatorsAreEscapedAndOtherNonAsciiIsKept() throws Exception {
        String in = "\u0000\u0001\u001f\t\r\b\f\u007f\u2028\u2029é→😀";
        String json = Json.toString(g -> g.writeString(in));

        assertThat(json).as("every C0 control escaped (RFC 8259 7), line separators too; é, → and 😀 as they are")
                .isEqualTo("\"\\u0000\\u0001\\u001F\\t\\r\\b\\f\u007f\\u2028\\u2029é→😀\"");
        assertThat(STRICT.readTree(json).asText()).isEqualTo(in);
    }

    @Test
    void appendsToTheCallersBuilder() throws Exception {
        StringBuilder line = new StringBuilder("prefix ");
        Json.write(line, g -> {
            g.writeStartObject();
            g.writeNumberField("a", 1);
            g.writeArrayFieldStart("b");
            g.writeBoolean(true);
            g.writeStartObject();
            g.writeEndObject();
            g.writeEndArray();
            g.writeFieldName("c");
            Json.stringOrNull(g, null);
            g.writeEndObject();
        });

        assertThat(line.toString()).isEqualTo("prefix {\"a\":1,\"b\":[true,{}],\"c\":null}");
    }

    @Test
    void nonFiniteNumbersAreNull() throws Exception {
        String json = Json.toString(g -> {
            g.writeStartArray();
            Json.number(g, Double.NaN);
            Json.number(g, Double.POSITIVE_INFINITY);
            Json.number(g, 1e-7);
            g.writeEndArray();
        });

        JsonNode parsed = STRICT.readTree(json);
        assertThat(parsed.get(0).isNull()).as("JSON has no NaN").isTrue();
        assertThat(parsed.get(1).isNull()).isTrue();
        assertThat(parsed.get(2).asDouble()).isEqualTo(1e-7);
    }
}
