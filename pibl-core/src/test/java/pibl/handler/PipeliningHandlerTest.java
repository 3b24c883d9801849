package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import pibl.cache.CachePhase;
import pibl.config.LogConfig;
import pibl.runtime.ProxyStats;
import pibl.testing.NoLeaks;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.netty.handler.codec.http.HttpResponseStatus.NOT_FOUND;
import static io.netty.handler.codec.http.HttpResponseStatus.NOT_MODIFIED;
import static io.netty.handler.codec.http.HttpResponseStatus.NO_CONTENT;
import static io.netty.handler.codec.http.HttpResponseStatus.OK;
import static io.netty.handler.codec.http.HttpVersion.HTTP_1_0;
import static io.netty.handler.codec.http.HttpVersion.HTTP_1_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;
import static pibl.handler.Messages.buffer;
import static pibl.handler.Messages.get;
import static pibl.handler.Messages.head;
import static pibl.handler.Messages.last;
import static pibl.handler.Messages.ok;
import static pibl.handler.Messages.part;
import static pibl.handler.Messages.post;
import static pibl.handler.Messages.release;
import static pibl.handler.Messages.request;

/**
 * The HTTP/1.1 client connection: one exchange at a time in arrival order, every response head finished by
 * {@link ResponseHeads#http1}, and the connection closed when a response says so, when idle, or on drain.
 *
 * <p>The channel is the real segment order {@code [wire] → pipelining → access-log → [app]}: the access log opens
 * the {@link Exchange} of each dispatched request, {@link Responder} answers as the cache or the forwarder would,
 * and the {@link Wire} keeps what reaches the socket, so pending tasks run only when the test runs them. Time is a
 * mock ticker moved by hand.
 */
@ExtendWith(NoLeaks.class)
class PipeliningHandlerTest {
    private static final long IDLE_SECONDS = 75;
    private static final String BACKEND = "127.0.0.1:9001";

    private final MockTicker ticker = Ticker.newMockTicker();
    private final Wire wire = new Wire();
    private final Responder app = new Responder();
    private EmbeddedChannel channel;

    @BeforeEach
    void connect() {
        ticker.advance(1, TimeUnit.SECONDS);
        channel = Messages.channel(ticker, wire, new PipeliningHandler(TimeUnit.SECONDS.toNanos(IDLE_SECONDS)),
                new AccessLogHandler(LogConfig.Format.DEFAULT, new ProxyStats()), app);
    }

    @AfterEach
    void everythingWrittenWasRead() {
        List<Object> left = wire.take();
        release(left);
        assertThat(left).as("the test read every message written").isEmpty();
    }

    // ---- one exchange at a time ----

    @Test
    void pipelinedRequestsArePassedOnOneAtATimeInArrivalOrder() {
        channel.writeInbound(get("/a"), get("/b"), get("/c")); // one packet

        assertThat(app.uris()).as("only the first request is passed on while it is in flight").containsExactly("/a");
        assertThat(channel.config().isAutoRead()).as("requests are held: the socket is not read meanwhile").isFalse();

        app.respond(ok("a"));
        assertThat(app.uris()).as("the next request is dispatched by a task, not from inside the write")
                .containsExactly("/a");
        channel.runPendingTasks();
        assertThat(app.uris()).containsExactly("/a", "/b");
        assertThat(channel.config().isAutoRead()).as("/c is still held").isFalse();

        app.respond(ok("b"));
        channel.runPendingTasks();
        assertThat(app.uris()).containsExactly("/a", "/b", "/c");

        app.respond(ok("c"));
        channel.runPendingTasks();
        assertThat(channel.config().isAutoRead()).as("nothing held any more: reading resumes").isTrue();
        assertThat(app.exchanges).extracting(Exchange::uri)
                .as("each exchange is opened when its request is dispatched, after the hold")
                .containsExactly("/a", "/b", "/c");

        List<Object> out = wire.take();
        assertThat(out).extracting(m -> ((FullHttpResponse) m).content().toString(StandardCharsets.UTF_8))
                .as("responses leave in request order").containsExactly("a", "b", "c");
        release(out);
        assertThat(channel.isOpen()).isTrue();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aLoneRequestGoesStraightOnAndReadingNeverStops() {
        channel.writeInbound(get("/a"));
        assertThat(app.uris()).containsExactly("/a");
        assertThat(channel.config().isAutoRead()).as("nothing is held").isTrue();

        app.respond(ok("a"));
        channel.runPendingTasks();
        assertThat(channel.config().isAutoRead()).isTrue();
        channel.writeInbound(get("/b"));
        assertThat(app.uris()).as("the connection is free again").containsExactly("/a", "/b");
        app.respond(ok("b"));

        assertThat(wire.heads()).hasSize(2);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void onlyTheLastPartOfAResponseLetsTheNextRequestThrough() {
        channel.writeInbound(get("/a"), get("/b"));

        app.respond(head(OK, "Content-Length: 6"), part("abc"));
        channel.runPendingTasks();
        assertThat(app.uris()).as("/a's response is still being written").containsExactly("/a");

        app.respond(last("def"));
        channel.runPendingTasks();
        assertThat(app.uris()).containsExactly("/a", "/b");

        app.respond(ok("b"));
        assertThat(wire.heads()).hasSize(2);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void heldRequestsAreDispatchedOneTaskEachNotNestedInsideTheWriteBeforeThem() {
        // A cache hit answers from inside channelRead: dispatching from inside the write would nest one stack
        // frame per pipelined request.
        app.onRequest((r, req) -> {
            if (!req.uri().equals("/a")) {
                r.respond(ok(req.uri()));
            }
        });
        channel.writeInbound(get("/a"), get("/b"), get("/c"), get("/d"));
        app.respond(ok("/a"));
        channel.runPendingTasks();

        assertThat(app.uris()).containsExactly("/a", "/b", "/c", "/d");
        assertThat(app.maxDepth).as("no request is dispatched from inside the answer to the one before it")
                .isEqualTo(1);
        assertThat(channel.config().isAutoRead()).isTrue();
        assertThat(wire.heads()).hasSize(4);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void heldRequestsAreReleasedWhenTheClientGoesAway() {
        FullHttpRequest held = post("/b", "the body of b");
        channel.writeInbound(get("/a"), held);

        channel.close();

        assertThat(held.refCnt()).as("a held request dies with its connection").isZero();
        assertThat(app.uris()).containsExactly("/a");
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    // ---- the response head: version, Connection, framing ----

    @Test
    void anHttp11KeepAliveResponseGetsNoConnectionHeaderAndStatusLine11() {
        channel.writeInbound(get("/a"));
        app.exchange().backend(BACKEND);
        FullHttpResponse fromBackend = new DefaultFullHttpResponse(HTTP_1_0, OK, buffer("hello"));
        fromBackend.headers().set(HttpHeaderNames.CONTENT_LENGTH, 5).set(HttpHeaderNames.CONNECTION, "keep-alive");
        app.respond(fromBackend);

        HttpResponse h = wire.onlyHead();
        assertThat(h.protocolVersion()).as("PIBL speaks HTTP/1.1 whatever the backend spoke").isEqualTo(HTTP_1_1);
        assertThat(h.headers().contains(HttpHeaderNames.CONNECTION))
                .as("keep-alive is HTTP/1.1's default: no Connection header").isFalse();
        assertThat(h.headers().get(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo("5");
        assertThat(h.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
        assertThat(channel.isOpen()).isTrue();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void anHttp10KeepAliveClientKeepsItsConnectionForAResponseWithContentLength() {
        channel.writeInbound(request(HTTP_1_0, HttpMethod.GET, "/a", "Connection: keep-alive"));
        app.exchange().backend(BACKEND);
        app.respond(head(OK, "Content-Length: 6"), part("abc"), last("def"));

        HttpResponse h = wire.onlyHead();
        assertThat(h.headers().get(HttpHeaderNames.CONNECTION))
                .as("HTTP/1.0 closes by default: keep-alive must be said").isEqualTo("keep-alive");
        assertThat(h.protocolVersion()).isEqualTo(HTTP_1_1);
        assertThat(channel.isOpen()).isTrue();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void anHttp10KeepAliveClientKeepsItsConnectionForPiblsOwnPage() {
        channel.writeInbound(request(HTTP_1_0, HttpMethod.GET, "/missing", "Connection: keep-alive"));
        app.respond(ErrorResponses.create(NOT_FOUND));

        HttpResponse h = wire.onlyHead();
        assertThat(h.status()).isEqualTo(NOT_FOUND);
        assertThat(h.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("keep-alive");
        assertThat(channel.isOpen()).isTrue();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @ParameterizedTest(name = "{0} client")
    @MethodSource("versions")
    void aFullResponseWithoutContentLengthGetsOneAndKeepsTheConnection(HttpVersion version) {
        channel.writeInbound(request(version, HttpMethod.GET, "/a", "Connection: keep-alive"));
        app.respond(new DefaultFullHttpResponse(HTTP_1_1, OK, buffer("12345678")));

        HttpResponse h = wire.onlyHead();
        assertThat(h.headers().get(HttpHeaderNames.CONTENT_LENGTH))
                .as("the whole body is at hand: its length frames it").isEqualTo("8");
        assertThat(h.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
        assertThat(channel.isOpen()).isTrue();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    static Stream<HttpVersion> versions() {
        return Stream.of(HTTP_1_0, HTTP_1_1);
    }

    @Test
    void anHttp10ClientGetsAStreamedResponseWithoutLengthDelimitedByTheClose() {
        channel.writeInbound(request(HTTP_1_0, HttpMethod.GET, "/a", "Connection: keep-alive"));
        app.exchange().backend(BACKEND);
        app.respond(head(OK), part("abc"));

        HttpResponse h = wire.onlyHead();
        assertThat(h.headers().get(HttpHeaderNames.CONNECTION))
                .as("the end of the body is the end of the connection").isEqualTo("close");
        assertThat(h.headers().contains(HttpHeaderNames.TRANSFER_ENCODING))
                .as("an HTTP/1.0 client cannot read chunks").isFalse();
        assertThat(channel.isOpen()).as("the body is still being written").isTrue();

        app.respond(last("def"));
        assertThat(channel.isOpen()).as("closed once the last part is written").isFalse();
        release(wire.take());
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void anHttp11ClientGetsAStreamedResponseWithoutLengthChunked() {
        channel.writeInbound(get("/a"));
        app.exchange().backend(BACKEND);
        app.respond(head(OK), part("abc"), last("def"));

        HttpResponse h = wire.onlyHead();
        assertThat(h.headers().get(HttpHeaderNames.TRANSFER_ENCODING)).isEqualTo("chunked");
        assertThat(h.headers().contains(HttpHeaderNames.CONNECTION)).isFalse();
        assertThat(channel.isOpen()).as("chunks delimit the body: the connection stays").isTrue();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @ParameterizedTest(name = "{0} {1} answered {2}")
    @MethodSource("bodiless")
    void aResponseWithoutBodyGetsNoFramingAndKeepsTheConnection(HttpVersion version, HttpMethod method,
                                                                 HttpResponseStatus status) {
        channel.writeInbound(request(version, method, "/a", "Connection: keep-alive"));
        app.exchange().backend(BACKEND);
        app.respond(head(status), LastHttpContent.EMPTY_LAST_CONTENT);

        HttpResponse h = wire.onlyHead();
        assertThat(h.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).as("no body: nothing to chunk").isFalse();
        assertThat(h.headers().contains(HttpHeaderNames.CONTENT_LENGTH)).isFalse();
        assertThat(h.headers().get(HttpHeaderNames.CONNECTION))
                .as("no body to delimit by closing the connection")
                .isEqualTo(version.equals(HTTP_1_0) ? "keep-alive" : null);
        assertThat(channel.isOpen()).isTrue();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    static Stream<Arguments> bodiless() {
        return Stream.of(HTTP_1_1, HTTP_1_0).flatMap(v -> Stream.of(
                arguments(v, HttpMethod.HEAD, OK),
                arguments(v, HttpMethod.GET, NO_CONTENT),
                arguments(v, HttpMethod.GET, NOT_MODIFIED)));
    }

    @Test
    void anHttp10ClientWithoutKeepAliveIsClosedAfterItsResponse() {
        channel.writeInbound(request(HTTP_1_0, HttpMethod.GET, "/a"));
        app.respond(ok("a"));

        assertThat(wire.onlyHead().headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
        assertThat(channel.isOpen()).isFalse();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aConnectionCloseRequestIsAnsweredWithCloseThenTheConnectionClosesAndHeldRequestsAreDropped() {
        FullHttpRequest held = post("/b", "the body of b");
        channel.writeInbound(get("/a", "Connection: close"), held);

        app.respond(ok("a"));
        channel.runPendingTasks();

        assertThat(wire.onlyHead().headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
        assertThat(channel.isOpen()).isFalse();
        assertThat(app.uris()).as("a request after the last one is never answered").containsExactly("/a");
        assertThat(held.refCnt()).as("the dropped request is released").isZero();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aSegmentAskingTheExchangeToCloseClosesTheConnectionAfterTheResponse() {
        channel.writeInbound(get("/a"), get("/b"));
        app.exchange().requestClose(); // e.g. the body's framing was lost
        app.respond(head(OK, "Content-Length: 3"), last("abc"));
        channel.runPendingTasks();

        assertThat(wire.onlyHead().headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
        assertThat(channel.isOpen()).isFalse();
        assertThat(app.uris()).containsExactly("/a");
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void anInterimHeadOnlyGetsTheVersion() {
        channel.writeInbound(request(HTTP_1_0, HttpMethod.GET, "/a", "Connection: keep-alive"));
        app.exchange().backend(BACKEND);
        app.respond(new DefaultHttpResponse(HTTP_1_0, HttpResponseStatus.valueOf(103)));

        HttpResponse interim = wire.onlyHead();
        assertThat(interim.protocolVersion()).isEqualTo(HTTP_1_1);
        assertThat(interim.headers().names()).as("no Connection, Via, X-Cache or framing on a 1xx").isEmpty();

        app.respond(ok("a"));
        HttpResponse last = wire.onlyHead();
        assertThat(last.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("keep-alive");
        assertThat(last.headers().get(HttpHeaderNames.VIA)).isEqualTo("1.1 pibl");
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    // ---- X-Cache and Via ----

    @ParameterizedTest(name = "{0} → X-Cache {1}")
    @MethodSource("phases")
    void xCacheNamesTheExchangesCachePhase(List<CachePhase> moves, String xCache) {
        channel.writeInbound(get("/a"));
        moves.forEach(app.exchange()::phase);
        app.respond(ok("a"));

        assertThat(wire.onlyHead().headers().get(ResponseHeads.X_CACHE)).isEqualTo(xCache);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    static Stream<Arguments> phases() {
        return Stream.of(
                arguments(List.of(CachePhase.BYPASS), "BYPASS"),
                arguments(List.of(CachePhase.LOOKUP, CachePhase.HIT), "HIT"),
                arguments(List.of(CachePhase.LOOKUP, CachePhase.MISS), "MISS"),
                arguments(List.of(CachePhase.LOOKUP, CachePhase.STALE_UPDATING), "STALE"),
                arguments(List.of(CachePhase.LOOKUP, CachePhase.REVALIDATING, CachePhase.REVALIDATED), "REVALIDATED"),
                arguments(List.of(CachePhase.LOOKUP, CachePhase.REVALIDATING, CachePhase.STALE), "STALE"),
                arguments(List.of(CachePhase.LOOKUP), null));
    }

    @Test
    void piblsOwnPageGetsNeitherXCacheNorVia() {
        channel.writeInbound(get("/a"));
        assertThat(app.exchange().phase()).isEqualTo(CachePhase.UNINIT);
        app.respond(ErrorResponses.create(HttpResponseStatus.BAD_GATEWAY));

        HttpResponse h = wire.onlyHead();
        assertThat(h.headers().contains(ResponseHeads.X_CACHE)).as("the cache had no say").isFalse();
        assertThat(h.headers().contains(HttpHeaderNames.VIA)).as("no backend's response passed this hop").isFalse();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void viaNamesThisHopOnAResponseFromABackend() {
        channel.writeInbound(get("/a"), get("/b"));
        app.exchange().backend(BACKEND);
        app.respond(full(HTTP_1_1, "Via: 1.0 squid"));
        channel.runPendingTasks();
        app.exchange().backend(BACKEND);
        app.respond(full(HTTP_1_0));

        List<HttpResponse> heads = wire.heads();
        assertThat(heads.get(0).headers().get(HttpHeaderNames.VIA)).as("appended to the hops before")
                .isEqualTo("1.0 squid, 1.1 pibl");
        assertThat(heads.get(1).headers().get(HttpHeaderNames.VIA))
                .as("Via names the protocol PIBL received from the backend").isEqualTo("1.0 pibl");
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aStoredResponseNamesThisHopInVia() {
        channel.writeInbound(get("/a"));
        app.exchange().phase(CachePhase.LOOKUP);
        app.exchange().phase(CachePhase.HIT);
        app.respond(ok("stored"));

        HttpResponse h = wire.onlyHead();
        assertThat(h.headers().get(HttpHeaderNames.VIA)).as("stored without PIBL's Via: added once when served")
                .isEqualTo("1.1 pibl");
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    private static FullHttpResponse full(HttpVersion version, String... headers) {
        FullHttpResponse r = new DefaultFullHttpResponse(version, OK, Unpooled.EMPTY_BUFFER);
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
        for (String h : headers) {
            int colon = h.indexOf(':');
            r.headers().add(h.substring(0, colon), h.substring(colon + 1).trim());
        }
        return r;
    }

    // ---- drain ----

    @Test
    void drainClosesAnIdleConnectionAtOnce() {
        channel.writeInbound(get("/a"));
        app.respond(ok("a"));
        release(wire.take());
        assertThat(channel.isOpen()).isTrue();

        channel.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE);

        assertThat(channel.isOpen()).isFalse();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void drainLetsTheExchangeInFlightFinishWithConnectionCloseThenCloses() {
        FullHttpRequest held = post("/b", "the body of b");
        channel.writeInbound(get("/a"), held);

        channel.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE);
        assertThat(channel.isOpen()).as("/a is still being answered").isTrue();

        app.respond(ok("a"));
        channel.runPendingTasks();
        HttpResponse h = wire.onlyHead();
        assertThat(h.headers().get(HttpHeaderNames.CONNECTION))
                .as("the client of a keep-alive HTTP/1.1 exchange learns the connection ends").isEqualTo("close");
        assertThat(channel.isOpen()).isFalse();
        assertThat(app.uris()).as("nothing new is started while draining").containsExactly("/a");
        assertThat(held.refCnt()).isZero();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    // ---- idle timeout ----

    @Test
    void anIdleConnectionIsClosedAfterTheIdleTimeNotBefore() {
        ticker.advance(IDLE_SECONDS * 1000 - 1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).as("1 ms before the idle time").isTrue();

        ticker.advance(1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isFalse();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void theIdleTimeCountsFromTheEndOfTheLastResponse() {
        ticker.advance(10, TimeUnit.SECONDS);
        channel.writeInbound(get("/a"));
        ticker.advance(10, TimeUnit.SECONDS);
        app.respond(ok("a"));
        release(wire.take());

        ticker.advance(IDLE_SECONDS * 1000 - 1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).as("the connection's first timer fired meanwhile and was re-armed").isTrue();

        ticker.advance(1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isFalse();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aConnectionWithAnExchangeInFlightIsNeverIdle() {
        channel.writeInbound(get("/slow"));
        for (int i = 0; i < 4; i++) {
            ticker.advance(IDLE_SECONDS, TimeUnit.SECONDS);
            channel.runScheduledPendingTasks();
        }
        assertThat(channel.isOpen()).as("a slow backend is not an idle client").isTrue();

        app.respond(ok("finally"));
        release(wire.take());
        ticker.advance(IDLE_SECONDS * 1000 - 1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isTrue();
        ticker.advance(1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).as("idle from the response's end").isFalse();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    // ---- streamed request bodies ----

    private static io.netty.handler.codec.http.HttpRequest streamedPut(String uri) {
        io.netty.handler.codec.http.HttpRequest r = new io.netty.handler.codec.http.DefaultHttpRequest(HTTP_1_1,
                HttpMethod.PUT, uri);
        r.headers().set(HttpHeaderNames.HOST, "shop.example").set(HttpHeaderNames.CONTENT_LENGTH, 4);
        return r;
    }

    private java.util.List<Object> inbound() {
        java.util.List<Object> in = new java.util.ArrayList<>();
        Object o;
        while ((o = channel.readInbound()) != null) {
            in.add(o);
        }
        return in;
    }

    @Test
    void aStreamedRequestHeldBehindAnotherKeepsItsBodyPartsAndGetsThemAfterItsHead() {
        channel.writeInbound(get("/a"), streamedPut("/up"), part("ab")); // one packet

        assertThat(app.uris()).containsExactly("/a");
        assertThat(inbound()).as("the part belongs to the held PUT, not to /a").isEmpty();

        app.respond(ok("a"));
        channel.runPendingTasks();
        assertThat(app.uris()).containsExactly("/a", "/up");
        List<Object> parts = inbound();
        assertThat(parts).hasSize(1);
        release(parts);
        assertThat(channel.config().isAutoRead()).as("the rest of the PUT's body is still to be read").isTrue();

        channel.writeInbound(last("cd"));
        parts = inbound();
        assertThat(parts).singleElement().isInstanceOf(LastHttpContent.class);
        release(parts);
        app.respond(ok("up"));
        release(wire.take());
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aBodyThatStopsArrivingForTheIdleTimeIsAClientGoneButABodyPausedForTheBackendIsNot() {
        channel.writeInbound(streamedPut("/up"), part("ab"));
        release(inbound());
        channel.config().setAutoRead(false); // the backend cannot take more: the forwarder paused reading
        for (int i = 0; i < 3; i++) {
            ticker.advance(IDLE_SECONDS, TimeUnit.SECONDS);
            channel.runScheduledPendingTasks();
        }
        assertThat(channel.isOpen()).as("a slow backend is not a silent client").isTrue();

        channel.config().setAutoRead(true);
        ticker.advance(IDLE_SECONDS, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        ticker.advance(IDLE_SECONDS, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).as("read, and nothing came for the idle time: the client is gone").isFalse();
        app.release();
        assertThat(channel.finish()).isFalse();
    }
}
