package pibl.http;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Structured Field Dictionary (RFC 9651 3.2, 4.2.2) read strictly, for the fields defined as one, such as the
 * targeted cache-control fields of RFC 9213. Each member becomes its key and the text of its value:
 *
 * <pre>
 *   max-age=60, private, no-cache=?0, x="a b";p=1
 *     -&gt; {max-age=60, private=null, x=a b}        (true is null, like a directive without argument; false is
 *                                                  absent; parameters are dropped; a repeated key: the last wins)
 *   Max-Age=60  |  max-age=60,  |  max-age=6 0  |  max-age="60
 *     -&gt; null                                     (not a dictionary: the whole field is invalid)
 * </pre>
 *
 * Integers, decimals and tokens keep their text, strings lose their quotes and escapes, byte sequences keep their
 * colons, inner lists and dates their text as written. Nothing here knows what a member means.
 */
public final class StructuredDictionary {
    private final String s;
    private int i;

    private StructuredDictionary(String s) {
        this.s = s;
    }

    /** The members of the field value (lines already joined with ", "), or null if it is not a valid dictionary. */
    public static Map<String, String> parse(String value) {
        StructuredDictionary p = new StructuredDictionary(value);
        try {
            return Collections.unmodifiableMap(p.dictionary());
        } catch (IllegalArgumentException invalid) {
            return null;
        }
    }

    private Map<String, String> dictionary() {
        Map<String, String> members = new LinkedHashMap<>();
        skipSp();
        while (i < s.length()) {
            String key = key();
            String value = null;
            boolean present = true;
            if (peek() == '=') {
                i++;
                if (peek() == '(') {
                    value = innerList();
                } else {
                    int start = i;
                    char first = peek();
                    bareItem();
                    value = first == '"' ? unquote(s.substring(start, i)) : s.substring(start, i);
                    present = !"?0".equals(value);
                    if ("?1".equals(value)) {
                        value = null;
                    }
                }
            }
            parameters();
            members.remove(key); // the last occurrence wins, in its place
            if (present) {
                members.put(key, value);
            }
            skipOws();
            if (i == s.length()) {
                break;
            }
            expect(',');
            skipOws();
            if (i == s.length()) {
                throw invalid(); // a trailing comma
            }
        }
        return members;
    }

    private String key() {
        char c = peek();
        if (!(c >= 'a' && c <= 'z') && c != '*') {
            throw invalid();
        }
        int start = i++;
        while (i < s.length() && isKeyChar(s.charAt(i))) {
            i++;
        }
        return s.substring(start, i);
    }

    private static boolean isKeyChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '*';
    }

    private void parameters() {
        while (peek() == ';') {
            i++;
            skipSp();
            key();
            if (peek() == '=') {
                i++;
                bareItem();
            }
        }
    }

    private String innerList() {
        int start = i;
        expect('(');
        while (true) {
            skipSp();
            if (peek() == ')') {
                i++;
                parameters();
                return s.substring(start, i);
            }
            bareItem();
            parameters();
            char c = peek();
            if (c != ' ' && c != ')') {
                throw invalid();
            }
        }
    }

    private void bareItem() {
        char c = peek();
        if (c == '-' || (c >= '0' && c <= '9')) {
            number();
        } else if (c == '"') {
            string();
        } else if (c == '*' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            token();
        } else if (c == ':') {
            byteSequence();
        } else if (c == '?') {
            i++;
            char b = peek();
            if (b != '0' && b != '1') {
                throw invalid();
            }
            i++;
        } else if (c == '@') {
            i++;
            number();
        } else {
            throw invalid();
        }
    }

    /** RFC 9651 4.2.4: at most 15 integer digits, or 12 and a fraction of 1 to 3. */
    private void number() {
        if (peek() == '-') {
            i++;
        }
        int digits = digits();
        if (digits == 0 || digits > 15) {
            throw invalid();
        }
        if (peek() == '.') {
            i++;
            int fraction = digits();
            if (digits > 12 || fraction == 0 || fraction > 3) {
                throw invalid();
            }
        }
    }

    private int digits() {
        int start = i;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
        }
        return i - start;
    }

    private void string() {
        expect('"');
        while (i < s.length()) {
            char c = s.charAt(i++);
            if (c == '"') {
                return;
            }
            if (c == '\\') {
                char e = peek();
                if (e != '"' && e != '\\') {
                    throw invalid();
                }
                i++;
            } else if (c < 0x20 || c > 0x7e) {
                throw invalid();
            }
        }
        throw invalid(); // unterminated
    }

    private void token() {
        i++;
        while (i < s.length() && (isTchar(s.charAt(i)) || s.charAt(i) == ':' || s.charAt(i) == '/')) {
            i++;
        }
    }

    /** RFC 9110 5.6.2 tchar. */
    private static boolean isTchar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    private void byteSequence() {
        expect(':');
        while (i < s.length() && s.charAt(i) != ':') {
            char c = s.charAt(i++);
            boolean base64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '+' || c == '/' || c == '=';
            if (!base64) {
                throw invalid();
            }
        }
        expect(':');
    }

    private static String unquote(String quoted) {
        StringBuilder out = new StringBuilder(quoted.length());
        for (int k = 1; k < quoted.length() - 1; k++) {
            char c = quoted.charAt(k);
            out.append(c == '\\' ? quoted.charAt(++k) : c);
        }
        return out.toString();
    }

    private char peek() {
        return i < s.length() ? s.charAt(i) : '\0';
    }

    private void expect(char c) {
        if (peek() != c) {
            throw invalid();
        }
        i++;
    }

    private void skipSp() {
        while (peek() == ' ') {
            i++;
        }
    }

    private void skipOws() {
        while (peek() == ' ' || peek() == '\t') {
            i++;
        }
    }

    private static IllegalArgumentException invalid() {
        return new IllegalArgumentException();
    }
}
