package pibl.handler;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pibl.cluster.Cluster;
import pibl.cluster.PeerAuth;
import pibl.config.BackendConfig;
import pibl.config.ClusterConfig;
import pibl.config.LogConfig;
import pibl.config.PiblConfig;
import pibl.config.RouteConfig;
import pibl.route.Router;
import pibl.route.Routes;
import pibl.runtime.ProxyStats;
import pibl.testing.ProxyFixture;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The fleet's front door with the route segment behind it: what a good mark changes, and what it does not. */
class PeerHandlerTest {
    @TempDir
    Path dir;

    @Test
    void aPeersRequestIsNotJudgedAgainByTheRouteButAnOrdinaryOneIs() throws Exception {
        Cluster cluster = cluster();
        // allow: a client must have an IP to be judged; an EmbeddedChannel's peer has none, so its own requests
        // are refused (403): exactly what must not happen to a peer's, already judged by the node that took it.
        PiblConfig config = Routes.config(ProxyFixture.config(List.of("127.0.0.1:1")),
                List.of(Routes.pool("p", "127.0.0.1:1")), RouteConfig.catchAll("p")
                        .withRateLimit(new RouteConfig.RateLimit(1, Duration.ofMinutes(1), 1)));
        Router router = Routes.router(config, System::nanoTime);
        EmbeddedChannel ch = channel(cluster, router);

        FullHttpRequest marked = get("/a");
        cluster.sign(marked, "192.0.2.7", "https");
        ch.writeInbound(marked);
        Object passed = ch.readInbound();
        assertThat(passed).as("a peer's request goes on to the cache and the owner's backends").isSameAs(marked);
        assertThat(((FullHttpRequest) passed).headers().contains(PeerAuth.HEADER)).as("its mark removed").isFalse();
        assertThat(Exchange.current(ch).client()).as("on behalf of the client the mark names")
                .isEqualTo("192.0.2.7");
        assertThat(Exchange.current(ch).scheme()).as("who asked over https, whatever the hop between nodes is")
                .isEqualTo("https");
        ReferenceCountUtil.release(passed);
        ch.close();

        ch = channel(cluster, router); // a new connection: the first exchange above is never answered
        FullHttpRequest forged = get("/a");
        forged.headers().set(PeerAuth.HEADER, "v2 10.0.1.11:8080 " + System.currentTimeMillis() / 1000
                + " 192.0.2.7 https 1a2b.1 AAAA");
        ch.writeInbound(forged);
        assertThat((Object) ch.readInbound()).as("a forged mark: judged as any client, refused here").isNull();
        HttpResponse refused = ch.readOutbound();
        assertThat(refused.status().code()).isEqualTo(403);
        ReferenceCountUtil.release(refused);
        ch.close();
    }

    @Test
    void aPeersMarkedCheckIsAnsweredHereAndAnUnmarkedOneGoesOn() throws Exception {
        Cluster cluster = cluster();
        Router router = Routes.router(ProxyFixture.config(List.of("127.0.0.1:1")), System::nanoTime);
        EmbeddedChannel ch = channel(cluster, router);
        FullHttpRequest check = get(Cluster.CHECK_PATH);
        cluster.sign(check, "-", "http");
        ch.writeInbound(check);
        assertThat((Object) ch.readInbound()).as("answered by the node itself").isNull();
        HttpResponse ok = ch.readOutbound();
        assertThat(ok.status().code()).isEqualTo(200);
        ReferenceCountUtil.release(ok);
        assertThat(check.refCnt()).isZero();
        assertThat(cluster.receivedFrom(cluster.nodes().get(0))).as("checks are not requests received").isZero();
        ch.close();

        ch = channel(cluster, router);
        FullHttpRequest plain = get(Cluster.CHECK_PATH);
        ch.writeInbound(plain);
        assertThat((Object) ch.readInbound()).as("unmarked: an ordinary request, for the backends").isSameAs(plain);
        plain.release();
        ch.close();
    }

    @Test
    void withTheHttpsRedirectOnAPeersRequestStillGetsThroughButAClientsIsRedirected() throws Exception {
        Cluster cluster = cluster();
        EmbeddedChannel ch = redirecting(cluster);
        FullHttpRequest marked = get("/a");
        cluster.sign(marked, "192.0.2.7", "http");
        ch.writeInbound(marked);
        assertThat((Object) ch.readInbound()).as("a peer's request: on to the owner's cache").isSameAs(marked);
        assertThat((Object) ch.readOutbound()).isNull();
        marked.release();
        ch.close();

        ch = redirecting(cluster);
        FullHttpRequest plain = get("/a");
        ch.writeInbound(plain);
        assertThat((Object) ch.readInbound()).isNull();
        HttpResponse redirected = ch.readOutbound();
        assertThat(redirected.status().code()).isEqualTo(308);
        assertThat(redirected.headers().get(HttpHeaderNames.LOCATION)).isEqualTo("https://shop.example/a");
        ReferenceCountUtil.release(redirected);
        ch.close();
    }

    /** This node 10.0.1.10:8080 and one peer, 10.0.1.11:8080. */
    private Cluster cluster() throws java.io.IOException {
        Path secret = Files.writeString(dir.resolve("k"), "0123456789abcdef0123\n");
        return Cluster.create(new ClusterConfig(BackendConfig.parse("10.0.1.10:8080"),
                List.of(BackendConfig.parse("10.0.1.11:8080")), secret));
    }

    /** The cleartext port with {@code tls.redirect-http} on, in cluster mode. */
    private static EmbeddedChannel redirecting(Cluster cluster) {
        return new EmbeddedChannel(new PipeliningHandler(Duration.ofSeconds(60).toNanos()),
                new AccessLogHandler(LogConfig.Format.DEFAULT, new ProxyStats()), new PeerHandler(cluster),
                new HttpsRedirectHandler(443));
    }

    private static EmbeddedChannel channel(Cluster cluster, Router router) {
        return new EmbeddedChannel(new PipeliningHandler(Duration.ofSeconds(60).toNanos()),
                new AccessLogHandler(LogConfig.Format.DEFAULT, new ProxyStats()), new PeerHandler(cluster),
                new RouteHandler(() -> router));
    }

    private static FullHttpRequest get(String uri) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        r.headers().set(HttpHeaderNames.HOST, "shop.example");
        return r;
    }
}
