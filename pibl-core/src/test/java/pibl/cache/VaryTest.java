package pibl.cache;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.TestHeaders.h;

class VaryTest {

    @Test
    void namesAreFoldedAndDeduplicatedAcrossLines() {
        assertThat(Vary.names(h("Vary: Accept-Encoding, ACCEPT", "Vary: accept-encoding,  Cookie")))
                .containsExactly("accept-encoding", "accept", "cookie");
        assertThat(Vary.names(h())).isEmpty();
        assertThat(Vary.isWildcard(h("Vary: *"))).isTrue();
    }

    @Test
    void valuesMatchAfterNormalizingListWhitespace() {
        List<String> names = List.of("accept-encoding", "accept-language");
        Map<String, String> stored = Vary.values(names, h("Accept-Encoding: gzip, br"));
        assertThat(stored).containsEntry("accept-encoding", "gzip,br").containsEntry("accept-language", null);

        assertThat(Vary.matches(stored, h("accept-encoding: gzip,br"))).isTrue();
        assertThat(Vary.matches(stored, h("Accept-Encoding: gzip", "Accept-Encoding: br")))
                .as("two lines are one list").isTrue();
        assertThat(Vary.matches(stored, h("Accept-Encoding: br, gzip"))).as("order is significant").isFalse();
        assertThat(Vary.matches(stored, h())).as("absent matches only absent").isFalse();
        assertThat(Vary.matches(stored, h("Accept-Encoding: gzip, br", "Accept-Language: de"))).isFalse();
        assertThat(Vary.matches(Vary.values(names, h("Accept-Encoding: ")), h())).as("empty is not absent").isFalse();
    }
}
