package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import pibl.config.LogConfig;
import pibl.http.RequestLine;
import pibl.http.StrictHttpServerCodec;
import pibl.runtime.ProxyStats;
import pibl.testing.NoLeaks;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static io.netty.handler.codec.http.HttpResponseStatus.BAD_REQUEST;
import static io.netty.handler.codec.http.HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED;
import static io.netty.handler.codec.http.HttpResponseStatus.METHOD_NOT_ALLOWED;
import static io.netty.handler.codec.http.HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
import static io.netty.handler.codec.http.HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
import static io.netty.handler.codec.http.HttpResponseStatus.REQUEST_TIMEOUT;
import static io.netty.handler.codec.http.HttpResponseStatus.REQUEST_URI_TOO_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;
import static pibl.handler.Messages.drainHeads;
import static pibl.handler.Messages.get;
import static pibl.handler.Messages.onlyHead;
import static pibl.handler.Messages.outbound;
import static pibl.handler.Messages.post;
import static pibl.handler.Messages.release;

/**
 * The guard answers what must not be forwarded, one row of its class comment each, and lets the rest through
 * untouched. Composed as in the real pipeline, {@code pipelining → access-log → [peek] → guard → [app]}: the
 * access log opens the {@link Exchange} the guard asks to close, and pipelining turns that ask into {@code
 * Connection: close} and a closed connection. The peek keeps the exchange the guard saw, since it is gone from
 * the channel once the refusal is written.
 */
@ExtendWith(NoLeaks.class)
class RequestGuardHandlerTest {
    private final Responder app = new Responder();
    private final List<Exchange> seenByGuard = new ArrayList<>();
    private EmbeddedChannel channel;

    @BeforeEach
    void connect() {
        ChannelInboundHandlerAdapter peek = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                seenByGuard.add(Exchange.current(ctx.channel()));
                ctx.fireChannelRead(msg);
            }
        };
        channel = Messages.channel(Ticker.newMockTicker(), new PipeliningHandler(TimeUnit.SECONDS.toNanos(75)),
                new AccessLogHandler(LogConfig.Format.DEFAULT, new ProxyStats()), peek, RequestGuardHandler.INSTANCE,
                app);
    }

    @ParameterizedTest(name = "{0} → {2}")
    @MethodSource("refusals")
    void refusesAnswersItselfReleasesAndNeverPassesOn(String what, Supplier<FullHttpRequest> make,
                                                      HttpResponseStatus status, boolean closes) {
        FullHttpRequest request = make.get();
        channel.writeInbound(request);

        assertThat(app.received).as("a refused request is never passed on").isEmpty();
        assertThat(request.refCnt()).as("the refused request is released").isZero();
        List<Object> out = outbound(channel);
        assertThat(out).hasSize(1);
        FullHttpResponse response = (FullHttpResponse) out.get(0);
        assertThat(response.status()).isEqualTo(status);
        assertThat(response.content().toString(StandardCharsets.US_ASCII))
                .as("a short page naming the status, never a stack trace")
                .isEqualTo(status.code() + " " + status.reasonPhrase() + "\n");
        assertThat(response.headers().get(HttpHeaderNames.CACHE_CONTROL)).isEqualTo("no-store");
        release(out);

        assertThat(seenByGuard).hasSize(1);
        assertThat(seenByGuard.get(0).closeRequested())
                .as(closes ? "after a framing error what follows cannot be trusted to start a request"
                        : "CONNECT is well framed: the connection can carry the next request")
                .isEqualTo(closes);
        assertThat(response.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo(closes ? "close" : null);
        assertThat(channel.isOpen()).isEqualTo(!closes);
        assertThat(channel.finish()).isFalse();
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
                arguments("Content-Length and Transfer-Encoding",
                        failed(new StrictHttpServerCodec.AmbiguousLengthException(),
                                "Content-Length: 3", "Transfer-Encoding: chunked"),
                        BAD_REQUEST, true),
                arguments("request line too long",
                        failed(new TooLongHttpLineException("An HTTP line is larger than 4096 bytes.")),
                        REQUEST_URI_TOO_LONG, true),
                arguments("header section too large",
                        failed(new TooLongHttpHeaderException("HTTP header is larger than 8192 bytes.")),
                        REQUEST_HEADER_FIELDS_TOO_LARGE, true),
                arguments("body too large",
                        failed(new RequestAggregator.BodyTooLargeException(1024), "Content-Length: 4096"),
                        REQUEST_ENTITY_TOO_LARGE, true),
                arguments("head not complete in time",
                        failed(new HeaderTimeoutHandler.HeadTimeoutException(10_000)),
                        REQUEST_TIMEOUT, true),
                arguments("any other decoder failure",
                        failed(new IllegalArgumentException("invalid version format: HTTP/9")),
                        BAD_REQUEST, true),
                arguments("HTTP/1.1 without Host",
                        (Supplier<FullHttpRequest>) () -> {
                            FullHttpRequest r = withBuffer(HttpVersion.HTTP_1_1, HttpMethod.GET, "/a");
                            r.headers().remove(HttpHeaderNames.HOST);
                            return r;
                        },
                        BAD_REQUEST, true),
                arguments("an HTTP-version of another major (the HTTP/2 preface)",
                        failed(new RequestLine.UnsupportedVersionException("HTTP/2.0")),
                        HTTP_VERSION_NOT_SUPPORTED, true),
                arguments("a request line RequestLine refuses",
                        failed(new RequestLine.MalformedException("not an HTTP-version: 'HTTP/1.10'")),
                        BAD_REQUEST, true),
                arguments("two identical Host lines", withHosts("shop.example", "shop.example"), BAD_REQUEST, true),
                arguments("two different Host lines", withHosts("shop.example", "evil.example"), BAD_REQUEST, true),
                arguments("a Host with a space", withHosts("shop.example evil"), BAD_REQUEST, true),
                arguments("a Host with a slash", withHosts("shop.example/a"), BAD_REQUEST, true),
                arguments("a Host with user information", withHosts("user@shop.example"), BAD_REQUEST, true),
                arguments("a Host with a bad port", withHosts("shop.example:8o"), BAD_REQUEST, true),
                arguments("an absolute-form target with user information",
                        (Supplier<FullHttpRequest>) () -> withBuffer(HttpVersion.HTTP_1_1, HttpMethod.GET,
                                "http://user@shop.example/a"),
                        BAD_REQUEST, true),
                arguments("an absolute-form target of another scheme",
                        (Supplier<FullHttpRequest>) () -> withBuffer(HttpVersion.HTTP_1_1, HttpMethod.GET,
                                "ftp://shop.example/a"),
                        BAD_REQUEST, true),
                arguments("CONNECT",
                        (Supplier<FullHttpRequest>) () -> withBuffer(HttpVersion.HTTP_1_1, HttpMethod.CONNECT,
                                "shop.example:443"),
                        METHOD_NOT_ALLOWED, false));
    }

    private static Supplier<FullHttpRequest> withHosts(String... hosts) {
        return () -> {
            FullHttpRequest r = withBuffer(HttpVersion.HTTP_1_1, HttpMethod.GET, "/a");
            r.headers().remove(HttpHeaderNames.HOST);
            for (String h : hosts) {
                r.headers().add(HttpHeaderNames.HOST, h);
            }
            return r;
        };
    }

    /** A request as the aggregator passes on a failed one: its decoder result names the cause. */
    private static Supplier<FullHttpRequest> failed(Throwable cause, String... headers) {
        return () -> {
            FullHttpRequest r = withBuffer(HttpVersion.HTTP_1_1, HttpMethod.POST, "/upload");
            for (String h : headers) {
                int colon = h.indexOf(':');
                r.headers().add(h.substring(0, colon), h.substring(colon + 1).trim());
            }
            r.setDecoderResult(DecoderResult.failure(cause));
            return r;
        };
    }

    /** With a releasable (empty, direct: leak-tracked) body, so the test can see the request released. */
    private static FullHttpRequest withBuffer(HttpVersion version, HttpMethod method, String uri) {
        FullHttpRequest r = new DefaultFullHttpRequest(version, method, uri, Unpooled.directBuffer(0));
        r.headers().set(HttpHeaderNames.HOST, "shop.example");
        return r;
    }

    @Test
    void aGoodRequestIsPassedOnUntouched() {
        FullHttpRequest request = post("/orders", "{\"n\":1}", "Content-Type: application/json");
        String headersBefore = request.headers().toString();
        channel.writeInbound(request);

        assertThat(app.received).hasSize(1);
        assertThat(app.received.get(0)).as("the very request, not a copy").isSameAs(request);
        assertThat(request.refCnt()).as("the next segment owns it now").isEqualTo(1);
        assertThat(request.headers().toString()).isEqualTo(headersBefore);
        assertThat(request.content().toString(StandardCharsets.UTF_8)).isEqualTo("{\"n\":1}");
        assertThat(outbound(channel)).as("the guard answers nothing").isEmpty();
        assertThat(app.exchange().closeRequested()).isFalse();

        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void anAbsoluteFormTargetIsPassedOnInOriginFormWithItsAuthorityAsHost() {
        FullHttpRequest request = withBuffer(HttpVersion.HTTP_1_1, HttpMethod.GET, "http://Shop.Example:8080?q=1");
        request.headers().set(HttpHeaderNames.HOST, "other.example");
        channel.writeInbound(request);

        assertThat(app.received).containsExactly(request);
        assertThat(request.uri()).as("the backend gets origin-form; an empty path is /").isEqualTo("/?q=1");
        assertThat(request.headers().getAll(HttpHeaderNames.HOST))
                .as("the target's authority replaces the Host line (RFC 9112 3.2.2)").containsExactly("Shop.Example:8080");
        assertThat(outbound(channel)).isEmpty();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void anHttp10RequestWithoutHostIsPassedOn() {
        FullHttpRequest request = withBuffer(HttpVersion.HTTP_1_0, HttpMethod.GET, "/a");
        request.headers().remove(HttpHeaderNames.HOST);
        channel.writeInbound(request);

        assertThat(app.received).as("Host is mandatory from HTTP/1.1 on (RFC 9112 3.2)").containsExactly(request);
        assertThat(outbound(channel)).isEmpty();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aRefusedConnectKeepsTheConnectionForTheNextRequest() {
        channel.writeInbound(withBuffer(HttpVersion.HTTP_1_1, HttpMethod.CONNECT, "shop.example:443"), get("/next"));
        channel.runPendingTasks();

        assertThat(drainHeads(channel)).extracting(h -> h.status().code()).containsExactly(405);
        assertThat(app.uris()).as("the pipelined request after the CONNECT is served").containsExactly("/next");
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aRefusalFollowedByAPipelinedRequestClosesWithoutServingIt() {
        FullHttpRequest next = post("/next", "smuggled?");
        channel.writeInbound(failed(new StrictHttpServerCodec.AmbiguousLengthException()).get(), next);
        channel.runPendingTasks();

        assertThat(drainHeads(channel)).extracting(h -> h.status().code()).containsExactly(400);
        assertThat(app.received).as("what follows an ambiguous length is never trusted as a request").isEmpty();
        assertThat(next.refCnt()).isZero();
        assertThat(channel.isOpen()).isFalse();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void refusesOnAChannelWithoutExchangeToo() {
        EmbeddedChannel bare = new EmbeddedChannel(RequestGuardHandler.INSTANCE);
        FullHttpRequest request = failed(new TooLongHttpLineException("too long")).get();
        bare.writeInbound(request);

        assertThat(onlyHead(bare).status()).isEqualTo(REQUEST_URI_TOO_LONG);
        assertThat(request.refCnt()).isZero();
        assertThat(bare.finish()).isFalse();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void messagesOtherThanFullRequestsPassThrough() {
        EmbeddedChannel bare = new EmbeddedChannel(RequestGuardHandler.INSTANCE);
        Object part = Messages.part("body");
        bare.writeInbound(part);

        Object read = bare.readInbound();
        assertThat(read).isSameAs(part);
        release(List.of(read));
        assertThat(bare.outboundMessages()).isEmpty();
        assertThat(channel.finish()).isFalse();
        assertThat(bare.finish()).isFalse();
    }
}
