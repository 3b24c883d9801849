package pibl.handler;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.http.StrictHttpServerCodec;
import pibl.testing.NoLeaks;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The decision at each request head, hold or stream, with the codec in front as in the real pipeline: a retry buffer
 * of 100 bytes and a hard limit of 1000.
 */
@ExtendWith(NoLeaks.class)
class RequestAggregatorTest {
    private static final int RETRY_BUFFER = 100;
    private static final long MAX_BODY = 1000;

    private final EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpServerCodec(4096, 8192),
            new RequestAggregator(MAX_BODY, RETRY_BUFFER));
    private final List<Object> received = new ArrayList<>();

    @AfterEach
    void finish() {
        received.forEach(ReferenceCountUtil::release);
        Messages.release(Messages.outbound(channel));
        Messages.releaseInbound(channel);
        assertThat(channel.finish()).isFalse();
    }

    private List<Object> send(String raw) {
        channel.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
        Object o;
        List<Object> now = new ArrayList<>();
        while ((o = channel.readInbound()) != null) {
            now.add(o);
        }
        received.addAll(now);
        return now;
    }

    private String written() {
        StringBuilder b = new StringBuilder();
        for (Object o : Messages.outbound(channel)) {
            b.append(((ByteBuf) o).toString(StandardCharsets.ISO_8859_1));
            ReferenceCountUtil.release(o);
        }
        return b.toString();
    }

    private static long bodyBytes(List<Object> messages) {
        return messages.stream().filter(m -> m instanceof HttpContent && !(m instanceof HttpRequest))
                .mapToLong(m -> ((HttpContent) m).content().readableBytes()).sum();
    }

    @Test
    void aBodylessRequestIsWholeAtOnce() {
        List<Object> out = send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n");

        assertThat(out).singleElement().isInstanceOf(FullHttpRequest.class);
    }

    @Test
    void aBodyUpToTheRetryBufferIsHeldWholeSoTheRequestCanBeResent() {
        List<Object> out = send("PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" + "x".repeat(100));

        assertThat(out).singleElement().isInstanceOf(FullHttpRequest.class);
        assertThat(((FullHttpRequest) out.get(0)).content().readableBytes()).isEqualTo(100);
    }

    @Test
    void aBodyPastTheRetryBufferStreamsAsAHeadAndItsParts() {
        List<Object> out = send("PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n" + "x".repeat(60));

        assertThat(out.get(0)).as("the head goes on before the body is all here")
                .isInstanceOf(HttpRequest.class).isNotInstanceOf(FullHttpRequest.class);
        assertThat(bodyBytes(out)).isEqualTo(60);
        assertThat(out.get(out.size() - 1)).isNotInstanceOf(LastHttpContent.class);

        List<Object> rest = send("x".repeat(41));
        assertThat(bodyBytes(rest)).isEqualTo(41);
        assertThat(rest.get(rest.size() - 1)).isInstanceOf(LastHttpContent.class);
        assertThat(written()).as("no 100 Continue unless asked").isEmpty();
    }

    @Test
    void aChunkedBodyStreamsAtOnceHoweverSmall() {
        List<Object> out = send("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n0\r\n\r\n");

        assertThat(out.get(0)).as("its length is unknown at the head: streamed, not gathered up to the retry buffer")
                .isNotInstanceOf(FullHttpRequest.class);
        assertThat(bodyBytes(out)).isEqualTo(5);
        assertThat(out.get(out.size() - 1)).isInstanceOf(LastHttpContent.class);
    }

    @Test
    void aContentLengthOverTheLimitIsRefusedAtTheHeadWithoutA100Continue() {
        List<Object> out = send("PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n");

        assertThat(out).singleElement().satisfies(head -> {
            assertThat(((HttpRequest) head).decoderResult().cause())
                    .as("refused before a byte of the body: the client that expects 100 gets 413 instead")
                    .isInstanceOf(RequestAggregator.BodyTooLargeException.class);
        });
        assertThat(written()).isEmpty();

        List<Object> body = send("x".repeat(1001));
        assertThat(body).as("a body sent anyway passes on, to be dropped where the refusal was answered")
                .allMatch(m -> m instanceof HttpContent && ((HttpContent) m).decoderResult().isSuccess());
        assertThat(body.get(body.size() - 1)).isInstanceOf(LastHttpContent.class);
    }

    @Test
    void aStreamedBodyThatExpects100IsAnswered100AtOnce() {
        List<Object> out = send("PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 500\r\nExpect: 100-continue\r\n\r\n");

        assertThat(out).singleElement().isNotInstanceOf(FullHttpRequest.class);
        assertThat(written()).as("PIBL accepted the body: the client may send it")
                .startsWith("HTTP/1.1 100 Continue\r\n");
    }

    @Test
    void aChunkedBodyGrowingPastTheLimitEndsInAFailedPartAndNothingBeyondTheLimitPasses() {
        String chunk = "190\r\n" + "y".repeat(400) + "\r\n";
        List<Object> out = send("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + chunk + chunk + chunk);

        List<Object> parts = out.subList(1, out.size());
        HttpContent failed = parts.stream().map(HttpContent.class::cast).filter(p -> p.decoderResult().isFailure())
                .findFirst().orElseThrow(() -> new AssertionError("no failed part in " + parts));
        assertThat(failed.decoderResult().cause()).isInstanceOf(RequestAggregator.BodyTooLargeException.class);
        assertThat(bodyBytes(parts.subList(0, parts.indexOf(failed))))
                .as("what goes on before the failure is within the limit").isLessThanOrEqualTo(MAX_BODY);

        List<Object> end = send("0\r\n\r\n");
        assertThat(end.get(end.size() - 1)).as("the body's real end still passes, so the segments see it")
                .isInstanceOf(LastHttpContent.class);
    }

    @Test
    void theNextRequestOnTheConnectionIsDecidedAfresh() {
        send("PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 200\r\n\r\n" + "x".repeat(200));

        List<Object> out = send("PUT /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
        assertThat(out).singleElement().isInstanceOf(FullHttpRequest.class);
    }
}
