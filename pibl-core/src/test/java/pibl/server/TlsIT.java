package pibl.server;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.Future;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.config.AdminConfig;
import pibl.config.Http2Config;
import pibl.config.PiblConfig;
import pibl.config.TlsConfig;
import pibl.testing.LogCapture;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;
import pibl.testing.TestCertificates;
import pibl.testing.TlsClient;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.nio.file.Files;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The TLS listener with real handshakes, against certificates made for each test. */
@ExtendWith(NoLeaks.class)
class TlsIT {
    @TempDir
    Path dir;

    private PiblConfig config(TestBackend backend, TlsConfig.Certificate... certificates) {
        return ProxyFixture.config(List.of(backend.address())).withTls(TlsConfig.of(List.of(certificates)).withPort(0));
    }

    private static RawHttp.Response get(SSLSocket socket, String path) throws Exception {
        return new RawHttp(socket).get(path);
    }

    @Test
    void alpnNegotiatesHttp11AndTheBackendHearsHttps() throws Exception {
        TlsConfig.Certificate site = TestCertificates.rsa(dir, "site", "site.example");
        try (TestBackend backend = TestBackend.start("b");
             ProxyServer proxy = new ProxyServer(config(backend, site)).start()) {
            assertThat(proxy.tlsProvider()).startsWith("OpenSSL");
            try (SSLSocket socket = new TlsClient().alpn("http/1.1").connect(proxy.tlsPort())) {
                assertThat(socket.getApplicationProtocol()).isEqualTo("http/1.1");
                assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
                RawHttp http = new RawHttp(socket);
                assertThat(http.get("/a").status()).isEqualTo(200);
                assertThat(http.get("/b").status()).as("keep-alive over TLS").isEqualTo(200);
            }
            try (RawHttp clear = new RawHttp(proxy.port())) {
                assertThat(clear.get("/c").status()).as("the cleartext port still serves").isEqualTo(200);
            }
            assertThat(backend.received()).extracting(r -> r.headers().get("X-Forwarded-Proto"))
                    .containsExactly("https", "https", "http");
            assertThat(proxy.stats().tlsHandshakes()).isEqualTo(1);
            assertThat(proxy.stats().tlsHandshakeFailures()).isZero();
        }
    }

    @Test
    void alpnPrefersH2AndTheConnectionSpeaksHttp2UnlessHttp2IsOff() throws Exception {
        TlsConfig.Certificate site = TestCertificates.rsa(dir, "site", "site.example");
        try (TestBackend backend = TestBackend.start("b");
             ProxyServer proxy = new ProxyServer(config(backend, site)).start();
             SSLSocket socket = new TlsClient().alpn("h2", "http/1.1").connect(proxy.tlsPort())) {
            assertThat(socket.getApplicationProtocol()).isEqualTo("h2");
            OutputStream out = socket.getOutputStream();
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // an empty SETTINGS frame
            out.flush();
            byte[] frame = socket.getInputStream().readNBytes(9);
            assertThat(frame).hasSize(9);
            assertThat(frame[3]).as("the server's first frame is its SETTINGS: the h2 pipeline is in place")
                    .isEqualTo((byte) 4);
        }
        try (TestBackend backend = TestBackend.start("b");
             ProxyServer proxy = new ProxyServer(config(backend, site).withHttp2(
                     new Http2Config(false, 100, Http2Config.defaultMaxOpenStreams()))).start();
             SSLSocket socket = new TlsClient().alpn("h2", "http/1.1").connect(proxy.tlsPort())) {
            assertThat(socket.getApplicationProtocol()).as("http2.enabled: false offers no h2").isEqualTo("http/1.1");
            assertThat(get(socket, "/").status()).isEqualTo(200);
        }
    }

    @Test
    void withoutAlpnTheClientGetsHttp11AndTls12Works() throws Exception {
        TlsConfig.Certificate site = TestCertificates.ec(dir, "site", "site.example");
        try (TestBackend backend = TestBackend.start("b");
             ProxyServer proxy = new ProxyServer(config(backend, site)).start();
             SSLSocket socket = new TlsClient().protocols("TLSv1.2").connect(proxy.tlsPort())) {
            assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.2");
            assertThat(socket.getSession().getCipherSuite())
                    .matches("TLS_ECDHE_ECDSA_WITH_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)");
            assertThat(get(socket, "/").status()).isEqualTo(200);
        }
    }

    @Test
    void sniPicksTheCertificateBySanNamesExactAndWildcard() throws Exception {
        TlsConfig.Certificate first = TestCertificates.rsa(dir, "default", "default.example");
        TlsConfig.Certificate shop = TestCertificates.ec(dir, "shop", "shop.example", "*.shop.example");
        TlsConfig.Certificate api = TestCertificates.rsa(dir, "api", "api.shop.example");
        try (TestBackend backend = TestBackend.start("b");
             ProxyServer proxy = new ProxyServer(config(backend, first, shop, api)).start()) {
            int port = proxy.tlsPort();
            assertThat(servedTo(port, "shop.example")).isEqualTo("shop.example");
            assertThat(servedTo(port, "www.shop.example")).as("a wildcard").isEqualTo("shop.example");
            assertThat(servedTo(port, "api.shop.example")).as("exact wins over wildcard").isEqualTo("api.shop.example");
            assertThat(servedTo(port, "a.b.shop.example")).as("a wildcard matches one label").isEqualTo("default.example");
            assertThat(servedTo(port, "other.example")).isEqualTo("default.example");
            assertThat(servedTo(port, null)).as("no SNI").isEqualTo("default.example");
        }
    }

    private static String servedTo(int port, String sni) throws Exception {
        try (SSLSocket socket = new TlsClient().sni(sni).connect(port)) {
            return TlsClient.peerName(socket);
        }
    }

    @Test
    void tls11IsRefusedAndCounted() throws Exception {
        TlsConfig.Certificate site = TestCertificates.rsa(dir, "site", "site.example");
        try (TestBackend backend = TestBackend.start("b");
             ProxyServer proxy = new ProxyServer(config(backend, site)).start()) {
            // The JDK's client will not offer TLS 1.1 at all; BoringSSL's still can.
            assertThat(handshakeWith(proxy.tlsPort(), "TLSv1.1").cause()).isNotNull();
            assertThat(handshakeWith(proxy.tlsPort(), "TLSv1.2").isSuccess()).as("the same client on 1.2").isTrue();
            assertThat(proxy.stats().tlsHandshakeFailures()).isEqualTo(1);
            assertThat(proxy.stats().tlsHandshakes()).isEqualTo(1);
        }
    }

    private static Future<Channel> handshakeWith(int port, String protocol) throws Exception {
        SslContext client = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL).protocols(protocol)
                .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(client.newHandler(c.alloc(), "127.0.0.1", port));
                        }
                    }).connect("127.0.0.1", port).sync().channel();
            Future<Channel> done = ch.pipeline().get(SslHandler.class).handshakeFuture().await();
            ch.close().sync();
            return done;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void cleartextOnTheTlsPortIsClosedCountedAndNeverAStackTrace() throws Exception {
        TlsConfig.Certificate site = TestCertificates.rsa(dir, "site", "site.example");
        try (TestBackend backend = TestBackend.start("b");
             ProxyServer proxy = new ProxyServer(config(backend, site)
                     .withAdmin(new AdminConfig(true, "127.0.0.1", 0))).start();
             LogCapture netty = new LogCapture("io.netty", Level.WARN);
             LogCapture pibl = new LogCapture("pibl", Level.INFO);
             RawHttp http = new RawHttp(proxy.tlsPort(), 5_000);
             RawHttp garbage = new RawHttp(proxy.tlsPort(), 5_000)) {
            http.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(http.isClosedByPeer(5_000)).isTrue();
            // A handshake record holding a ClientHello of four bytes of nonsense.
            garbage.send(new byte[] {0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, -1, -1, -1, -1});
            byte[] answer = garbage.input().readAllBytes(); // to the end of the stream: it was closed
            assertThat(answer.length == 0 || answer[0] == 0x15).as("nothing, or a TLS alert").isTrue();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (proxy.stats().tlsHandshakeFailures() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(proxy.stats().tlsHandshakeFailures()).isEqualTo(2);
            assertThat(backend.requestCount()).isZero();
            assertThat(netty.messages()).as("Netty warns of nothing").isEmpty();
            assertThat(pibl.messages()).as("at most a DEBUG line each").isEmpty();
            try (RawHttp admin = new RawHttp(proxy.adminPort())) {
                assertThat(admin.get("/status").bodyText().replaceAll("\\s", ""))
                        .contains("\"tls\":{\"handshakes\":0,\"handshakeFailures\":2}");
            }
        }
    }

    @Test
    void theCacheKeysHttpsApartFromHttp() throws Exception {
        TlsConfig.Certificate site = TestCertificates.rsa(dir, "site", "site.example");
        try (TestBackend backend = TestBackend.start("b")) {
            backend.behave((ctx, req, b) -> {
                req.release();
                var r = b.named(HttpResponseStatus.OK, "from " + req.headers().get("X-Forwarded-Proto"));
                r.headers().set(HttpHeaderNames.CACHE_CONTROL, "max-age=60");
                ctx.writeAndFlush(r);
            });
            PiblConfig config = ProxyFixture.withCache(config(backend, site), dir.resolve("cache"), Duration.ZERO);
            try (ProxyServer proxy = new ProxyServer(config).start();
                 SSLSocket socket = new TlsClient().connect(proxy.tlsPort());
                 RawHttp clear = new RawHttp(proxy.port())) {
                RawHttp tls = new RawHttp(socket);
                assertThat(tls.get("/page").header("X-Cache")).isEqualTo("MISS");
                awaitEntries(proxy, 1);
                RawHttp.Response hit = tls.get("/page");
                assertThat(hit.header("X-Cache")).isEqualTo("HIT");
                assertThat(hit.bodyText()).isEqualTo("from https");
                RawHttp.Response plain = clear.get("/page");
                assertThat(plain.header("X-Cache")).as("http://host/page is another resource").isEqualTo("MISS");
                assertThat(plain.bodyText()).isEqualTo("from http");
            }
        }
    }

    private static void awaitEntries(ProxyServer proxy, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (proxy.cache().store().entryCount() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    @Test
    void redirectHttpAnswers308ToTheTlsPortAndHstsIsOnHttpsResponsesOnly() throws Exception {
        TlsConfig.Certificate site = TestCertificates.rsa(dir, "site", "site.example");
        try (TestBackend backend = TestBackend.start("b")) {
            PiblConfig base = config(backend, site);
            PiblConfig config = base.withTls(base.tls().withRedirectHttp(true).withHsts(Duration.ofDays(365)));
            try (ProxyServer proxy = new ProxyServer(config).start();
                 RawHttp clear = new RawHttp(proxy.port());
                 SSLSocket socket = new TlsClient().connect(proxy.tlsPort())) {
                clear.send("POST /a/b?c=1 HTTP/1.1\r\nHost: shop.example:8080\r\nContent-Length: 2\r\n\r\nhi");
                RawHttp.Response redirect = clear.read(false);
                assertThat(redirect.status()).isEqualTo(308);
                assertThat(redirect.header("Location"))
                        .isEqualTo("https://shop.example:" + proxy.tlsPort() + "/a/b?c=1");
                assertThat(redirect.header("Strict-Transport-Security")).as("never over http (RFC 6797 7.2)").isNull();
                clear.send("GET /x HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
                assertThat(clear.read(false).header("Location")).isEqualTo("https://[::1]:" + proxy.tlsPort() + "/x");

                RawHttp.Response https = get(socket, "/a");
                assertThat(https.status()).isEqualTo(200);
                assertThat(https.header("Strict-Transport-Security")).isEqualTo("max-age=31536000");
                assertThat(backend.received()).extracting(r -> r.uri()).containsExactly("/a");
            }
        }
    }

    @Test
    void reloadSwapsCertificatesForNewHandshakesAndKeepsOpenConnections() throws Exception {
        TlsConfig.Certificate files = TestCertificates.rsa(dir, "site", "old.example");
        try (TestBackend backend = TestBackend.start("b");
             ProxyServer proxy = new ProxyServer(config(backend, files)).start();
             LogCapture log = new LogCapture("pibl.server", Level.INFO)) {
            SSLSocket open = new TlsClient().connect(proxy.tlsPort());
            RawHttp kept = new RawHttp(open);
            assertThat(kept.get("/1").status()).isEqualTo(200);

            TlsConfig.Certificate renewed = TestCertificates.rsa(dir, "renewed", "new.example");
            Files.move(renewed.cert(), files.cert(), StandardCopyOption.REPLACE_EXISTING);
            Files.move(renewed.key(), files.key(), StandardCopyOption.REPLACE_EXISTING);
            proxy.reload(proxy.config());

            assertThat(servedTo(proxy.tlsPort(), null)).isEqualTo("new.example");
            assertThat(kept.get("/2").status()).as("the open connection goes on").isEqualTo(200);
            assertThat(TlsClient.peerName(open)).isEqualTo("old.example");

            Files.writeString(files.key(), "truncated\n");
            log.clear();
            proxy.reload(proxy.config());
            assertThat(log.about("TLS certificates refused")).singleElement().asString()
                    .startsWith("ERROR ").contains(files.key().toString());
            assertThat(servedTo(proxy.tlsPort(), null)).as("the old ones stay").isEqualTo("new.example");
            assertThat(kept.get("/3").status()).isEqualTo(200);
            open.close();
        }
    }

    @Test
    void sessionsResumeByTicketUntilTheKeyIsRotatedTwice() throws Exception {
        TlsConfig.Certificate site = TestCertificates.rsa(dir, "site", "site.example");
        try (TestBackend backend = TestBackend.start("b");
             ProxyServer proxy = new ProxyServer(config(backend, site)).start()) {
            OpenSslSessionContext server = (OpenSslSessionContext) proxy.tlsContexts().current().contexts().get(0)
                    .sessionContext();
            SSLContext client = TlsClient.trustingContext();
            TlsClient tls12 = new TlsClient().protocols("TLSv1.2").context(client);
            tls12.connect(proxy.tlsPort()).close();
            tls12.connect(proxy.tlsPort()).close();
            assertThat(resumed(server)).as("the second connection resumed").isEqualTo(1);

            proxy.tlsContexts().rotateTicketKeys();
            tls12.connect(proxy.tlsPort()).close();
            assertThat(resumed(server)).as("the previous key still decrypts (and the ticket is renewed)").isEqualTo(2);

            proxy.tlsContexts().rotateTicketKeys();
            proxy.tlsContexts().rotateTicketKeys();
            tls12.connect(proxy.tlsPort()).close();
            assertThat(resumed(server)).as("two rotations later the ticket is dead").isEqualTo(2);
        }
    }

    /** Sessions resumed by a ticket under the current key, or under the previous one (then renewed). */
    private static long resumed(OpenSslSessionContext server) {
        return server.stats().ticketKeyResume() + server.stats().ticketKeyRenew();
    }

    @Test
    void theJdkProviderServesWhenForced() throws Exception {
        TlsConfig.Certificate site = TestCertificates.rsa(dir, "site", "site.example");
        TlsConfig.Certificate other = TestCertificates.ec(dir, "other", "other.example");
        System.setProperty("pibl.tls.provider", "jdk");
        try (TestBackend backend = TestBackend.start("b");
             ProxyServer proxy = new ProxyServer(config(backend, site, other)).start()) {
            assertThat(proxy.tlsProvider()).startsWith("JDK");
            try (SSLSocket socket = new TlsClient().alpn("http/1.1").sni("other.example").connect(proxy.tlsPort())) {
                assertThat(socket.getApplicationProtocol()).isEqualTo("http/1.1");
                assertThat(TlsClient.peerName(socket)).isEqualTo("other.example");
                assertThat(get(socket, "/").status()).isEqualTo(200);
            }
            assertThat(backend.received().get(0).headers().get("X-Forwarded-Proto")).isEqualTo("https");
        } finally {
            System.clearProperty("pibl.tls.provider");
        }
    }

    @Test
    void anUnusableFileFailsTheStartBeforeAnythingListens() {
        TlsConfig.Certificate a = TestCertificates.rsa(dir, "a", "a.example");
        TlsConfig.Certificate b = TestCertificates.rsa(dir, "b", "b.example");
        PiblConfig config = ProxyFixture.config(List.of("127.0.0.1:9"))
                .withAdmin(new AdminConfig(false, "127.0.0.1", 0))
                .withTls(TlsConfig.of(List.of(new TlsConfig.Certificate(a.cert(), b.key()))).withPort(0));
        assertThatThrownBy(() -> new ProxyServer(config).start())
                .hasMessageContaining("does not match the certificate in " + a.cert());
    }
}
