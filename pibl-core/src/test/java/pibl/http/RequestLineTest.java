package pibl.http;

import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The request line and Host rules of {@link RequestLine}, one row per form: each says why. */
class RequestLineTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "HTTP/1.1, HTTP/1.1, the version PIBL speaks",
            "HTTP/1.0, HTTP/1.0, served as HTTP/1.0 (no keep-alive unless asked)",
            "HTTP/1.2, HTTP/1.1, a higher minor of the major PIBL speaks is served as its highest (RFC 9110 2.5)",
            "HTTP/1.9, HTTP/1.1, the same"})
    void servedVersions(String text, String servedAs, String why) {
        assertThat(RequestLine.version(text)).as(why).isEqualTo(HttpVersion.valueOf(servedAs));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "HTTP/2.0, the HTTP/2 preface's version: another major",
            "HTTP/3.1, another major",
            "HTTP/0.9, another major (and no HTTP/0.9 responses either)"})
    void otherMajorVersionsAre505(String text, String why) {
        assertThatThrownBy(() -> RequestLine.version(text)).as(why)
                .isInstanceOf(RequestLine.UnsupportedVersionException.class);
    }

    @ParameterizedTest(name = "''{0}''")
    @ValueSource(strings = {"HTTP/1.10", "HTTP/1.1.1", "HTTX/1.1", "http/1.1", "HTTP/1", "HTTP/11", "HTTP/1.x",
            "HTTP/01.1", "HTTP/1.1 ", " HTTP/1.1", "HTTP/+1.1", ""})
    void malformedVersionsAre400(String text) {
        assertThatThrownBy(() -> RequestLine.version(text))
                .as("HTTP-version is HTTP-name \"/\" DIGIT \".\" DIGIT, exactly (RFC 9112 2.3)")
                .isInstanceOf(RequestLine.MalformedException.class);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "GET, /, origin-form",
            "GET, /a/b?c=d&e, origin-form with a query",
            "GET, /caf\u00e9, bytes above 0x7F pass as nginx lets them",
            "OPTIONS, *, asterisk-form is for OPTIONS",
            "CONNECT, shop.example:443, authority-form is for CONNECT (which the guard answers 405)",
            "GET, http://shop.example/a, absolute-form",
            "POST, HTTPS://shop.example, absolute-form, scheme in any case"})
    void acceptedTargets(String method, String target, String why) {
        RequestLine.checkTarget(method, target); // does not throw
        assertThat(why).isNotEmpty();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "GET|*|'*' only with OPTIONS",
            "GET|shop.example:443|authority-form only with CONNECT",
            "CONNECT|/a|CONNECT takes host:port",
            "CONNECT|http://shop.example/|CONNECT takes host:port",
            "GET|/a\tb|a tab is a control character",
            "GET|/a\u0000b|NUL",
            "GET|/a\u007f|DEL",
            "GET|a/b|no leading slash, no scheme: not a form at all"})
    void refusedTargets(String method, String target, String why) {
        assertThatThrownBy(() -> RequestLine.checkTarget(method, target)).as(why)
                .isInstanceOf(RequestLine.MalformedException.class);
    }

    @ParameterizedTest(name = "''{0}''")
    @ValueSource(strings = {"shop.example", "shop.example:8080", "SHOP.example", "127.0.0.1", "127.0.0.1:80",
            "[::1]", "[::1]:8443", "[2001:db8::7]", "[v1.fe80::a+en1]", "xn--caf-dma.example", "a_b.example",
            "sub-delims!$&'()*+,;=.example", "pct%41encoded", "localhost:", ""})
    void validHosts(String host) {
        assertThat(RequestLine.isValidHost(host)).as("uri-host [ \":\" port ] (RFC 9110 7.2)").isTrue();
    }

    @ParameterizedTest(name = "''{0}''")
    @ValueSource(strings = {"shop.example evil", "shop.example/a", "user@shop.example", "shop\u0001.example",
            "shop.example:8o", "shop.example:123456", "shop.example:80:81", "[::1", "[]", "[::g]", "::1",
            "shop.example?", "shop.example#", "bad%4", "tab\t.example", "shop.example\r\nX: y"})
    void invalidHosts(String host) {
        assertThat(RequestLine.isValidHost(host)).as("not uri-host [ \":\" port ]").isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "http://shop.example/a?b, shop.example, /a?b",
            "http://shop.example, shop.example, /",
            "http://shop.example?q, shop.example, /?q",
            "https://shop.example:8443/x, shop.example:8443, /x",
            "http://[::1]:8080/x, [::1]:8080, /x"})
    void absoluteFormSplitsIntoAuthorityAndOriginForm(String target, String authority, String origin) {
        assertThat(RequestLine.splitAbsolute(target)).containsExactly(authority, origin);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"http://user@shop.example/a", "ftp://shop.example/a", "http:///a", "http://sh op/"})
    void absoluteFormsThatAreRefused(String target) {
        assertThatThrownBy(() -> RequestLine.splitAbsolute(target))
                .as("only http(s), no user information, a valid host")
                .isInstanceOf(RequestLine.MalformedException.class);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/a", "*", "shop.example:443"})
    void otherFormsAreNotAbsolute(String target) {
        assertThat(RequestLine.splitAbsolute(target)).isNull();
    }
}
