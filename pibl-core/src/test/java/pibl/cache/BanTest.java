package pibl.cache;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static pibl.cache.TestHeaders.h;

class BanTest {
    @Test
    void tagsComeFromBothFieldsEachWithItsSeparator() {
        assertThat(Ban.tagsOf(h("Surrogate-Key:  a\tb  c ", "cache-tag: d, e,,f", "Surrogate-Key: a g")))
                .containsExactly("a", "b", "c", "d", "e", "f", "g");
        assertThat(Ban.tagsOf(h("Cache-Control: max-age=1"))).isEmpty();
        assertThat(Ban.tagsOf(h("Cache-Tag: a b"))).as("a Cache-Tag may hold a space").containsExactly("a b");
    }

    @Test
    void aPrefixIsTheNormalisedHostAndTargetWithoutScheme() {
        Ban b = Ban.prefix("Shop.Example:80", "/a/");
        assertThat(b.prefix()).isEqualTo("shop.example/a/");
        assertThat(b.matches("https://shop.example/a/x", List.of())).isTrue();
        assertThat(b.matches("http://shop.example/b/a/x", List.of())).isFalse();
        assertThat(Ban.prefix("shop.example", "").prefix()).as("PURGE * : the whole host").isEqualTo("shop.example/");
    }

    @Test
    void aBanIsAPrefixOrTagsNeverBothNorNeither() {
        assertThatThrownBy(() -> new Ban(null, Set.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Ban("h/", Set.of("t"))).isInstanceOf(IllegalArgumentException.class);
        assertThat(Ban.tags(Set.of("t")).matches("http://h/", h("Surrogate-Key: u t"))).isTrue();
    }
}
