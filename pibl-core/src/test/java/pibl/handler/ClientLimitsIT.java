package pibl.handler;

import org.junit.jupiter.api.extension.ExtendWith;
import pibl.testing.NoLeaks;
import org.junit.jupiter.api.Test;
import pibl.config.LimitConfig;
import pibl.config.TimeoutConfig;
import pibl.server.ProxyServer;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;
import pibl.testing.TestBackend;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Hostile or greedy clients: slow headers, too many connections; and a graceful stop. */
@ExtendWith(NoLeaks.class)
class ClientLimitsIT {

    private static TimeoutConfig timeouts(Duration header, Duration drain) {
        return new TimeoutConfig(Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(30), header, drain);
    }

    @Test
    void slowlorisConnectionsDoNotBlockANormalRequestAndAreCutAtTheHeaderTimeout() throws Exception {
        try (TestBackend backend = TestBackend.start("b1");
             ProxyServer proxy = ProxyFixture.start(List.of(backend.address()),
                     c -> c.withTimeouts(timeouts(Duration.ofMillis(1500), Duration.ZERO)))) {
            List<Socket> lorises = new ArrayList<>();
            try {
                for (int i = 0; i < 500; i++) {
                    Socket s = new Socket("127.0.0.1", proxy.port());
                    s.getOutputStream().write("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
                    lorises.add(s);
                }
                // One more trickled byte each, as a slowloris does, then a normal client.
                for (Socket s : lorises) {
                    s.getOutputStream().write('z');
                }
                long start = System.nanoTime();
                try (RawHttp http = new RawHttp(proxy.port())) {
                    assertThat(http.get("/normal").status()).isEqualTo(200);
                }
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                        .as("500 slow clients do not starve a normal one").isLessThan(1000);
                // Past the header timeout every slow connection is answered 408 and closed.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
                int closed = 0;
                for (Socket s : lorises) {
                    s.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                    byte[] all = s.getInputStream().readAllBytes();
                    if (new String(all, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 408")) {
                        closed++;
                    }
                }
                assertThat(closed).isEqualTo(500);
            } finally {
                for (Socket s : lorises) {
                    s.close();
                }
            }
            assertThat(backend.requestCount()).as("no partial head was forwarded").isEqualTo(1);
        }
    }

    @Test
    void idleKeepAliveConnectionsCloseAfterTheIdleTimeoutButBusyOnesDoNot() throws Exception {
        try (TestBackend backend = TestBackend.start("b1")) {
            backend.behave((ctx, req, b) -> {
                req.release();
                ctx.executor().schedule(() -> ctx.writeAndFlush(b.named(io.netty.handler.codec.http.HttpResponseStatus.OK,
                        "late")), 900, TimeUnit.MILLISECONDS);
            });
            try (ProxyServer proxy = ProxyFixture.start(List.of(backend.address()), c -> c.withTimeouts(
                    new TimeoutConfig(Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofMillis(400),
                            Duration.ofSeconds(10), Duration.ZERO)));
                 RawHttp http = new RawHttp(proxy.port())) {
                assertThat(http.get("/slow").bodyText())
                        .as("a request in flight longer than the idle timeout is not cut").isEqualTo("late");
                long start = System.nanoTime();
                assertThat(http.isClosedByPeer(3000)).as("idle after the response: closed").isTrue();
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(200L, 1500L);
            }
        }
    }

    @Test
    void connectionsBeyondTheLimitAreClosedAndCounted() throws Exception {
        try (TestBackend backend = TestBackend.start("b1");
             ProxyServer proxy = ProxyFixture.start(List.of(backend.address()),
                     c -> c.withLimits(new LimitConfig(1 << 20, 8192, 4096, 3, 2)))) {
            List<RawHttp> held = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    RawHttp http = new RawHttp(proxy.port());
                    held.add(http);
                    assertThat(http.get("/ok").status()).isEqualTo(200);
                }
                try (RawHttp extra = new RawHttp(proxy.port())) {
                    assertThat(extra.isClosedByPeer(2000)).as("the fourth connection is closed at once").isTrue();
                }
                assertThat(proxy.stats().rejectedConnections()).isEqualTo(1);
                held.remove(0).close();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (proxy.stats().openConnections() > 2 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                try (RawHttp again = new RawHttp(proxy.port())) {
                    assertThat(again.get("/ok").status()).as("room again once one left").isEqualTo(200);
                }
            } finally {
                for (RawHttp h : held) {
                    h.close();
                }
            }
        }
    }

    @Test
    void closeDrainsAnInFlightRequestAndClosesIdleConnections() throws Exception {
        try (TestBackend backend = TestBackend.start("b1")) {
            backend.behave((ctx, req, b) -> {
                req.release();
                ctx.executor().schedule(() -> ctx.writeAndFlush(b.named(io.netty.handler.codec.http.HttpResponseStatus.OK,
                        "slow done")), 700, TimeUnit.MILLISECONDS);
            });
            ProxyServer proxy = ProxyFixture.start(List.of(backend.address()),
                    c -> c.withTimeouts(timeouts(Duration.ofSeconds(10), Duration.ofSeconds(5))));
            RawHttp idle = new RawHttp(proxy.port());
            RawHttp busy = new RawHttp(proxy.port());
            busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
            Thread.sleep(100); // let the request reach the backend
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(proxy::close);
            RawHttp.Response r = busy.read(false);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).as("the in-flight request finishes").isEqualTo("slow done");
            assertThat(r.header("Connection")).isEqualTo("close");
            assertThat(idle.isClosedByPeer(2000)).as("idle keep-alive connections are closed").isTrue();
            stopping.get(10, TimeUnit.SECONDS);
            idle.close();
            busy.close();
        }
    }
}
