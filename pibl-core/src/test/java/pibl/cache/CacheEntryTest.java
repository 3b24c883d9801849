package pibl.cache;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The stored fields of an entry, as HTTP/1.1 hits read them and as HTTP/2 hits do. */
class CacheEntryTest {

    private static CacheEntry entry(HttpHeaders headers) {
        CacheKey key = CacheKey.of("http", "example.com", "/a");
        return new CacheEntry(key.text(), key.digest(), 1, 200, "OK", headers, Map.of(), 0, 0, 0, 0, null, 0,
                Unpooled.EMPTY_BUFFER, null, Long.MAX_VALUE, 0);
    }

    private static List<CharSequence> pairs(HttpHeaders h) {
        List<CharSequence> out = new ArrayList<>();
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            out.add(e.getKey());
            out.add(e.getValue());
        }
        return out;
    }

    @Test
    void http2HitsReadTheStoredFieldsUnderLowerCaseNamesInTheirOrderWithTheSameValues() {
        HttpHeaders origin = new DefaultHttpHeaders()
                .add("Content-Type", "text/plain")
                .add("X-Custom-Thing", "A B")
                .add("Set-Cookie", "a=1")
                .add("set-cookie", "b=2")
                .add("ETag", "\"v1\"");
        CacheEntry e = entry(origin);

        List<CharSequence> asStored = pairs(e.headers());
        List<CharSequence> lower = pairs(e.lowerCaseHeaders());

        assertThat(asStored.stream().map(CharSequence::toString)).containsExactly(
                "Content-Type", "text/plain", "X-Custom-Thing", "A B", "Set-Cookie", "a=1", "set-cookie", "b=2",
                "ETag", "\"v1\""); // HTTP/1.1 hits keep the origin's spelling
        assertThat(lower.stream().map(CharSequence::toString)).containsExactly(
                "content-type", "text/plain", "x-custom-thing", "A B", "set-cookie", "a=1", "set-cookie", "b=2",
                "etag", "\"v1\"");
        for (int i = 1; i < lower.size(); i += 2) {
            assertThat(lower.get(i)).isSameAs(asStored.get(i)); // values shared, not copied
        }
        // common names are the shared constants, not one copy per entry
        assertThat(lower.get(0)).isSameAs(HttpHeaderNames.CONTENT_TYPE);
        assertThat(lower.get(4)).isSameAs(HttpHeaderNames.SET_COOKIE);
        assertThat(lower.get(2)).isInstanceOf(AsciiString.class);
        // made once, then the same for every later hit
        assertThat(e.lowerCaseHeaders()).isSameAs(e.lowerCaseHeaders());
        assertThat(e.lowerCaseHeaders().getAll("SET-COOKIE")).extracting(CharSequence::toString)
                .containsExactly("a=1", "b=2");
    }
}
