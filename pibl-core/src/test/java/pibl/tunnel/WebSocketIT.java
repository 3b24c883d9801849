package pibl.tunnel;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.config.PiblConfig;
import pibl.handler.AccessLines;
import pibl.config.TimeoutConfig;
import pibl.server.ProxyServer;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;
import pibl.testing.WsBackend;
import pibl.testing.WsClient;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/** WebSocket through a real PIBL to a real WebSocket backend: the tunnel after the 101, and what stays HTTP. */
@ExtendWith(NoLeaks.class)
class WebSocketIT {
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    private final List<AutoCloseable> closers = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closers.size() - 1; i >= 0; i--) {
            closers.get(i).close();
        }
    }

    private <T extends AutoCloseable> T keep(T c) {
        closers.add(c);
        return c;
    }

    private WsBackend backend() throws Exception {
        return keep(WsBackend.start());
    }

    private ProxyServer proxy(String backend, UnaryOperator<PiblConfig> tweak) throws Exception {
        ProxyServer proxy = ProxyFixture.start(List.of(backend), tweak);
        closers.add(proxy::close);
        return proxy;
    }

    private static String handshake(String path, String... extra) {
        StringBuilder b = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: test.local\r\n")
                .append("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
                .append("Sec-WebSocket-Key: ").append(KEY).append("\r\n");
        for (String e : extra) {
            b.append(e).append("\r\n");
        }
        return b.append("\r\n").toString();
    }

    /** A client's text frame (masked, as RFC 6455 5.3 requires of a client). */
    private static byte[] maskedText(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        byte[] mask = {1, 2, 3, 4};
        byte[] frame = new byte[6 + payload.length];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | payload.length);
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
        }
        return frame;
    }

    /** Reads one unmasked server frame of up to 125 bytes: its payload as text. */
    private static String readText(InputStream in) throws Exception {
        int first = in.read();
        int length = in.read() & 0x7f;
        assertThat(first).as("a final text frame").isEqualTo(0x81);
        return new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    private static TimeoutConfig timeouts(Duration clientIdle, Duration drain) {
        return new TimeoutConfig(Duration.ofSeconds(2), Duration.ofSeconds(5), clientIdle, Duration.ofSeconds(10),
                drain);
    }

    private static boolean eventually(BooleanSupplier condition, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(10);
        }
        return condition.getAsBoolean();
    }

    @Test
    void echoesTextBinaryAndPingThenClosesWithTheHandshakeAndLogsOnce() throws Exception {
        WsBackend backend = backend();
        ProxyServer proxy = proxy(backend.address(), c -> c);
        try (AccessLines access = new AccessLines()) {
            WsClient client = keep(WsClient.open(proxy.port(), "/ws"));
            assertThat(proxy.stats().openTunnels()).as("the upgraded connection is counted open").isEqualTo(1);

            client.send(new TextWebSocketFrame("hi there"));
            WsClient.Frame text = client.next(2000);
            assertThat(text.type()).isEqualTo("TextWebSocketFrame");
            assertThat(text.text()).isEqualTo("hi there");

            client.send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {0, 1, 2, (byte) 255})));
            WsClient.Frame binary = client.next(2000);
            assertThat(binary.type()).isEqualTo("BinaryWebSocketFrame");
            assertThat(binary.payload()).containsExactly(0, 1, 2, 255);

            client.send(new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {7})));
            WsClient.Frame pong = client.next(2000);
            assertThat(pong.type()).isEqualTo("PongWebSocketFrame");
            assertThat(pong.payload()).containsExactly(7);
            assertThat(access.lines()).as("nothing is logged while the tunnel is open").isEmpty();

            client.sendClose();
            WsClient.Frame close = client.next(2000);
            assertThat(close.type()).as("the backend answers the close handshake").isEqualTo("CloseWebSocketFrame");
            assertThat(client.closedWithin(2000)).as("the backend's close ends the client connection").isTrue();
            assertThat(eventually(() -> backend.openConnections() == 0, 2000)).isTrue();
            assertThat(eventually(() -> proxy.stats().openTunnels() == 0, 2000)).isTrue();
            assertThat(proxy.stats().totalTunnels()).isEqualTo(1);
            assertThat(eventually(() -> access.lines().size() == 1, 2000)).as("one line, at the close").isTrue();
            assertThat(access.lines().get(0)).contains("\"GET /ws HTTP/1.1\" 101 ").containsPattern(" up=\\d+$");
        }
    }

    @Test
    void aFrameTheBackendSendsWithItsSwitchArrives() throws Exception {
        WsBackend backend = backend();
        ProxyServer proxy = proxy(backend.address(), c -> c);
        WsClient client = keep(WsClient.open(proxy.port(), "/greet"));
        WsClient.Frame hello = client.next(2000);
        assertThat(hello).as("the frame in the 101's own segment, read by PIBL's HTTP decoder, is relayed").isNotNull();
        assertThat(hello.text()).isEqualTo("hello");
        client.send(new TextWebSocketFrame("after"));
        assertThat(client.next(2000).text()).isEqualTo("after");
    }

    @Test
    void aFrameTheClientSendsWithItsHandshakeArrives() throws Exception {
        WsBackend backend = backend();
        ProxyServer proxy = proxy(backend.address(), c -> c);
        RawHttp raw = keep(new RawHttp(proxy.port()));
        byte[] request = handshake("/ws").getBytes(StandardCharsets.ISO_8859_1);
        byte[] frame = maskedText("early");
        byte[] both = new byte[request.length + frame.length];
        System.arraycopy(request, 0, both, 0, request.length);
        System.arraycopy(frame, 0, both, request.length, frame.length);
        raw.send(both);
        RawHttp.Response switched = raw.read(false);
        assertThat(switched.status()).isEqualTo(101);
        assertThat(switched.header("upgrade")).isEqualToIgnoringCase("websocket");
        assertThat(switched.header("connection")).isEqualToIgnoringCase("upgrade");
        assertThat(switched.header("sec-websocket-accept")).isEqualTo(WsBackend.accept(KEY));
        assertThat(readText(raw.input())).as("held by PIBL's decoder until the 101, then relayed").isEqualTo("early");
    }

    @Test
    void theTunnelOutlivesTheClientIdleTimeout() throws Exception {
        WsBackend backend = backend();
        ProxyServer proxy = proxy(backend.address(), c -> c.withTimeouts(timeouts(Duration.ofMillis(300), Duration.ofSeconds(2))));
        WsClient client = keep(WsClient.open(proxy.port(), "/ws"));
        Thread.sleep(900);
        client.send(new TextWebSocketFrame("still here"));
        WsClient.Frame echo = client.next(2000);
        assertThat(echo).as("timeouts.client-idle is for HTTP connections, not tunnels").isNotNull();
        assertThat(echo.text()).isEqualTo("still here");
    }

    @Test
    void theBackendIsClosedWhenTheClientGoes() throws Exception {
        WsBackend backend = backend();
        ProxyServer proxy = proxy(backend.address(), c -> c);
        WsClient client = WsClient.open(proxy.port(), "/ws");
        assertThat(backend.openConnections()).isEqualTo(1);
        client.close();
        assertThat(eventually(() -> backend.openConnections() == 0, 2000)).isTrue();
        assertThat(eventually(() -> proxy.stats().openTunnels() == 0, 2000)).isTrue();
    }

    @Test
    void theClientIsClosedWhenTheBackendGoes() throws Exception {
        WsBackend backend = backend();
        ProxyServer proxy = proxy(backend.address(), c -> c);
        WsClient client = keep(WsClient.open(proxy.port(), "/ws"));
        backend.closeConnections();
        assertThat(client.closedWithin(2000)).as("the backend's FIN is passed on, and the client's answer closes both")
                .isTrue();
        assertThat(eventually(() -> proxy.stats().openTunnels() == 0, 2000)).isTrue();
    }

    @Test
    void aHandshakeAnsweredWithoutA101IsAnOrdinaryExchangeOnAConnectionThatStaysUsable() throws Exception {
        WsBackend backend = backend();
        ProxyServer proxy = proxy(backend.address(), c -> c);
        RawHttp raw = keep(new RawHttp(proxy.port()));
        raw.send(handshake("/plain"));
        RawHttp.Response plain = raw.read(false);
        assertThat(plain.status()).isEqualTo(200);
        assertThat(plain.bodyText()).isEqualTo("plain");
        HttpHeaders forwarded = backend.plainRequests().get(0);
        assertThat(forwarded.get("upgrade")).as("the handshake is forwarded as one").isEqualTo("websocket");
        assertThat(forwarded.get("connection")).isEqualTo("upgrade");
        assertThat(forwarded.get("sec-websocket-key")).isEqualTo(KEY);
        RawHttp.Response next = raw.get("/next");
        assertThat(next.status()).as("the decoder parses again after the handshake's final answer").isEqualTo(200);
        assertThat(proxy.stats().totalTunnels()).isZero();
    }

    @Test
    void aRequestPipelinedAfterARefusedHandshakeIsAnswered() throws Exception {
        WsBackend backend = backend();
        ProxyServer proxy = proxy(backend.address(), c -> c);
        RawHttp raw = keep(new RawHttp(proxy.port()));
        raw.send(handshake("/plain") + "GET /second HTTP/1.1\r\nHost: test.local\r\n\r\n");
        assertThat(raw.read(false).status()).isEqualTo(200);
        assertThat(raw.read(false).status()).as("held while the handshake was open, parsed after").isEqualTo(200);
        assertThat(backend.plainRequests()).hasSize(2);
    }

    @Test
    void anIdleTunnelIsClosedAfterTunnelIdle() throws Exception {
        WsBackend backend = backend();
        ProxyServer proxy = proxy(backend.address(),
                c -> c.withTimeouts(c.timeouts().withTunnelIdle(Duration.ofMillis(300))));
        WsClient client = keep(WsClient.open(proxy.port(), "/ws"));
        client.send(new TextWebSocketFrame("one"));
        assertThat(client.next(2000).text()).isEqualTo("one");
        long start = System.nanoTime();
        assertThat(client.closedWithin(2000)).as("no byte either way for tunnel-idle closes the tunnel").isTrue();
        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(200);
        assertThat(eventually(() -> backend.openConnections() == 0, 2000)).isTrue();
    }

    @Test
    void aClientThatDoesNotReadStopsPiblReadingTheBackend() throws Exception {
        WsBackend backend = backend();
        ProxyServer proxy = proxy(backend.address(), c -> c);
        RawHttp raw = keep(new RawHttp(proxy.port(), 5000, 64 << 10));
        raw.send(handshake("/flood"));
        assertThat(raw.read(false).status()).isEqualTo(101);
        long settled = settle(backend);
        assertThat(settled).as("the backend is held back by PIBL not reading it, not by a limit of its own")
                .isLessThan(WsBackend.FLOOD_LIMIT / 4);
        raw.input().readNBytes(8 << 20);
        assertThat(eventually(() -> backend.flooded() > settled, 2000)).as("reading again resumes the flow").isTrue();
    }

    /** Waits until the backend has written nothing more for 300 ms; what it wrote by then. */
    private static long settle(WsBackend backend) throws InterruptedException {
        long last = -1;
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            long now = backend.flooded();
            if (now == last) {
                return now;
            }
            last = now;
            Thread.sleep(300);
        }
        return backend.flooded();
    }

    @Test
    void otherUpgradesAndIncompleteHandshakesAreStripped() throws Exception {
        TestBackend backend = keep(TestBackend.start("b"));
        ProxyServer proxy = proxy(backend.address(), c -> c);
        RawHttp raw = keep(new RawHttp(proxy.port()));
        assertThat(raw.get("/h2c", "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA")
                .status()).isEqualTo(200);
        assertThat(raw.get("/foo", "Connection: upgrade", "Upgrade: foo").status()).isEqualTo(200);
        assertThat(raw.get("/nokey", "Connection: upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13")
                .status()).as("a handshake without its key is an ordinary GET").isEqualTo(200);
        for (TestBackend.Received r : backend.received()) {
            assertThat(r.headers().contains("upgrade")).as(r.uri() + " goes without Upgrade").isFalse();
            assertThat(r.headers().contains("http2-settings")).as(r.uri()).isFalse();
            assertThat(r.headers().get("connection")).as(r.uri()).isNull();
        }
        assertThat(backend.received()).hasSize(3);
    }

    @Test
    void theCacheNeitherAnswersNorStoresAHandshake(@TempDir Path dir) throws Exception {
        WsBackend backend = backend();
        ProxyServer proxy = proxy(backend.address(), c -> ProxyFixture.withCache(c, dir, Duration.ofSeconds(60)));
        RawHttp raw = keep(new RawHttp(proxy.port()));
        assertThat(raw.get("/plain").header("x-cache")).isEqualTo("MISS");
        assertThat(raw.get("/plain").header("x-cache")).as("stored, for a plain GET").isEqualTo("HIT");
        raw.send(handshake("/plain"));
        RawHttp.Response answered = raw.read(false);
        assertThat(answered.header("x-cache")).as("a handshake goes to the backend, fresh entry or not")
                .isEqualTo("BYPASS");
        assertThat(backend.plainRequests()).hasSize(2);
        raw.send(handshake("/other"));
        raw.read(false);
        assertThat(raw.get("/other").header("x-cache")).as("the answer to a handshake was not stored").isEqualTo("MISS");

        WsClient client = keep(WsClient.open(proxy.port(), "/ws"));
        client.send(new TextWebSocketFrame("cached?"));
        assertThat(client.next(2000).text()).isEqualTo("cached?");
    }

    @Test
    void aHandshakeIsNeverResentOnceWritten() throws Exception {
        TestBackend first = keep(TestBackend.start("a"));
        TestBackend second = keep(TestBackend.start("b"));
        TestBackend.Behaviour hangUp = (ctx, req, b) -> {
            req.release();
            ctx.close();
        };
        first.behave(hangUp);
        second.behave(hangUp);
        ProxyServer proxy = ProxyFixture.start(List.of(first.address(), second.address()));
        closers.add(proxy::close);
        RawHttp raw = keep(new RawHttp(proxy.port()));
        raw.send(handshake("/ws"));
        assertThat(raw.read(false).status()).isEqualTo(502);
        assertThat(first.requestCount() + second.requestCount())
                .as("the backend may have acted on the handshake: it goes to one backend only").isEqualTo(1);
    }

    @Test
    void aDrainClosesOpenTunnelsAfterTheDrainTimeout() throws Exception {
        WsBackend backend = backend();
        ProxyServer proxy = ProxyFixture.start(List.of(backend.address()),
                c -> c.withTimeouts(timeouts(Duration.ofSeconds(30), Duration.ofMillis(600))));
        WsClient client = keep(WsClient.open(proxy.port(), "/ws"));
        long start = System.nanoTime();
        Thread stopper = new Thread(proxy::close);
        stopper.start();
        Thread.sleep(300);
        client.send(new TextWebSocketFrame("during the drain"));
        assertThat(client.next(2000).text()).as("a tunnel keeps working while the server drains").isEqualTo("during the drain");
        assertThat(client.closedWithin(3000)).isTrue();
        assertThat((System.nanoTime() - start) / 1_000_000).as("closed at the end of timeouts.drain")
                .isGreaterThanOrEqualTo(500);
        stopper.join(5000);
        assertThat(eventually(() -> backend.openConnections() == 0, 2000)).isTrue();
    }
}
