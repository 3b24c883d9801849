package pibl.cache;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.TestHeaders.h;

class InvalidationTest {
    private static final CacheKey CART = CacheKey.of("http", "shop.example", "/cart/items?x=1");

    static Stream<Arguments> keys() {
        return Stream.of(
                row("POST 201 with Location", HttpMethod.POST, 201, h("Location: /cart/items/17"),
                        "http://shop.example/cart/items?x=1", "http://shop.example/cart/items/17"),
                row("relative Location resolves against the target", HttpMethod.PUT, 200, h("Location: 17?y"),
                        "http://shop.example/cart/items?x=1", "http://shop.example/cart/17?y"),
                row("absolute same-origin Content-Location", HttpMethod.DELETE, 204,
                        h("Content-Location: http://SHOP.example:80/cart"),
                        "http://shop.example/cart/items?x=1", "http://shop.example/cart"),
                row("other origin is left alone", HttpMethod.POST, 303,
                        h("Location: https://elsewhere.example/x", "Content-Location: //evil.example/cart"),
                        "http://shop.example/cart/items?x=1"),
                row("fragment dropped, duplicates once", HttpMethod.PATCH, 200,
                        h("Location: /cart/items?x=1#top", "Content-Location: /cart/items?x=1"),
                        "http://shop.example/cart/items?x=1"),
                row("unknown methods are unsafe", HttpMethod.valueOf("PURGE"), 200, h(),
                        "http://shop.example/cart/items?x=1"),
                row("error status does not invalidate", HttpMethod.POST, 500, h("Location: /a")),
                row("4xx does not invalidate", HttpMethod.DELETE, 404, h()),
                row("GET is safe", HttpMethod.GET, 200, h("Content-Location: /a")),
                row("OPTIONS is safe", HttpMethod.OPTIONS, 200, h()));
    }

    private static Arguments row(String why, HttpMethod method, int status, HttpHeaders resp, String... expected) {
        return Arguments.of(Named.of(why, method), status, resp, List.of(expected));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource
    void keys(HttpMethod method, int status, HttpHeaders resp, List<String> expected) {
        assertThat(Invalidation.invalidationKeys(method, status, CART, resp)).map(CacheKey::text)
                .containsExactlyElementsOf(expected);
    }
}
