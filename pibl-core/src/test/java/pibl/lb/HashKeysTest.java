package pibl.lb;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import pibl.config.BalanceConfig.HashKey;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** What each {@code hash.key} reads of a request, and the hash's spread. */
class HashKeysTest {

    private static HttpRequest request(String uri, String... headers) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    @Test
    void uriIsTheRequestTarget() {
        HashKey uri = HashKey.parse("uri");
        assertThat(HashKeys.of(uri, request("/cart?id=7"), "10.0.0.1")).isEqualTo(HashKeys.hash("/cart?id=7"))
                .isEqualTo(HashKeys.of(uri, request("/cart?id=7"), "10.9.9.9"))
                .isNotEqualTo(HashKeys.of(uri, request("/cart?id=8"), "10.0.0.1"));
    }

    @Test
    void headerIsItsFirstValueAndMissingOrEmptyIsNoKey() {
        HashKey user = HashKey.parse("header:X-User");
        assertThat(HashKeys.of(user, request("/", "x-user", "alice", "X-User", "bob"), "-"))
                .isEqualTo(HashKeys.hash("alice"));
        assertThat(HashKeys.of(user, request("/"), "-")).isEqualTo(HashKeys.NONE);
        assertThat(HashKeys.of(user, request("/", "X-User", ""), "-"))
                .as("an empty value would send every such request to one backend").isEqualTo(HashKeys.NONE);
    }

    @ParameterizedTest(name = "{0} → {1}")
    @CsvSource(delimiter = '|', value = {
        "SESSION=ab12                          | ab12",
        "theme=dark; SESSION=ab12              | ab12",
        "theme=dark;SESSION=ab12;lang=es       | ab12",
        "XSESSION=zz; SESSION=ab12             | ab12",
        "SESSIONX=zz; SESSION=ab12             | ab12",
        "SESSION=\"ab12\"                      | ab12",
        "SESSION=ab12  ; lang=es               | ab12",
        "session=ab12                          | -",
        "SESSION=                              | -",
        "theme=dark                            | -",
        "SESSION                               | -",
    })
    void cookieIsTheNamedCookiesValue(String cookie, String expected) {
        long key = HashKeys.of(HashKey.parse("cookie:SESSION"), request("/", "Cookie", cookie.strip()), "-");
        assertThat(key).isEqualTo(expected.equals("-") ? HashKeys.NONE : HashKeys.hash(expected));
    }

    @Test
    void cookieIsFoundInAnyCookieField() {
        HttpRequest r = request("/", "Cookie", "theme=dark", "Cookie", "SESSION=ab12");
        assertThat(HashKeys.of(HashKey.parse("cookie:SESSION"), r, "-")).isEqualTo(HashKeys.hash("ab12"));
    }

    @Test
    void clientIpIsTheExchangesClientAddress() {
        HashKey ip = HashKey.parse("client-ip");
        assertThat(HashKeys.of(ip, request("/", "X-Forwarded-For", "1.2.3.4"), "10.0.0.1"))
                .as("the address PIBL appends to X-Forwarded-For, not what the client claims")
                .isEqualTo(HashKeys.hash("10.0.0.1"));
        assertThat(HashKeys.of(ip, request("/"), "-")).as("unknown").isEqualTo(HashKeys.NONE);
    }

    @Test
    void theHashSpreadsNeighbouringKeysOverTheWholeWord() {
        Set<Long> topBytes = new HashSet<>();
        int collisions = 0;
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            long h = HashKeys.hash("127.0.0.1:9001#" + i);
            assertThat(h).isNotEqualTo(HashKeys.NONE);
            topBytes.add(h >>> 56);
            collisions += seen.add(h) ? 0 : 1;
        }
        assertThat(topBytes).as("keys differing in their last digits land all around the ring").hasSize(256);
        assertThat(collisions).isZero();
        assertThat(HashKeys.hash("é")).isNotEqualTo(HashKeys.hash("\u00e9\u0000"));
    }
}
