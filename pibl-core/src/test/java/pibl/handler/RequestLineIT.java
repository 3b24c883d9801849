package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pibl.config.Http2Config;
import pibl.server.ProxyServer;
import pibl.testing.H2Client;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request lines and Host values as an attacker sends them, over a real socket: what must be refused is answered
 * by PIBL, never forwarded, and the connection is closed; absolute-form is accepted and forwarded in origin-form.
 */
@ExtendWith(NoLeaks.class)
class RequestLineIT {
    private TestBackend backend;
    private ProxyServer proxy;

    @BeforeEach
    void start() throws Exception {
        backend = TestBackend.start("b1").behave((ctx, req, b) -> {
            String seen = req.method() + " " + req.uri() + " Host=" + String.join(",", req.headers().getAll("Host"));
            req.release();
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer(seen, StandardCharsets.US_ASCII));
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes())
                    .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            ctx.writeAndFlush(r);
        });
        proxy = ProxyFixture.start(List.of(backend.address()));
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        backend.close();
    }

    @ParameterizedTest(name = "{2}: {1}")
    @CsvSource(delimiter = '|', value = {
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nHost: a\\r\\n\\r\\n|400|two identical Host lines",
            "GET / HTTP/1.1\\r\\nHost: a\\r\\nHost: b\\r\\n\\r\\n|400|two different Host lines",
            "GET / HTTP/1.1\\r\\nHost: a b\\r\\n\\r\\n|400|a space in Host",
            "GET / HTTP/1.1\\r\\nHost: a/b\\r\\n\\r\\n|400|a slash in Host",
            "GET / HTTP/1.1\\r\\nHost: u@a\\r\\n\\r\\n|400|user information in Host",
            "GET / HTTP/1.1\\r\\nHost: a\\u0001b\\r\\n\\r\\n|400|a control character in Host",
            "GET / HTTP/1.1\\r\\n\\r\\n|400|HTTP/1.1 without Host",
            "GET * HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|400|asterisk-form with GET",
            "GET a:80 HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|400|authority-form with GET",
            "GET /a\\u0001b HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|400|a control character in the target",
            "GET /a b HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|400|a space in the target",
            "GET / HTTP/1.10\\r\\nHost: a\\r\\n\\r\\n|400|HTTP/1.10",
            "GET / HTTP/1.1.1\\r\\nHost: a\\r\\n\\r\\n|400|HTTP/1.1.1",
            "GET / HTTX/1.1\\r\\nHost: a\\r\\n\\r\\n|400|HTTX/1.1",
            "GET / HTTP/2.0\\r\\nHost: a\\r\\n\\r\\n|505|HTTP/2.0",
            "GET / HTTP/3.1\\r\\nHost: a\\r\\n\\r\\n|505|HTTP/3.1",
            "GET ftp://a/b HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|400|an absolute-form target of another scheme"})
    void refusedAnsweredByPiblNeverForwardedAndClosed(String raw, int status, String what) throws Exception {
        String bytes = raw.replace("\\r", "\r").replace("\\n", "\n").replace("\\u0001", "\u0001");
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.send(bytes);
            RawHttp.Response r = http.read(false);
            assertThat(r.status()).as(what).isEqualTo(status);
            assertThat(r.bodyText()).as("PIBL's own short page").startsWith(status + " ");
            assertThat(http.isClosedByPeer(2000)).as("the connection is closed after a refusal").isTrue();
        }
        assertThat(backend.requestCount()).as("nothing was forwarded").isZero();
        assertThat(proxy.stats().refused(status)).as("counted in /status under refused.%d", status).isEqualTo(1);
        assertThat(proxy.stats().refusedTotal()).isEqualTo(1);
    }

    @Test
    void theHttp2PrefaceIsRefusedAs505WhenHttp2IsOff() throws Exception {
        try (ProxyServer noH2 = ProxyFixture.start(List.of(backend.address()),
                c -> c.withHttp2(new Http2Config(false, Http2Config.DEFAULT_MAX_CONCURRENT_STREAMS,
                        Http2Config.defaultMaxOpenStreams())));
             RawHttp http = new RawHttp(noH2.port())) {
            http.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
            RawHttp.Response r = http.read(false);
            assertThat(r.status()).as("http2.enabled: false, as before HTTP/2").isEqualTo(505);
            assertThat(http.isClosedByPeer(2000)).isTrue();
            assertThat(noH2.stats().refused(505)).isEqualTo(1);
        }
        assertThat(backend.requestCount()).isZero();
    }

    @Test
    void theHttp2PrefaceIsServedAsH2cWhenHttp2IsOn() throws Exception {
        try (H2Client h2 = H2Client.connect(proxy.port())) {
            FullHttpResponse r = h2.get("/a").get(5, TimeUnit.SECONDS);
            try {
                assertThat(r.status().code()).isEqualTo(200);
                assertThat(r.content().toString(StandardCharsets.US_ASCII)).isEqualTo("GET /a Host=a.example");
            } finally {
                r.release();
            }
        }
        assertThat(proxy.stats().refusedTotal()).isZero();
    }

    @Test
    void anAbsoluteFormTargetReachesTheBackendInOriginFormWithItsAuthorityAsHost() throws Exception {
        try (RawHttp http = new RawHttp(proxy.port())) {
            http.send("GET http://shop.example/a?b=1 HTTP/1.1\r\nHost: other.example\r\n\r\n");
            RawHttp.Response r = http.read(false);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).as("the Host line the client sent is ignored (RFC 9112 3.2.2)")
                    .isEqualTo("GET /a?b=1 Host=shop.example");

            http.send("OPTIONS * HTTP/1.1\r\nHost: shop.example\r\n\r\n");
            assertThat(http.read(false).bodyText()).as("asterisk-form with OPTIONS is forwarded as it is")
                    .isEqualTo("OPTIONS * Host=shop.example");

            http.send("GET / HTTP/1.2\r\nHost: shop.example\r\n\r\n");
            RawHttp.Response newerMinor = http.read(false);
            assertThat(newerMinor.status()).as("a higher minor version is served as HTTP/1.1").isEqualTo(200);
        }
        assertThat(backend.requestCount()).isEqualTo(3);
        assertThat(proxy.stats().refusedTotal()).as("what is forwarded is not refused").isZero();
    }
}
