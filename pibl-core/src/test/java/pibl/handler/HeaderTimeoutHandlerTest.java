package pibl.handler;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.config.LogConfig;
import pibl.runtime.ProxyStats;
import pibl.testing.NoLeaks;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.netty.handler.codec.http.HttpResponseStatus.OK;
import static org.assertj.core.api.Assertions.assertThat;
import static pibl.handler.Messages.drainHeads;
import static pibl.handler.Messages.head;
import static pibl.handler.Messages.last;
import static pibl.handler.Messages.ok;
import static pibl.handler.Messages.onlyHead;
import static pibl.handler.Messages.outbound;
import static pibl.handler.Messages.release;

/**
 * Slowloris defence: a request head must be complete within the timeout of its first bytes (of the connection's
 * start for the first head), or the handler passes on one stand-in request carrying a {@link
 * HeaderTimeoutHandler.HeadTimeoutException}. It sits right after the codec, so in the unit tests the inbound
 * messages are what the codec emits (a head, then its last content) and each socket read ends with a {@code
 * channelReadComplete}; the end-to-end tests compose the segments after it.
 *
 * <p>The mock ticker starts at 1 s: the handler uses a start time of 0 to mean "no head started".
 */
@ExtendWith(NoLeaks.class)
class HeaderTimeoutHandlerTest {
    private static final long TIMEOUT_SECONDS = 10;
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);

    private final MockTicker ticker = Ticker.newMockTicker();
    private final ProxyStats stats = new ProxyStats();
    private final Responder app = new Responder();
    private EmbeddedChannel channel;

    @BeforeEach
    void startClock() {
        ticker.advance(1, TimeUnit.SECONDS);
    }

    private void connect() {
        channel = Messages.channel(ticker, new HeaderTimeoutHandler(TIMEOUT_NANOS));
    }

    /** The head the codec decodes for a request without body (it then emits the empty last content). */
    private static HttpRequest requestHead(String uri) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        r.headers().set(HttpHeaderNames.HOST, "shop.example");
        return r;
    }

    /** Bytes arrived that did not complete a head (a socket read that decoded nothing). */
    private void bytesArrive() {
        channel.pipeline().fireChannelReadComplete();
    }

    private void advance(long millis) {
        ticker.advance(millis, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
    }

    private List<Object> inbound() {
        List<Object> in = new ArrayList<>();
        Object o;
        while ((o = channel.readInbound()) != null) {
            in.add(o);
        }
        return in;
    }

    /** What a timed-out head leaves: exactly one stand-in passed on, and nothing else on the channel. */
    private void assertOneStandInAndFinish() {
        List<Object> in = inbound();
        assertThat(in).hasSize(1).allMatch(HeaderTimeoutHandlerTest::isStandIn);
        release(in);
        assertThat(channel.finish()).isFalse();
    }

    private static boolean isStandIn(Object msg) {
        return msg instanceof FullHttpRequest r && r.decoderResult().isFailure()
                && r.decoderResult().cause() instanceof HeaderTimeoutHandler.HeadTimeoutException;
    }

    @Test
    void aHeadCompleteInTimePassesAndNoStandInFollows() {
        connect();
        advance(4_000);
        bytesArrive(); // "GET /a HTTP/1.1\r\nHo"
        advance(5_999);
        HttpRequest head = requestHead("/a");
        channel.writeInbound(head, LastHttpContent.EMPTY_LAST_CONTENT);

        advance(60_000);
        List<Object> in = inbound();
        assertThat(in).as("the head and its end pass untouched, and nothing else").containsExactly(head,
                LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aHeadNotCompleteInTimeGetsExactlyOneStandIn() {
        connect();
        advance(2_000);
        bytesArrive();
        advance(7_999);
        assertThat(inbound()).as("1 ms before the timeout").isEmpty();

        advance(1);
        List<Object> in = inbound();
        assertThat(in).as("the first head's clock starts with the connection, not with its first bytes")
                .hasSize(1);
        FullHttpRequest standIn = (FullHttpRequest) in.get(0);
        assertThat(standIn.decoderResult().cause()).isInstanceOf(HeaderTimeoutHandler.HeadTimeoutException.class)
                .hasMessage("request head not complete within 10000 ms");
        assertThat(standIn).as("marked as PIBL's own, so the access log prints no request line")
                .isInstanceOf(HeaderTimeoutHandler.SyntheticRequest.class);
        release(in);

        for (int i = 0; i < 3; i++) { // the client keeps trickling
            bytesArrive();
            advance(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        }
        assertThat(inbound()).as("one stand-in per connection: it is closed after the answer").isEmpty();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aSilentNewConnectionGetsTheStandInToo() {
        connect();
        advance(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));

        assertOneStandInAndFinish();
    }

    @Test
    void theNextHeadsClockStartsWithItsFirstBytesAfterTheResponsesLastPart() {
        connect();
        advance(1_000);
        channel.writeInbound(requestHead("/a"), LastHttpContent.EMPTY_LAST_CONTENT);
        release(inbound());
        advance(1_000);
        channel.writeOutbound(ok("a"));
        release(outbound(channel));

        advance(60_000);
        assertThat(inbound()).as("an idle keep-alive connection awaits no head: idleness is pipelining's")
                .isEmpty();

        bytesArrive(); // the next head's first bytes
        advance(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS) - 1);
        assertThat(inbound()).as("1 ms before the timeout, counted from the first bytes").isEmpty();
        advance(1);
        assertOneStandInAndFinish();
    }

    @Test
    void aBusyKeepAliveConnectionIsNotTimedOutWhileItAwaitsNoHead() {
        connect();
        channel.writeInbound(requestHead("/slow"), LastHttpContent.EMPTY_LAST_CONTENT);
        release(inbound());
        channel.writeOutbound(head(OK, "Content-Length: 3")); // the response has begun, not ended

        for (int i = 0; i < 6; i++) { // a minute of reads: the request is answered, no head is awaited
            bytesArrive();
            advance(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        }
        assertThat(inbound()).as("only a response's last part makes the connection await a head").isEmpty();

        channel.writeOutbound(last("abc"));
        release(outbound(channel));
        bytesArrive();
        advance(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        assertOneStandInAndFinish();
    }

    @Test
    void aClosedConnectionGetsNoStandIn() {
        connect();
        bytesArrive();
        channel.close();
        advance(60_000);

        assertThat(inbound()).isEmpty();
        assertThat(channel.finish()).isFalse();
    }

    // ---- composed with the segments after it ----

    private void connectPipeline() {
        channel = Messages.channel(ticker, new HeaderTimeoutHandler(TIMEOUT_NANOS),
                new RequestAggregator(1 << 20, 1 << 20),
                new PipeliningHandler(TimeUnit.SECONDS.toNanos(75)),
                new AccessLogHandler(LogConfig.Format.DEFAULT, stats), RequestGuardHandler.INSTANCE, app);
    }

    @Test
    void aTimedOutHeadIsAnswered408WithCloseAndLoggedOnceWithoutRequestLine() {
        try (AccessLines log = new AccessLines()) {
            connectPipeline();
            advance(3_000);
            bytesArrive(); // "GET / HT", then nothing
            advance(6_999);
            assertThat(channel.outboundMessages()).isEmpty();
            advance(1);

            HttpResponse h = onlyHead(channel);
            assertThat(h.status().code()).isEqualTo(408);
            assertThat(h.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
            assertThat(channel.isOpen()).isFalse();
            assertThat(app.received).as("the guard answers the stand-in; nothing is forwarded").isEmpty();
            assertThat(log.only()).as("the request line never arrived: the log prints -")
                    .matches("\\S+Z 127\\.0\\.0\\.1 \"-\" 408 20 - - 0\\.0ms \"-\" [0-9a-f]{32} - route=- pool=-");
            assertThat(stats.responses(4)).isEqualTo(1);

            advance(60_000);
            assertThat(log.lines()).hasSize(1);
            assertThat(channel.finish()).isFalse();
        }
    }

    @Test
    void aPipelinedConnectionServesItsRequestsWithoutA408() {
        connectPipeline();
        channel.writeInbound(requestHead("/a"), LastHttpContent.EMPTY_LAST_CONTENT, requestHead("/b"),
                LastHttpContent.EMPTY_LAST_CONTENT);
        advance(30_000); // /a's backend is slow
        app.respond(ok("a"));
        channel.runPendingTasks();
        advance(30_000); // so is /b's
        app.respond(ok("b"));
        advance(60_000); // then the client goes quiet

        assertThat(app.uris()).containsExactly("/a", "/b");
        assertThat(drainHeads(channel)).extracting(r -> r.status().code())
                .as("heads that arrived complete are never timed out").containsExactly(200, 200);
        assertThat(channel.isOpen()).isTrue();
        app.release();
        Messages.releaseInbound(channel); // the codec's empty last contents: the aggregator lets them by
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void anExpect100ContinueRequestWithASlowBackendGetsNo408() {
        connectPipeline();
        HttpRequest upload = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/upload");
        upload.headers().set(HttpHeaderNames.HOST, "shop.example").set(HttpHeaderNames.CONTENT_LENGTH, 5)
                .set(HttpHeaderNames.EXPECT, "100-continue");
        channel.writeInbound(upload);
        List<HttpResponse> interim = drainHeads(channel);
        assertThat(interim).extracting(r -> r.status().code()).containsExactly(100);

        advance(500);
        channel.writeInbound(last("hello")); // the body, once the client read the 100
        assertThat(app.uris()).containsExactly("/upload");
        advance(30_000); // the backend takes 30 s (timeouts.backend-response is 60 s)
        app.respond(ok("stored"));
        channel.runPendingTasks();

        List<HttpResponse> heads = drainHeads(channel);
        app.release();
        assertThat(heads).extracting(r -> r.status().code()).as("one request, one response").containsExactly(200);
        assertThat(channel.isOpen()).isTrue();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void anExpect100ContinueUploadSlowerThanTheHeaderTimeoutIsNotCutOff() {
        connectPipeline();
        HttpRequest upload = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/upload");
        upload.headers().set(HttpHeaderNames.HOST, "shop.example").set(HttpHeaderNames.CONTENT_LENGTH, 30)
                .set(HttpHeaderNames.EXPECT, "100-continue");
        channel.writeInbound(upload);
        assertThat(drainHeads(channel)).extracting(r -> r.status().code()).containsExactly(100);

        List<Integer> answered = new ArrayList<>();
        for (int second = 1; second <= 30 && channel.isOpen(); second++) { // a byte a second
            ticker.advance(1, TimeUnit.SECONDS);
            try {
                channel.runScheduledPendingTasks();
            } catch (PrematureChannelClosureException e) {
                // the aggregator's complaint when the connection closes mid-body
            }
            drainHeads(channel).forEach(h -> answered.add(h.status().code()));
            if (channel.isOpen()) {
                channel.writeInbound(second < 30 ? Messages.part("x") : last("x"));
            }
        }
        assertThat(answered).as("the head was complete at once: the upload is not timed out").isEmpty();
        assertThat(app.uris()).containsExactly("/upload");
        app.respond(ok("stored"));
        assertThat(drainHeads(channel)).extracting(r -> r.status().code()).containsExactly(200);
        app.release();
        Messages.releaseInbound(channel);
        assertThat(channel.finish()).isFalse();
    }
}
