package pibl.http;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class StructuredDictionaryTest {

    /** Valid dictionaries, and what each member's text becomes (a boolean true is NULL). */
    @ParameterizedTest(name = "[{index}] {0} -> {1}={2}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            max-age=60                        | max-age  | 60
            max-age=60, private               | private  | NULL
            private, max-age=60               | max-age  | 60
            max-age=60 ,private               | private  | NULL
            max-age=60,	private               | private  | NULL
            no-cache=?1                       | no-cache | NULL
            a=-12                             | a        | -12
            a=1.5                             | a        | 1.5
            a="x, y"                          | a        | x, y
            a="q\\"d"                         | a        | q"d
            a=tok/en:1                        | a        | tok/en:1
            a=:aGk=:                          | a        | :aGk=:
            a=(1 "b" c)                       | a        | (1 "b" c)
            a=1;p=2;q                         | a        | 1
            a;p=2                             | a        | NULL
            a=1, a=2                          | a        | 2
            *x=1                              | *x       | 1
            a=@1700000000                     | a        | @1700000000
            """)
    void readsAMember(String field, String key, String expected) {
        Map<String, String> d = StructuredDictionary.parse(field);
        assertThat(d).as("%s is a valid dictionary", field).isNotNull();
        assertThat(d).containsKey(key);
        assertThat(d.get(key)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "[{index}] {0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            Max-Age=60               | keys are lower case
            max-age=60,              | a trailing comma
            max-age=60,,private      | an empty member
            max-age=6 0              | a space inside a value
            max-age= 60              | a space after =
            max-age =60              | a space before =
            max-age=60 private       | members without a comma
            max-age="60              | an unterminated string
            a="\\x"                  | an escape other than \\" and \\\\
            a=1234567890123456       | an integer of 16 digits
            a=1.2345                 | a fraction of 4 digits
            a=1.                     | a decimal without fraction
            a=?2                     | a boolean other than ?0 and ?1
            a=:a*b:                  | a byte sequence outside base64
            a=(1 2                   | an unterminated inner list
            1a=1                     | a key starting with a digit
            a=é                      | a non-ASCII value
            """)
    void refusesWhatIsNotADictionary(String field, String why) {
        assertThat(StructuredDictionary.parse(field)).as(why).isNull();
    }

    @org.junit.jupiter.api.Test
    void falseIsAbsentAndTheEmptyFieldIsEmpty() {
        assertThat(StructuredDictionary.parse("no-store=?0, max-age=5")).containsOnlyKeys("max-age");
        assertThat(StructuredDictionary.parse("")).isEmpty();
    }
}
