package pibl.upstream;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.config.BackendConfig;
import pibl.config.HealthCheckConfig;
import pibl.config.PiblConfig;
import pibl.config.TimeoutConfig;
import pibl.lb.Backend;
import pibl.server.ProxyServer;
import pibl.testing.Eventually;
import pibl.testing.LogCapture;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;
import pibl.testing.TestCertificates;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Backends over TLS with real handshakes: an HTTPS origin on loopback (Netty's server context, the JDK provider)
 * whose certificates are made for each test, some issued by a test CA, and PIBL in front of it speaking TLS with
 * {@code { address, tls: true, sni, verify, ca }}.
 */
@ExtendWith(NoLeaks.class)
class TlsBackendIT {
    @TempDir
    Path dir;

    private static BackendConfig.Tls trusting(Path ca) {
        return new BackendConfig.Tls(true, null, true, ca);
    }

    private static BackendConfig backend(String host, TestBackend origin, BackendConfig.Tls tls) {
        return new BackendConfig(host, origin.port(), 1, tls);
    }

    private static PiblConfig config(BackendConfig... backends) {
        return ProxyFixture.config(List.of("127.0.0.1:1")).withBackends(List.of(backends));
    }

    private static RawHttp.Response get(ProxyServer proxy, String path) throws Exception {
        try (RawHttp http = new RawHttp(proxy.port())) {
            return http.get(path);
        }
    }

    @Test
    void aCertificateIssuedByTheConfiguredCaForTheBackendsIpIsTrusted() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority(dir, "ca");
        try (TestBackend origin = TestBackend.startTls("o", TestCertificates.issued(dir, "o", ca, "127.0.0.1"));
             ProxyServer proxy = new ProxyServer(config(backend("127.0.0.1", origin, trusting(ca.cert())))).start()) {
            RawHttp.Response r = get(proxy, "/a");

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("o");
            assertThat(origin.handshakes()).isEqualTo(1);
            assertThat(origin.serverNames()).as("an IP literal without sni: no SNI, the IP is what is checked")
                    .containsExactly(TestBackend.NO_SNI);
            assertThat(origin.received()).extracting(TestBackend.Received::uri).containsExactly("/a");
        }
    }

    @Test
    void aCertificateFromAnotherCaIs502AndTheLogSaysWhy() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority(dir, "ca");
        TestCertificates.Authority other = TestCertificates.authority(dir, "other-ca");
        try (TestBackend origin = TestBackend.startTls("o", TestCertificates.issued(dir, "o", other, "127.0.0.1"));
             ProxyServer proxy = new ProxyServer(config(backend("127.0.0.1", origin, trusting(ca.cert())))).start();
             LogCapture log = new LogCapture("pibl", Level.INFO)) {
            RawHttp.Response r = get(proxy, "/a");

            assertThat(r.status()).isEqualTo(502);
            assertThat(r.bodyText()).as("the client gets a status, never the cause")
                    .doesNotContain("Exception", "PKIX");
            assertThat(origin.requestCount()).isZero();
            assertThat(log.about("TLS handshake failed for GET /a")).singleElement().asString()
                    .contains("certificate verify failed: not issued by a CA in " + ca.cert())
                    .doesNotContain("\tat ");
            Backend b = proxy.backends().get(0);
            assertThat(b.failures()).as("passive health counts a failed handshake").isEqualTo(1);
        }
    }

    @Test
    void withoutCaTheJdksTrustStoreDecidesAndATestCaIsNotInIt() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority(dir, "ca");
        try (TestBackend origin = TestBackend.startTls("o", TestCertificates.issued(dir, "o", ca, "localhost"));
             ProxyServer proxy = new ProxyServer(config(backend("localhost", origin, BackendConfig.Tls.ON))).start();
             LogCapture log = new LogCapture("pibl", Level.INFO)) {
            assertThat(get(proxy, "/a").status()).isEqualTo(502);

            assertThat(log.about("TLS handshake failed for GET /a")).singleElement().asString()
                    .contains("certificate verify failed: not issued by a CA of the JDK's trust store");
        }
    }

    @Test
    void aCertificateForAnotherNameIs502HostnameMismatch() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority(dir, "ca");
        try (TestBackend origin = TestBackend.startTls("o", TestCertificates.issued(dir, "o", ca, "other.example"));
             ProxyServer proxy = new ProxyServer(config(backend("localhost", origin, trusting(ca.cert())))).start();
             LogCapture log = new LogCapture("pibl", Level.INFO)) {
            assertThat(get(proxy, "/a").status()).isEqualTo(502);

            assertThat(origin.serverNames()).as("sni defaults to the host").containsExactly("localhost");
            assertThat(log.about("TLS handshake failed for GET /a")).singleElement().asString()
                    .contains("hostname mismatch: the certificate does not name localhost");
        }
    }

    @Test
    void aHandshakeThatNeverCompletesIs504WithinTheConnectTimeout() throws Exception {
        // Accepts TCP (the kernel's backlog does) and never says a word.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             ProxyServer proxy = new ProxyServer(config(new BackendConfig("127.0.0.1", silent.getLocalPort(), 1,
                     BackendConfig.Tls.ON)).withTimeouts(new TimeoutConfig(Duration.ofMillis(400),
                     Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(2))))
                     .start();
             LogCapture log = new LogCapture("pibl", Level.INFO)) {
            long start = System.nanoTime();
            RawHttp.Response r = get(proxy, "/a");
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(r.status()).isEqualTo(504);
            assertThat(millis).as("bounded by timeouts.connect (400 ms), not by the 5 s backend-response one")
                    .isBetween(350L, 2_000L);
            assertThat(log.about("connect failed for GET /a")).singleElement().asString()
                    .contains("TLS handshake not done within 400 ms");
        }
    }

    @Test
    void verifyFalseAcceptsACertificateNobodyIssued() throws Exception {
        try (TestBackend origin = TestBackend.startTls("o", TestCertificates.rsa(dir, "self", "other.example"));
             ProxyServer proxy = new ProxyServer(config(backend("localhost", origin,
                     new BackendConfig.Tls(true, null, false, null)))).start()) {
            assertThat(get(proxy, "/a").status()).isEqualTo(200);
            assertThat(origin.handshakes()).isEqualTo(1);
        }
    }

    @Test
    void theConfiguredSniIsSentAndIsTheNameChecked() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority(dir, "ca");
        try (TestBackend origin = TestBackend.startTls("o", TestCertificates.issued(dir, "o", ca, "shop.example"));
             ProxyServer proxy = new ProxyServer(config(backend("127.0.0.1", origin,
                     new BackendConfig.Tls(true, "shop.example", true, ca.cert())))).start()) {
            assertThat(get(proxy, "/a").status()).as("the certificate names shop.example, not 127.0.0.1")
                    .isEqualTo(200);
            assertThat(origin.serverNames()).containsExactly("shop.example");
        }
    }

    @Test
    void aKeptAliveTlsConnectionIsReusedFromThePool() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority(dir, "ca");
        try (TestBackend origin = TestBackend.startTls("o", TestCertificates.issued(dir, "o", ca, "localhost"));
             ProxyServer proxy = new ProxyServer(config(backend("localhost", origin, trusting(ca.cert())))).start();
             RawHttp http = new RawHttp(proxy.port())) {
            // One client connection: its requests run on one event loop, whose pool the connection returns to.
            assertThat(http.get("/a").status()).isEqualTo(200);
            assertThat(http.get("/b").status()).isEqualTo(200);

            assertThat(origin.handshakes()).as("one handshake for two sequential requests").isEqualTo(1);
            assertThat(origin.connections()).isEqualTo(1);
            assertThat(origin.received()).extracting(TestBackend.Received::uri).containsExactly("/a", "/b");
        }
    }

    @Test
    void stoppingEndsPooledTlsConnectionsWithCloseNotify() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority(dir, "ca");
        try (TestBackend origin = TestBackend.startTls("o", TestCertificates.issued(dir, "o", ca, "localhost"))) {
            ProxyServer proxy = new ProxyServer(config(backend("localhost", origin, trusting(ca.cert())))).start();
            try (RawHttp http = new RawHttp(proxy.port())) {
                assertThat(http.get("/a").status()).isEqualTo(200); // its backend connection goes back to the pool
            }
            proxy.close();

            assertThat(Eventually.atLeast(1, Duration.ofSeconds(5), origin::closeNotifies))
                    .as("the pooled connection ended with close_notify, not cut by the event loop's end")
                    .isEqualTo(1);
        }
    }

    @Test
    void aFailedHandshakeMovesTheRequestToTheNextBackend() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority(dir, "ca");
        try (TestBackend untrusted = TestBackend.startTls("u", TestCertificates.rsa(dir, "self", "localhost"));
             TestBackend good = TestBackend.startTls("g", TestCertificates.issued(dir, "g", ca, "localhost"));
             ProxyServer proxy = new ProxyServer(config(backend("localhost", untrusted, trusting(ca.cert())),
                     backend("localhost", good, trusting(ca.cert())))).start()) {
            RawHttp.Response r = get(proxy, "/a");

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("g");
            assertThat(untrusted.requestCount()).isZero();
            assertThat(proxy.backends().get(0).failures()).isEqualTo(1);
            assertThat(proxy.backends().get(1).failures()).isZero();
        }
    }

    @Test
    void healthChecksGoOverTlsAndBringABackendUpOnceItsCertificateIsTrusted() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority(dir, "ca");
        HealthCheckConfig checks = new HealthCheckConfig(true, "/health", Duration.ofMillis(100),
                Duration.ofMillis(500), 1, 1, 3, Duration.ofSeconds(10));
        try (TestBackend origin = TestBackend.startTls("o", TestCertificates.rsa(dir, "self", "localhost"));
             ProxyServer proxy = new ProxyServer(config(backend("localhost", origin, trusting(ca.cert())))
                     .withHealthCheck(checks)).start();
             LogCapture log = new LogCapture("pibl.lb", Level.INFO)) {
            Backend b = proxy.backends().get(0);
            await(() -> b.isActivelyDown(), "a check that refuses the certificate takes it down");
            assertThat(origin.requestCount()).isZero();

            origin.serve(TestCertificates.issued(dir, "o", ca, "localhost"));
            await(() -> !b.isActivelyDown(), "checks over TLS with the trusted certificate bring it up");

            assertThat(log.about("DOWN")).singleElement().asString()
                    .contains("TLS handshake failed: certificate verify failed");
            assertThat(origin.received()).extracting(TestBackend.Received::uri).contains("/health");
            assertThat(origin.serverNames()).as("the checks send the backend's SNI as its requests do")
                    .containsOnly("localhost");
        }
    }

    @Test
    void aReloadThatChangesTheTlsSettingsReplacesTheBackend() throws Exception {
        TestCertificates.Authority ca = TestCertificates.authority(dir, "ca");
        TestCertificates.Authority other = TestCertificates.authority(dir, "other-ca");
        try (TestBackend origin = TestBackend.startTls("o", TestCertificates.issued(dir, "o", ca, "localhost"));
             ProxyServer proxy = new ProxyServer(config(backend("localhost", origin,
                     new BackendConfig.Tls(true, null, false, null)))).start();
             RawHttp http = new RawHttp(proxy.port())) {
            assertThat(http.get("/a").status()).isEqualTo(200);
            Backend before = proxy.backends().get(0);

            proxy.reload(proxy.config().withBackends(List.of(backend("localhost", origin, trusting(ca.cert())))));
            assertThat(http.get("/b").status()).isEqualTo(200);
            Backend verified = proxy.backends().get(0);
            assertThat(verified).as("verify and ca changed: another backend").isNotSameAs(before);
            assertThat(origin.handshakes()).as("its connections are its own, not the old one's pooled").isEqualTo(2);

            proxy.reload(proxy.config().withBackends(List.of(new BackendConfig("localhost", origin.port(), 2,
                    trusting(ca.cert())))));
            assertThat(proxy.backends().get(0)).as("another weight, the same TLS settings: the same backend")
                    .isSameAs(verified);
            assertThat(http.get("/c").status()).isEqualTo(200);
            assertThat(origin.handshakes()).as("and its pooled connection").isEqualTo(2);

            proxy.reload(proxy.config().withBackends(List.of(backend("localhost", origin, trusting(other.cert())))));
            assertThat(http.get("/d").status()).as("now trusting another CA only").isEqualTo(502);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within 10 s: " + what);
            }
            Thread.sleep(20);
        }
    }
}
