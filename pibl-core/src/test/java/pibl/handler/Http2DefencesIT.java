package pibl.handler;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.config.Http2Config;
import pibl.config.TimeoutConfig;
import pibl.runtime.Http2Stats;
import pibl.server.ProxyServer;
import pibl.testing.H2Client;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.TestBackend;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP/2 connection's defences, with frames written by hand where a well-behaved client codec would refuse to:
 * CONTINUATION floods (CVE-2024-27316), a PING flood whose acks are never read, a connection that never sends a
 * request head, streams past the server's budget of open streams, and the GOAWAY of a drain that lets the open
 * stream finish.
 */
@ExtendWith(NoLeaks.class)
class Http2DefencesIT {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADERS = 1;
    private static final int SETTINGS = 4;
    private static final int PING = 6;
    private static final int GOAWAY = 7;
    private static final int CONTINUATION = 9;

    private TestBackend backend;
    private ProxyServer proxy;
    /** The drain test closes the proxy itself. */
    private boolean closed;

    @BeforeEach
    void start() throws Exception {
        backend = TestBackend.start("b1");
        proxy = ProxyFixture.start(List.of(backend.address()), c -> c.withTimeouts(new TimeoutConfig(
                Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofMillis(500),
                Duration.ofSeconds(3))));
    }

    @AfterEach
    void stop() throws Exception {
        if (!closed) {
            proxy.close();
        }
        backend.close();
    }

    private static void frame(OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
        int n = payload.length;
        out.write(new byte[]{(byte) (n >>> 16), (byte) (n >>> 8), (byte) n, (byte) type, (byte) flags,
                (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream});
        out.write(payload);
    }

    private static Socket open(int port) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(5000);
        OutputStream out = s.getOutputStream();
        out.write(PREFACE);
        frame(out, SETTINGS, 0, 0, new byte[0]);
        out.flush();
        return s;
    }

    /** Reads frames until a GOAWAY; returns its error code. */
    private static long readGoAway(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        while (true) {
            int length = (in.readUnsignedByte() << 16) | in.readUnsignedShort();
            int type = in.readUnsignedByte();
            in.readUnsignedByte();
            in.readInt();
            byte[] payload = new byte[length];
            in.readFully(payload);
            if (type == GOAWAY) {
                return ((payload[4] & 0xffL) << 24) | ((payload[5] & 0xff) << 16) | ((payload[6] & 0xff) << 8)
                        | (payload[7] & 0xff);
            }
        }
    }

    @Test
    void aHeaderBlockGrowingPastTheHeaderListSizeOverContinuationFramesEndsTheConnection() throws Exception {
        try (Socket s = open(proxy.port())) {
            OutputStream out = s.getOutputStream();
            frame(out, HEADERS, 0, 1, new byte[16 * 1024]); // no END_HEADERS: the block goes on
            frame(out, CONTINUATION, 0, 1, new byte[16 * 1024]); // 32 KiB: past limits.max-header-size + 25%
            out.flush();
            assertThat(readGoAway(s)).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
        }
        assertThat(proxy.stats().http2().goAways(Http2Stats.GoAway.HEADER_FLOOD)).isEqualTo(1);
        assertThat(backend.requestCount()).isZero();
    }

    @Test
    void aRunOfSmallContinuationFramesEndsTheConnection() throws Exception {
        try (Socket s = open(proxy.port())) {
            OutputStream out = s.getOutputStream();
            frame(out, HEADERS, 0, 1, new byte[8]);
            for (int i = 0; i < 16; i++) {
                frame(out, CONTINUATION, 0, 1, new byte[8]); // tiny fragments, never ending the block
            }
            out.flush();
            assertThat(readGoAway(s)).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
        }
        assertThat(proxy.stats().http2().goAways(Http2Stats.GoAway.HEADER_FLOOD)).isEqualTo(1);
    }

    @Test
    void pingsWhoseAcksAreNeverReadEndTheConnection() throws Exception {
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096); // the acks back up in PIBL, not in this socket
            s.connect(new java.net.InetSocketAddress("127.0.0.1", proxy.port()));
            OutputStream out = new java.io.BufferedOutputStream(s.getOutputStream(), 1 << 16);
            out.write(PREFACE);
            frame(out, SETTINGS, 0, 0, new byte[0]);
            byte[] opaque = new byte[8];
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            try {
                for (int i = 0; i < 2_000_000 && System.nanoTime() < deadline
                        && proxy.stats().http2().goAways(Http2Stats.GoAway.CONTROL_FLOOD) == 0; i++) {
                    frame(out, PING, 0, 0, opaque);
                }
                out.flush();
            } catch (SocketException closedByPibl) {
                // expected once the limit is reached
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (proxy.stats().http2().goAways(Http2Stats.GoAway.CONTROL_FLOOD) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(proxy.stats().http2().goAways(Http2Stats.GoAway.CONTROL_FLOOD)).isEqualTo(1);
    }

    @Test
    void aConnectionThatSendsNoRequestHeadIsClosedAfterTheHeaderTimeout() throws Exception {
        try (Socket s = open(proxy.port())) {
            assertThat(readGoAway(s)).isEqualTo(Http2Error.NO_ERROR.code());
            assertThat(s.getInputStream().read()).as("then closed").isEqualTo(-1);
        }
        assertThat(proxy.stats().http2().headerTimeouts()).isEqualTo(1);
    }

    @Test
    void streamsPastTheServersOpenStreamBudgetAreRefusedAndThePlacesComeBackWhenTheyClose() throws Exception {
        proxy.close();
        proxy = ProxyFixture.start(List.of(backend.address()), c -> c.withHttp2(new Http2Config(true, 100, 2)));
        backend.behave((ctx, req, b) -> ctx.executor().schedule(() -> TestBackend.answerName(ctx, req, b),
                700, TimeUnit.MILLISECONDS));
        try (H2Client h2 = H2Client.connect(proxy.port())) {
            CompletableFuture<FullHttpResponse> first = h2.get("/slow/1");
            CompletableFuture<FullHttpResponse> second = h2.get("/slow/2");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (backend.requestCount() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(proxy.stats().http2().openStreams()).isEqualTo(2);

            CompletableFuture<Long> reset = new CompletableFuture<>();
            Http2StreamChannel third = h2.open(ch -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    if (evt instanceof Http2ResetFrame r) {
                        reset.complete(r.errorCode());
                    }
                }

                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ReferenceCountUtil.release(msg);
                    reset.completeExceptionally(new AssertionError("answered, not refused: " + msg));
                }
            }));
            third.writeAndFlush(new DefaultHttp2HeadersFrame(H2Client.headers("GET", "/third", h -> { }), true));
            assertThat(reset.get(5, TimeUnit.SECONDS)).isEqualTo(Http2Error.REFUSED_STREAM.code());
            assertThat(proxy.stats().http2().refusedStreams()).isEqualTo(1);
            assertThat(backend.requestCount()).as("a refused stream is never forwarded").isEqualTo(2);

            for (CompletableFuture<FullHttpResponse> slow : List.of(first, second)) {
                FullHttpResponse r = slow.get(5, TimeUnit.SECONDS);
                assertThat(r.status().code()).as("the streams within the budget are answered").isEqualTo(200);
                r.release();
            }
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (proxy.stats().http2().openStreams() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(proxy.stats().http2().openStreams()).as("closed streams give their places back").isZero();
            backend.behave(TestBackend::answerName);
            FullHttpResponse again = h2.get("/again").get(5, TimeUnit.SECONDS);
            assertThat(again.status().code()).isEqualTo(200);
            again.release();
        }
    }

    @Test
    void aDrainSendsGoAwayAndLetsTheOpenStreamFinish() throws Exception {
        backend.behave((ctx, req, b) -> ctx.executor().schedule(() -> TestBackend.answerName(ctx, req, b),
                700, TimeUnit.MILLISECONDS));
        try (H2Client h2 = H2Client.connect(proxy.port())) {
            CompletableFuture<FullHttpResponse> slow = h2.get("/slow");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (backend.requestCount() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            closed = true;
            CompletableFuture<Void> draining = CompletableFuture.runAsync(proxy::close);
            H2Client.GoAway goAway = h2.goAway().get(5, TimeUnit.SECONDS);
            assertThat(goAway.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
            assertThat(slow.isDone()).as("the GOAWAY comes at once, before the open stream's answer").isFalse();
            assertThat(goAway.lastStreamId()).as("the open stream is one PIBL will still answer").isEqualTo(3);
            FullHttpResponse r = slow.get(5, TimeUnit.SECONDS);
            try {
                assertThat(r.status().code()).as("finished within timeouts.drain").isEqualTo(200);
            } finally {
                r.release();
            }
            draining.get(10, TimeUnit.SECONDS);
        }
        assertThat(proxy.stats().http2().goAways(Http2Stats.GoAway.GRACEFUL)).isEqualTo(1);
    }
}
