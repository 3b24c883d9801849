package pibl.admin;

import pibl.testing.NoLeaks;
import io.netty.channel.EventLoopGroup;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.config.AdminConfig;
import pibl.lb.Backend;
import pibl.runtime.Transport;
import pibl.testing.RawHttp;

import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static pibl.admin.FakeView.backend;
import static pibl.admin.FakeView.served;

/** The admin listener as an HTTP server: routes, methods, HEAD, keep-alive, the HTML page, start and stop. */
@ExtendWith(NoLeaks.class)
class AdminHttpIT {
    @Test
    void thePageShowsEachBackendWithAHealthBadgeAndRefreshesItself() throws Exception {
        Backend cooling = backend(9002);
        for (int i = 0; i < 3; i++) {
            cooling.recordFailure();
        }
        FakeView view = new FakeView(served(backend(9001), 12, 0), cooling);
        view.stats.connectionOpened();
        try (AdminFixture admin = AdminFixture.start(view)) {
            RawHttp.Response r = admin.get("/");

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("content-type")).isEqualTo("text/html; charset=utf-8");
            assertThat(r.header("cache-control")).isEqualTo("no-store");
            assertThat(r.bodyText())
                    .startsWith("<!DOCTYPE html>")
                    .contains("<meta http-equiv=\"refresh\" content=\"2\">")
                    .contains("<td>127.0.0.1:9001</td><td>default</td><td><span class=\"badge up\">up</span>")
                    .contains("<td>127.0.0.1:9002</td><td>default</td><td><span class=\"badge cooldown\">cooldown</span>")
                    .contains("<dt>Open</dt><dd>1</dd>")
                    .contains("<dt>Cache</dt><dd>disabled</dd>")
                    .contains("version 9.9.9-test");
            assertThat(r.bodyText()).as("no external assets or scripts: works on a host without internet access")
                    .doesNotContain("http://", "https://", "<script", "src=");
        }
    }

    @Test
    void theHistoryIsServedAsJson() throws Exception {
        FakeView view = new FakeView(backend(9001));
        try (AdminFixture admin = AdminFixture.start(view)) {
            RawHttp.Response r = admin.get("/status/history");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Content-Type")).startsWith("application/json");
            assertThat(r.bodyText()).startsWith("{\"seconds\":[").contains("\"p99Ms\":[").contains("\"backends\":{");
        }
    }

    @Test
    void faviconIsNoContentAndUnknownPathsAreNotFound() throws Exception {
        try (AdminFixture admin = AdminFixture.start(new FakeView(backend(9001)))) {
            RawHttp.Response favicon = admin.get("/favicon.ico");
            assertThat(favicon.status()).isEqualTo(204);
            assertThat(favicon.body()).isEmpty();
            assertThat(favicon.header("content-length")).as("a 204 has no Content-Length").isNull();

            RawHttp.Response missing = admin.get("/nope");
            assertThat(missing.status()).isEqualTo(404);
            assertThat(missing.header("cache-control")).isEqualTo("no-store");
            assertThat(admin.get("/status/extra").status()).isEqualTo(404);
        }
    }

    @Test
    void aPageThatFailsToRenderIsA500AndTheListenerStaysUp() throws Exception {
        FakeView view = new FakeView(backend(9001));
        try (AdminFixture admin = AdminFixture.start(view)) {
            view.backends = null; // every page that lists backends now throws while rendering
            for (String path : List.of("/status", "/metrics", "/")) {
                RawHttp.Response r = admin.get(path);
                assertThat(r.status()).as(path).isEqualTo(500);
                assertThat(r.header("Connection")).isEqualTo("close");
                assertThat(r.bodyText()).contains("internal error rendering " + path);
            }
            view.backends = List.of(backend(9001));
            assertThat(admin.get("/status").status()).isEqualTo(200);
        }
    }

    @Test
    void otherMethodsAreNotAllowed() throws Exception {
        try (AdminFixture admin = AdminFixture.start(new FakeView(backend(9001)));
             RawHttp http = new RawHttp(admin.port(), 5000)) {
            for (String method : new String[] {"POST", "PUT", "DELETE", "PURGE"}) {
                http.send(method + " /status HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}");
                RawHttp.Response r = http.read(false);
                assertThat(r.status()).as(method).isEqualTo(405);
                assertThat(r.header("allow")).isEqualTo("GET, HEAD");
            }
        }
    }

    @Test
    void headAnswersWithGetsHeadersAndNoBody() throws Exception {
        try (AdminFixture admin = AdminFixture.start(new FakeView(backend(9001)));
             RawHttp http = new RawHttp(admin.port(), 5000)) {
            RawHttp.Response get = http.get("/");
            http.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttp.Response head = http.read(true);

            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-type")).isEqualTo(get.header("content-type"));
            assertThat(Integer.parseInt(head.header("content-length"))).isCloseTo(get.body().length,
                    org.assertj.core.api.Assertions.within(16));
            assertThat(http.get("/favicon.ico").status())
                    .as("the connection goes on: no body bytes followed the HEAD's headers").isEqualTo(204);
        }
    }

    @Test
    void theQueryStringIsIgnoredAndOneConnectionServesMany() throws Exception {
        try (AdminFixture admin = AdminFixture.start(new FakeView(backend(9001)));
             RawHttp http = new RawHttp(admin.port(), 5000)) {
            assertThat(http.get("/status?pretty=1").status()).isEqualTo(200);
            assertThat(http.get("/metrics").status()).isEqualTo(200);
            assertThat(http.get("/").status()).isEqualTo(200);

            RawHttp.Response last = http.get("/status", "Connection: close");
            assertThat(last.status()).isEqualTo(200);
            assertThat(last.header("connection")).isEqualTo("close");
            assertThat(http.isClosedByPeer(2000)).as("Connection: close is honoured").isTrue();
        }
    }

    @Test
    void http10ClosesAfterTheResponse() throws Exception {
        try (AdminFixture admin = AdminFixture.start(new FakeView(backend(9001)));
             RawHttp http = new RawHttp(admin.port(), 5000)) {
            http.send("GET /status HTTP/1.0\r\n\r\n");
            assertThat(http.read(false).status()).isEqualTo(200);
            assertThat(http.isClosedByPeer(2000)).isTrue();
        }
    }

    @Test
    void garbageIsABadRequestAndTheConnectionCloses() throws Exception {
        try (AdminFixture admin = AdminFixture.start(new FakeView(backend(9001)));
             RawHttp http = new RawHttp(admin.port(), 5000)) {
            http.send("GET /status HTTP/1.1\r\nHost: a\r\nBad Header Line\r\n\r\n");
            assertThat(http.read(false).status()).isEqualTo(400);
            assertThat(http.isClosedByPeer(2000)).isTrue();
        }
    }

    @Test
    void disabledBindsNothing() throws Exception {
        Transport transport = Transport.best();
        EventLoopGroup group = transport.newGroup(1);
        try (AdminServer admin = new AdminServer(new AdminConfig(false, "127.0.0.1", 0),
                new FakeView(backend(9001)), group, transport.serverChannel()).start()) {
            assertThat(admin.port()).isEqualTo(-1);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void aTakenPortFailsTheStart() throws Exception {
        Transport transport = Transport.best();
        EventLoopGroup group = transport.newGroup(1);
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            AdminServer admin = new AdminServer(new AdminConfig(true, "127.0.0.1", taken.getLocalPort()),
                    new FakeView(backend(9001)), group, transport.serverChannel());
            assertThatThrownBy(admin::start).hasMessageContaining("in use");
            assertThat(admin.port()).isEqualTo(-1);
            admin.close();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void closeStopsListening() throws Exception {
        int port;
        try (AdminFixture admin = AdminFixture.start(new FakeView(backend(9001)))) {
            port = admin.port();
            assertThat(admin.get("/status").status()).isEqualTo(200);
        }
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close())
                .isInstanceOf(java.net.ConnectException.class);
    }
}
