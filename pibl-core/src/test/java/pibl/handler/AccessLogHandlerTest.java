package pibl.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpResponse;
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
import org.junit.jupiter.params.provider.EnumSource;
import pibl.cache.CachePhase;
import pibl.config.LogConfig.Format;
import pibl.config.RouteConfig;
import pibl.route.Route;
import pibl.route.Routes;
import pibl.runtime.ProxyStats;
import pibl.testing.NoLeaks;
import pibl.tls.TlsSession;

import java.io.File;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.netty.handler.codec.http.HttpResponseStatus.NOT_FOUND;
import static io.netty.handler.codec.http.HttpResponseStatus.NOT_MODIFIED;
import static io.netty.handler.codec.http.HttpResponseStatus.OK;
import static io.netty.handler.codec.http.HttpResponseStatus.SERVICE_UNAVAILABLE;
import static org.assertj.core.api.Assertions.assertThat;
import static pibl.handler.Messages.full;
import static pibl.handler.Messages.get;
import static pibl.handler.Messages.head;
import static pibl.handler.Messages.last;
import static pibl.handler.Messages.ok;
import static pibl.handler.Messages.outbound;
import static pibl.handler.Messages.part;
import static pibl.handler.Messages.release;

/**
 * One access line per exchange on {@code pibl.access}, written when the response's last part is, in the three
 * formats of {@link AccessLogFormat}'s class comment. The channel is {@code access-log → [app]}, with a mock
 * ticker for the duration; status and bytes come from what the app writes.
 */
@ExtendWith(NoLeaks.class)
class AccessLogHandlerTest {
    /**
     * What every line ends with: a new 32-hex request id, {@code -} for a request without a trace, and no route or
     * pool (the route segment is not in this channel).
     */
    private static final String IDS_NO_TRACE = " [0-9a-f]{32} - route=- pool=-";

    private static final String BACKEND = "127.0.0.1:9001";
    private static final String ISO_TIME = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    private static final DateTimeFormatter CLF = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT);

    private final MockTicker ticker = Ticker.newMockTicker();
    private final ProxyStats stats = new ProxyStats();
    private final Responder app = new Responder();
    private AccessLines log;
    private EmbeddedChannel channel;

    @BeforeEach
    void capture() {
        ticker.advance(1, TimeUnit.SECONDS);
        log = new AccessLines();
    }

    @AfterEach
    void stopCapture() {
        log.close();
    }

    private void connect(Format format) {
        channel = Messages.channel(ticker, new AccessLogHandler(format, stats), app);
    }

    /** GET /a?x=1 from curl, a cache miss answered by the backend in 3.2 ms with 1024 body bytes in 2 parts. */
    private void missOf1024BytesIn3200Micros(String... requestHeaders) {
        channel.writeInbound(get("/a?x=1", requestHeaders));
        Exchange e = app.exchange();
        e.phase(CachePhase.LOOKUP);
        e.phase(CachePhase.MISS);
        e.backend(BACKEND);
        ticker.advance(3_200, TimeUnit.MICROSECONDS);
        app.respond(head(OK, "Content-Length: 1024"), part("a".repeat(1000)), last("b".repeat(24)));
        release(outbound(channel));
    }

    // ---- the three formats ----

    @Test
    void theDefaultLineHasTimeClientRequestStatusBytesBackendCacheDurationAndUserAgent() {
        connect(Format.DEFAULT);
        long before = System.currentTimeMillis();
        missOf1024BytesIn3200Micros("User-Agent: curl/8.5.0");
        long after = System.currentTimeMillis();

        String line = log.only();
        assertThat(line).matches(ISO_TIME + " 127\\.0\\.0\\.1 \"GET /a\\?x=1 HTTP/1\\.1\" 200 1024"
                + " 127\\.0\\.0\\.1:9001 MISS 3\\.2ms \"curl/8\\.5\\.0\"" + IDS_NO_TRACE);
        assertThat(Instant.parse(line.substring(0, line.indexOf(' '))).toEpochMilli())
                .as("the time the exchange started, in UTC").isBetween(before, after);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void overTlsEachFormatCarriesTheTlsVersion(Format format) throws Exception {
        connect(format);
        new TlsSession("TLSv1.3", null).attachTo(channel);
        missOf1024BytesIn3200Micros("User-Agent: curl/8.5.0");
        if (format == Format.JSON) {
            assertThat(new ObjectMapper().readTree(log.only()).get("tls").asText()).isEqualTo("TLSv1.3");
        } else {
            assertThat(log.only()).matches(".*\"curl/8\\.5\\.0\"" + IDS_NO_TRACE + " TLSv1\\.3");
        }
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void theCombinedLineIsApacheCombined() {
        connect(Format.COMBINED);
        long before = System.currentTimeMillis();
        missOf1024BytesIn3200Micros("User-Agent: curl/8.5.0", "Referer: https://shop.example/list");
        long after = System.currentTimeMillis();

        Matcher m = Pattern.compile("127\\.0\\.0\\.1 - - \\[([^]]+)] \"GET /a\\?x=1 HTTP/1\\.1\" 200 1024"
                + " \"https://shop\\.example/list\" \"curl/8\\.5\\.0\"" + IDS_NO_TRACE).matcher(log.only());
        assertThat(m.matches()).as(log.only()).isTrue();
        long logged = ZonedDateTime.parse(m.group(1), CLF).toInstant().toEpochMilli();
        assertThat(m.group(1)).endsWith(" +0000");
        assertThat(logged).isBetween(before / 1000 * 1000, after);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void theCombinedLinePrintsDashForAMissingRefererAndUserAgent() {
        connect(Format.COMBINED);
        missOf1024BytesIn3200Micros();

        assertThat(log.only()).matches(".*\" 200 1024 \"-\" \"-\"" + IDS_NO_TRACE);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void theJsonLineIsOneObjectWithEveryField() throws Exception {
        connect(Format.JSON);
        long before = System.currentTimeMillis();
        missOf1024BytesIn3200Micros("User-Agent: curl/8.5.0");
        long after = System.currentTimeMillis();

        JsonNode json = new ObjectMapper().readTree(log.only());
        List<String> names = new ArrayList<>();
        json.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("time", "client", "method", "uri", "protocol", "status", "bytes", "backend",
                "cache", "ms", "host", "referer", "user_agent", "request_id", "trace_id", "route", "pool", "tls");
        assertThat(json.get("request_id").asText()).matches("[0-9a-f]{32}");
        assertThat(json.get("trace_id").isNull()).as("no traceparent, and not generating").isTrue();
        assertThat(json.get("time").asText()).matches(ISO_TIME);
        assertThat(Instant.parse(json.get("time").asText()).toEpochMilli()).isBetween(before, after);
        assertThat(json.get("client").asText()).isEqualTo("127.0.0.1");
        assertThat(json.get("method").asText()).isEqualTo("GET");
        assertThat(json.get("uri").asText()).isEqualTo("/a?x=1");
        assertThat(json.get("protocol").asText()).isEqualTo("HTTP/1.1");
        assertThat(json.get("status").isInt()).as("numbers are numbers").isTrue();
        assertThat(json.get("status").asInt()).isEqualTo(200);
        assertThat(json.get("bytes").asLong()).isEqualTo(1024);
        assertThat(json.get("backend").asText()).isEqualTo(BACKEND);
        assertThat(json.get("cache").asText()).isEqualTo("MISS");
        assertThat(json.get("ms").isNumber()).isTrue();
        assertThat(json.get("ms").asDouble()).isEqualTo(3.2);
        assertThat(json.get("host").asText()).isEqualTo("shop.example");
        assertThat(json.get("referer").isNull()).as("absent is null, not \"-\"").isTrue();
        assertThat(json.get("user_agent").asText()).isEqualTo("curl/8.5.0");
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void theJsonLineEscapesControlCharactersAndKeepsNonAscii() throws Exception {
        connect(Format.JSON);
        String uri = "/caf\u00e9?q=\u0001\"x\\";
        String userAgent = "caf\u00e9-bot \ud83d\ude00\r\nX-Injected: 1\u2028";
        channel.writeInbound(Messages.unvalidated(uri, "User-Agent: " + userAgent));
        app.respond(ok("a"));
        release(outbound(channel));

        String line = log.only();
        assertThat(line).doesNotContain("\u0001", "\r", "\n", "\u2028")
                .contains("\\u0001", "\\r\\n", "\\u2028", "/caf\u00e9?", "caf\u00e9-bot \ud83d\ude00");
        JsonNode json = new ObjectMapper().readTree(line);
        assertThat(json.get("uri").asText()).as("the strict parser reads back what the client sent").isEqualTo(uri);
        assertThat(json.get("user_agent").asText()).isEqualTo(userAgent);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void theDefaultLineEscapesQuotesAndControlCharactersSoOneRequestIsOneLine() {
        connect(Format.DEFAULT);
        channel.writeInbound(Messages.unvalidated("/a\"b\\c\u0001\u007f\u00e9\ud83d\ude00",
                "User-Agent: say \"hi\"\t\r\nX-Injected: 1"));
        app.respond(ok("a"));
        release(outbound(channel));

        String line = log.only();
        assertThat(line).doesNotContain("\n", "\r", "\t", "\u0001", "\u007f");
        assertThat(line).as("quotes and backslashes escaped, control characters as \\xHH, the rest as it came")
                .contains(" \"GET /a\\\"b\\\\c\\x01\\x7f\u00e9\ud83d\ude00 HTTP/1.1\" 200 1 ")
                .matches(".* \"say \\\\\"hi\\\\\"\\\\x09\\\\x0d\\\\x0aX-Injected: 1\"" + IDS_NO_TRACE);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void theCombinedLineEscapesTheRefererToo() {
        connect(Format.COMBINED);
        channel.writeInbound(Messages.unvalidated("/a", "Referer: x\"\ny", "User-Agent: \"z\""));
        app.respond(ok("a"));
        release(outbound(channel));

        assertThat(log.only()).matches(".*\" 200 1 \"x\\\\\"\\\\x0ay\" \"\\\\\"z\\\\\"\"" + IDS_NO_TRACE);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void aStandInForATimedOutHeadIsLoggedWithoutARequestLine(Format format) throws Exception {
        connect(format);
        channel.writeInbound(HeaderTimeoutHandler.timedOut(TimeUnit.SECONDS.toNanos(10)));
        app.respond(ErrorResponses.create(HttpResponseStatus.REQUEST_TIMEOUT));
        release(outbound(channel));

        String line = log.only();
        switch (format) {
            case DEFAULT -> assertThat(line).matches(ISO_TIME + " 127\\.0\\.0\\.1 \"-\" 408 20 - - 0\\.0ms \"-\""
                    + IDS_NO_TRACE);
            case COMBINED -> assertThat(line).matches("127\\.0\\.0\\.1 - - \\[[^]]+] \"-\" 408 20 \"-\" \"-\""
                    + IDS_NO_TRACE);
            case JSON -> {
                JsonNode json = new ObjectMapper().readTree(line);
                assertThat(json.get("method").asText()).isEqualTo("-");
                assertThat(json.get("uri").asText()).isEqualTo("-");
                assertThat(json.get("protocol").asText()).isEqualTo("-");
                assertThat(json.get("status").asInt()).isEqualTo(408);
                assertThat(json.get("host").isNull()).isTrue();
                assertThat(json.get("user_agent").isNull()).isTrue();
            }
        }
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void eachFormatNamesTheRouteAndPool(Format format) throws Exception {
        connect(format);
        Route route = Routes.router(List.of(Routes.pool("sessions", "127.0.0.1:9001")),
                RouteConfig.catchAll("sessions").withHost("*.shop.example").withPath("/api/"))
                .match("www.shop.example", "/api/cart", "GET");
        channel.writeInbound(get("/api/cart"));
        app.exchange().route(route);
        app.respond(ok("a"));
        release(outbound(channel));

        if (format == Format.JSON) {
            JsonNode json = new ObjectMapper().readTree(log.only());
            assertThat(json.get("route").asText()).isEqualTo("*.shop.example/api");
            assertThat(json.get("pool").asText()).isEqualTo("sessions");
        } else {
            assertThat(log.only()).endsWith(" - route=*.shop.example/api pool=sessions");
        }
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void piblsOwnPageIsLoggedWithoutBackendAndCache() {
        connect(Format.DEFAULT);
        channel.writeInbound(get("/nothing-here"));
        app.respond(ErrorResponses.create(NOT_FOUND));
        release(outbound(channel));

        assertThat(log.only()).matches(ISO_TIME
                + " 127\\.0\\.0\\.1 \"GET /nothing-here HTTP/1\\.1\" 404 14 - - 0\\.0ms \"-\"" + IDS_NO_TRACE);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aChannelWithoutAnInetAddressLogsTheClientAsDash() {
        EmbeddedChannel plain = new EmbeddedChannel(new AccessLogHandler(Format.DEFAULT, stats), app);
        plain.writeInbound(get("/a"));
        app.respond(ok("a"));
        release(outbound(plain));

        assertThat(log.only()).matches(ISO_TIME + " - \"GET /a HTTP/1\\.1\" 200 1 .*");
        app.release();
        assertThat(plain.finish()).isFalse();
    }

    // ---- what is counted ----

    @Test
    void bytesAreTheBodyBytesWrittenIncludingFileRegions() {
        connect(Format.JSON);
        channel.writeInbound(get("/big"));
        app.respond(head(OK, "Content-Length: 4106"), part("0123456789"),
                new DefaultFileRegion(new File("never-opened.bin"), 0, 4096), LastHttpContent.EMPTY_LAST_CONTENT);
        release(outbound(channel));

        assertThat(log.only()).contains("\"status\":200,\"bytes\":4106,");
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void anInterimHeadIsNeverTheLoggedStatus() {
        connect(Format.DEFAULT);
        channel.writeInbound(get("/a"));
        app.respond(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(103)), ok("abc"));
        channel.writeInbound(get("/b"));
        app.respond(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(103)));
        release(outbound(channel));
        channel.close();

        assertThat(log.lines()).hasSize(2);
        assertThat(log.lines().get(0)).contains("\"GET /a HTTP/1.1\" 200 3 ");
        assertThat(log.lines().get(1)).as("only 103 Early Hints went out: the final response never did")
                .contains("\"GET /b HTTP/1.1\" 499 0 ");
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void oneLinePerExchangeWrittenWhenTheLastPartIs() {
        connect(Format.DEFAULT);
        channel.writeInbound(get("/a"));
        app.respond(head(OK, "Content-Length: 2"), part("x"));
        assertThat(log.lines()).as("the response is not complete yet").isEmpty();
        app.respond(last("y"));
        assertThat(log.lines()).hasSize(1);

        channel.writeInbound(get("/b"));
        app.respond(full(NOT_FOUND, "gone"));
        release(outbound(channel));

        assertThat(log.lines()).hasSize(2);
        assertThat(log.lines().get(0)).contains("\"GET /a HTTP/1.1\" 200 2 ");
        assertThat(log.lines().get(1)).contains("\"GET /b HTTP/1.1\" 404 4 ");
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aConnectionClosedBeforeTheResponseIsLogged499() {
        connect(Format.DEFAULT);
        channel.writeInbound(get("/slow"));
        ticker.advance(1500, TimeUnit.MILLISECONDS);
        channel.close();

        assertThat(log.only()).as("nginx's 499: the client closed first")
                .contains("\"GET /slow HTTP/1.1\" 499 0 - - 1500.0ms ");
        assertThat(stats.responses(4)).isEqualTo(1);
        assertThat(Exchange.current(channel)).isNull();
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aConnectionClosedMidBodyLogsTheStatusSentAndTheBytesWrittenSoFar() {
        connect(Format.DEFAULT);
        channel.writeInbound(get("/big"));
        app.exchange().backend(BACKEND);
        app.respond(head(OK, "Content-Length: 100"), part("0123456789"));
        release(outbound(channel));
        channel.close();

        assertThat(log.only()).contains("\"GET /big HTTP/1.1\" 200 10 " + BACKEND + " - ");
        assertThat(stats.responses(2)).isEqualTo(1);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void closingAfterTheLastPartLogsNothingMore() {
        connect(Format.DEFAULT);
        channel.writeInbound(get("/a"));
        app.respond(ok("a"));
        release(outbound(channel));
        channel.close();

        assertThat(log.lines()).hasSize(1);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void proxyStatsCountResponsesByClass() {
        connect(Format.DEFAULT);
        for (HttpResponseStatus status : List.of(OK, OK, NOT_MODIFIED, NOT_FOUND, SERVICE_UNAVAILABLE)) {
            channel.writeInbound(get("/a"));
            app.respond(full(status, ""));
        }
        release(outbound(channel));

        assertThat(stats.responses(1)).isZero();
        assertThat(stats.responses(2)).isEqualTo(2);
        assertThat(stats.responses(3)).isEqualTo(1);
        assertThat(stats.responses(4)).isEqualTo(1);
        assertThat(stats.responses(5)).isEqualTo(1);
        assertThat(stats.totalResponses()).isEqualTo(5);
        assertThat(log.lines()).hasSize(5);
        app.release();
        assertThat(channel.finish()).isFalse();
    }

    // ---- the exchange on the channel ----

    @Test
    void theExchangeIsOnTheChannelFromRequestToLastPartThenCleared() {
        List<Exchange> seenBySocketSide = new ArrayList<>();
        ChannelOutboundHandlerAdapter socketSide = new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                seenBySocketSide.add(Exchange.current(ctx.channel()));
                ctx.write(msg, promise);
            }
        };
        channel = Messages.channel(ticker, socketSide, new AccessLogHandler(Format.DEFAULT, stats), app);
        assertThat(Exchange.current(channel)).isNull();

        channel.writeInbound(get("/a?x=1"));
        Exchange a = Exchange.current(channel);
        assertThat(a).isNotNull().isSameAs(app.exchange());
        assertThat(a.uri()).isEqualTo("/a?x=1");
        assertThat(a.method().name()).isEqualTo("GET");
        assertThat(a.host()).isEqualTo("shop.example");
        assertThat(a.clientAddress()).isEqualTo("127.0.0.1");
        assertThat(a.keepAlive()).isTrue();

        app.respond(head(OK, "Content-Length: 1"), last("x"));
        assertThat(seenBySocketSide).as("the handlers closer to the socket still see it, the last part included")
                .containsExactly(a, a);
        assertThat(Exchange.current(channel)).as("cleared once the last part is written").isNull();

        channel.writeInbound(get("/b"));
        assertThat(Exchange.current(channel)).as("a new exchange per request").isNotSameAs(a)
                .extracting(Exchange::uri).isEqualTo("/b");
        app.respond(ok("b"));
        release(outbound(channel));
        assertThat(app.exchanges).hasSize(2).first().isSameAs(a);
        assertThat(Exchange.current(channel)).isNull();
        app.release();
        assertThat(channel.finish()).isFalse();
    }
}
