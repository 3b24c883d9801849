package pibl.handler;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

class HitHeadersTest {
    private static final String[] NAMES = {"Cache-Control", "ETag", "Via", "Age", "X-Cache", "Vary", "Accept-Ranges",
            "Content-Length", "Connection", "Surrogate-Key"};

    /** Stored heads are read-only, as the cache keeps them; its iterator hands out one reused entry. */
    private static HttpHeaders stored() {
        return new ReadOnlyHttpHeaders(false,
                AsciiString.cached("Cache-Control"), AsciiString.cached("max-age=60"),
                AsciiString.cached("ETag"), AsciiString.cached("\"a\""),
                AsciiString.cached("Via"), AsciiString.cached("1.1 b1"),
                AsciiString.cached("vary"), AsciiString.cached("Accept-Encoding"),
                AsciiString.cached("Vary"), AsciiString.cached("Cookie"),
                AsciiString.cached("Surrogate-Key"), AsciiString.cached("k1 k2"));
    }

    @Test
    void aHitSeesTheStoredFieldsUnderItsOwnAndLeavesTheStoredOnesAlone() {
        HttpHeaders stored = stored();
        HitHeaders h = new HitHeaders(stored);
        h.set("Age", 3L);
        h.add("via", "1.1 pibl");
        h.remove(HttpHeaderNames.ETAG);
        h.remove("Surrogate-Key");

        assertThat(h.get("Age")).isEqualTo("3");
        assertThat(h.getAll(HttpHeaderNames.VIA)).containsExactly("1.1 b1", "1.1 pibl");
        assertThat(h.contains(HttpHeaderNames.ETAG)).isFalse();
        assertThat(h.getAll(HttpHeaderNames.VARY)).containsExactly("Accept-Encoding", "Cookie");
        assertThat(fields(h)).containsExactly("Cache-Control: max-age=60", "vary: Accept-Encoding", "Vary: Cookie",
                "Age: 3", "Via: 1.1 b1", "via: 1.1 pibl");
        assertThat(h.size()).isEqualTo(6);
        assertThat(fields(stored)).containsExactly("Cache-Control: max-age=60", "ETag: \"a\"", "Via: 1.1 b1",
                "vary: Accept-Encoding", "Vary: Cookie", "Surrogate-Key: k1 k2");
    }

    @Test
    void theHttpHelpersReadAndWriteThroughIt() {
        DefaultHttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                new HitHeaders(stored()));
        assertThat(HttpUtil.isContentLengthSet(r)).isFalse();
        HttpUtil.setContentLength(r, 1024);
        assertThat(HttpUtil.getContentLength(r)).isEqualTo(1024);
        r.headers().set(HttpHeaderNames.CONNECTION, "keep-alive, Upgrade");
        assertThat(r.headers().containsValue(HttpHeaderNames.CONNECTION, "upgrade", true)).isTrue();
        assertThat(r.headers().containsValue(HttpHeaderNames.CACHE_CONTROL, "max-age=60", false)).isTrue();
        assertThat(r.headers().copy().getAll("vary")).containsExactly("Accept-Encoding", "Cookie");
    }

    /** Random edits applied to a copy of the stored fields and to the view: every name reads the same in both. */
    @Test
    void anySequenceOfEditsReadsAsTheSameEditsOnACopy() {
        for (int seed = 0; seed < 500; seed++) {
            Random random = new Random(seed);
            HttpHeaders stored = stored();
            List<String> before = fields(stored);
            HttpHeaders copy = new DefaultHttpHeaders().set(stored);
            HttpHeaders view = new HitHeaders(stored);
            List<String> done = new ArrayList<>();
            for (int step = 0; step < 12; step++) {
                String name = NAMES[random.nextInt(NAMES.length)];
                name = random.nextBoolean() ? name : name.toLowerCase();
                String value = "v" + random.nextInt(5);
                switch (random.nextInt(10)) {
                    case 0, 1, 2 -> { copy.add(name, value); view.add(name, value); done.add("add " + name); }
                    case 3, 4, 5 -> { copy.set(name, value); view.set(name, value); done.add("set " + name); }
                    case 6, 7 -> { copy.remove(name); view.remove(name); done.add("remove " + name); }
                    case 8 -> {
                        copy.set(name, List.of(value, "w")); view.set(name, List.of(value, "w"));
                        done.add("set-all " + name);
                    }
                    default -> {
                        if (random.nextInt(8) == 0) {
                            copy.clear(); view.clear(); done.add("clear");
                        } else {
                            copy.addInt(name, step); view.addInt(name, step); done.add("add-int " + name);
                        }
                    }
                }
                String why = "seed " + seed + " after " + done;
                for (String n : NAMES) {
                    assertThat(view.getAll(n)).as(why + ": " + n).isEqualTo(copy.getAll(n));
                    assertThat(view.get(n)).as(why + ": " + n).isEqualTo(copy.get(n));
                    assertThat(view.contains(n)).as(why + ": " + n).isEqualTo(copy.contains(n));
                    assertThat(valuesInIterationOrder(view, n)).as(why + ": " + n).isEqualTo(copy.getAll(n));
                }
                assertThat(view.size()).as(why).isEqualTo(copy.size());
                assertThat(view.isEmpty()).as(why).isEqualTo(copy.isEmpty());
                assertThat(lower(view.names())).as(why).isEqualTo(lower(copy.names()));
            }
            assertThat(fields(stored)).as("seed " + seed + ": the stored fields").isEqualTo(before);
        }
    }

    private static Set<String> lower(Set<String> names) {
        Set<String> out = new TreeSet<>();
        names.forEach(n -> out.add(n.toLowerCase()));
        return out;
    }

    private static List<String> valuesInIterationOrder(HttpHeaders h, String name) {
        List<String> values = new ArrayList<>();
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> f = it.next();
            if (AsciiString.contentEqualsIgnoreCase(f.getKey(), name)) {
                values.add(f.getValue().toString());
            }
        }
        return values;
    }

    private static List<String> fields(HttpHeaders h) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> f : h) {
            out.add(f.getKey() + ": " + f.getValue());
        }
        return out;
    }
}
