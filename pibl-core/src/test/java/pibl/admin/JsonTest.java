package pibl.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

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
        String json = new Json().value(in).toString();

        assertThat(json).isEqualTo(expected);
        assertThat(STRICT.readTree(json).asText()).as("a strict parser reads back the same string").isEqualTo(in);
    }

    @Test
    void controlCharactersAndLineSeparatorsBecomeUnicodeEscapes() throws Exception {
        String in = "\u0000\u0001\u001f\t\r\b\f\u2028\u2029é→😀";
        String json = new Json().value(in).toString();

        assertThat(json).isEqualTo("\"\\u0000\\u0001\\u001f\\t\\r\\b\\f\\u2028\\u2029é→😀\"");
        assertThat(STRICT.readTree(json).asText()).isEqualTo(in);
    }

    @Test
    void commasGoBetweenElementsAtEveryDepth() throws Exception {
        String json = new Json().beginObject()
                .name("a").value(1)
                .name("b").beginArray().value(true).beginObject().endObject().beginArray().endArray().value("x")
                .endArray()
                .name("c").beginObject().name("d").value((String) null).name("e").value(2.5).endObject()
                .endObject().toString();

        assertThat(json).isEqualTo("{\"a\":1,\"b\":[true,{},[],\"x\"],\"c\":{\"d\":null,\"e\":2.5}}");
        assertThat(STRICT.readTree(json).get("c").get("e").asDouble()).isEqualTo(2.5);
    }

    @Test
    void nonFiniteNumbersAreNull() throws Exception {
        String json = new Json().beginArray().value(Double.NaN).value(Double.POSITIVE_INFINITY).value(1e-7)
                .endArray().toString();

        JsonNode parsed = STRICT.readTree(json);
        assertThat(parsed.get(0).isNull()).as("JSON has no NaN").isTrue();
        assertThat(parsed.get(1).isNull()).isTrue();
        assertThat(parsed.get(2).asDouble()).isEqualTo(1e-7);
    }

    @Test
    void deepNestingGrowsTheStack() throws Exception {
        Json j = new Json();
        for (int i = 0; i < 20; i++) {
            j.beginArray().value(i);
        }
        for (int i = 0; i < 20; i++) {
            j.endArray();
        }
        assertThat(STRICT.readTree(j.toString()).get(1).get(0).asInt()).isEqualTo(1);
    }
}
