package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.cache.RangeRequest;
import pibl.testing.NoLeaks;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link PartialStream}: a client's range cut from a whole body that arrives in parts. */
@ExtendWith(NoLeaks.class)
class PartialStreamTest {
    private static HttpResponse head(int status, String... lines) {
        HttpResponse h = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        for (String line : lines) {
            int colon = line.indexOf(':');
            h.headers().add(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
        }
        return h;
    }

    private static PartialStream stream(String range, HttpResponse head) {
        RangeRequest r = RangeRequest.of(HttpMethod.GET, head(200, "Range: " + range).headers());
        return PartialStream.of(r, head);
    }

    /** Feeds "0123456789abcdefghij" in parts of the given lengths; returns what the client gets, and "|" at its end. */
    private static String cut(PartialStream s, int... parts) {
        String body = "0123456789abcdefghij";
        StringBuilder out = new StringBuilder();
        List<HttpContent> written = new ArrayList<>();
        int at = 0;
        for (int i = 0; i < parts.length; i++) {
            var bytes = Unpooled.copiedBuffer(body.substring(at, at + parts[i]), StandardCharsets.US_ASCII);
            at += parts[i];
            HttpContent c = s.cut(i == parts.length - 1 ? new DefaultLastHttpContent(bytes) : new DefaultHttpContent(bytes));
            if (c != null) {
                written.add(c);
            }
        }
        for (HttpContent c : written) {
            out.append(c.content().toString(StandardCharsets.US_ASCII));
            if (c instanceof LastHttpContent) {
                out.append('|');
            }
            c.release();
        }
        return out.toString();
    }

    @Test
    void theRangeIsCutAcrossPartsAndTheResponseEndsWithTheBackendsLastPart() {
        HttpResponse whole = head(200, "Content-Length: 20", "ETag: \"v1\"");
        assertThat(cut(stream("bytes=5-12", whole), 4, 4, 4, 4, 4)).as("straddling three parts").isEqualTo("56789abc|");
        assertThat(cut(stream("bytes=0-0", whole), 10, 10)).as("the end is the empty last part").isEqualTo("0|");
        assertThat(cut(stream("bytes=-3", whole), 20)).as("inside one last part").isEqualTo("hij|");
        assertThat(cut(stream("bytes=10-", whole), 10, 5, 5)).as("starting on a part's edge").isEqualTo("abcdefghij|");
        assertThat(cut(stream("bytes=20-", whole), 10, 10)).as("416: nothing of the body").isEqualTo("|");
    }

    @Test
    void theClientsHeadIsA206OrA416InPlaceOfTheBackends200() {
        HttpResponse whole = head(200, "Content-Length: 20", "ETag: \"v1\"", "Cache-Control: max-age=60");
        HttpResponse part = stream("bytes=5-12", whole).head(whole);
        assertThat(part.status().code()).isEqualTo(206);
        assertThat(part.headers().get(HttpHeaderNames.CONTENT_RANGE)).isEqualTo("bytes 5-12/20");
        assertThat(part.headers().get(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo("8");
        assertThat(part.headers().get(HttpHeaderNames.CACHE_CONTROL)).isEqualTo("max-age=60");
        assertThat(whole.headers().get(HttpHeaderNames.CONTENT_LENGTH)).as("the backend's head, which the fill saw,"
                + " is left alone").isEqualTo("20");
        HttpResponse none = stream("bytes=20-", whole).head(whole);
        assertThat(none.status().code()).isEqualTo(416);
        assertThat(none.headers().get(HttpHeaderNames.CONTENT_RANGE)).isEqualTo("bytes */20");
    }

    @Test
    void nothingIsCutWithoutALengthOrFromAnythingButA200() {
        assertThat(stream("bytes=0-1", head(200, "Transfer-Encoding: chunked"))).isNull();
        assertThat(stream("bytes=0-1", head(404, "Content-Length: 20"))).isNull();
        assertThat(stream("bytes=0-1,5-6", head(200, "Content-Length: 20"))).as("several ranges: whole").isNull();
    }
}
