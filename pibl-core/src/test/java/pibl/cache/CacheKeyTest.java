package pibl.cache;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CacheKeyTest {

    @ParameterizedTest(name = "[{index}] {0} {1} {2} -> {3}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            http  | Example.COM      | /a?b=C           | http://example.com/a?b=C
            HTTP  | example.com:80   | /                | http://example.com/
            http  | example.com:8080 | /                | http://example.com:8080/
            https | example.com:443  | /x               | https://example.com/x
            http  | example.com:443  | /x               | http://example.com:443/x
            http  | NULL             | /x               | http:///x
            http  | ignored          | http://Other:80/p?q | http://other/p?q
            http  | ignored          | HTTPS://other    | https://other/
            http  | ignored          | http://other?q=1 | http://other/?q=1
            """)
    void normalizesSchemeAndHostButNotTheTarget(String scheme, String host, String target, String text) {
        assertThat(CacheKey.of(scheme, host, target).text()).isEqualTo(text);
    }

    @Test
    void theDigestIsNinetySixBitsOfTheSha256OfTheText() {
        CacheKey key = CacheKey.of("http", "example.com", "/");
        assertThat(key.digest()).isSameAs(key.digest());
        assertThat(key.digest().hex()).hasSize(24).matches("[0-9a-f]{24}")
                .isEqualTo(java.util.HexFormat.of().formatHex(Digest.sha256("http://example.com/")).substring(0, 24));
        assertThat(Digest.parse(key.digest().hex())).isEqualTo(key.digest());
        assertThat(key).isEqualTo(CacheKey.of("http", "EXAMPLE.com:80", "/")).hasSameHashCodeAs(
                CacheKey.of("http", "EXAMPLE.com:80", "/"));
    }

    @Test
    void aStoredKeyParsesBackToItselfAHotCopysToo() {
        CacheKey key = CacheKey.of("https", "Shop.Example:443", "/a?b=1");
        assertThat(CacheKey.parse(key.text()).text()).isEqualTo("https://shop.example/a?b=1");
        CacheKey copy = HotCopies.copyOf(key);
        assertThat(copy.text()).isEqualTo("hot-https://shop.example/a?b=1");
        CacheKey back = CacheKey.parse(copy.text());
        assertThat(back.scheme()).isEqualTo("hot-https");
        assertThat(back.host()).isEqualTo("shop.example");
        assertThat(back.target()).isEqualTo("/a?b=1");
        assertThat(HotCopies.isCopy(back)).isTrue();
        assertThat(back.digest()).isEqualTo(copy.digest());
    }
}
