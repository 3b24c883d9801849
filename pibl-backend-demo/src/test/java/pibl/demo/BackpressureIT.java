package pibl.demo;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A download to a client that stops reading must wait for it, not queue the rest of the body in memory. */
class BackpressureIT {

    @RegisterExtension
    static final RunningBackend backend = new RunningBackend("it-backpressure");

    /** Netty's default high water mark (64 KiB) plus one chunk that may be in flight, plus slack. */
    private static final long BOUND = 64 * 1024 + PatternBytes.CHUNK_SIZE + 64 * 1024;

    @Test
    void aStalledClientHoldsTheServerAtTheWaterMark() throws Exception {
        try (Socket client = new Socket()) {
            client.setReceiveBufferSize(16 * 1024);
            client.connect(new InetSocketAddress("127.0.0.1", backend.port()));
            client.getOutputStream().write("GET /download?size=1073741824 HTTP/1.1\r\nHost: t\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            // ...and never read: the kernel buffers fill, then the server's channel must stop taking chunks.

            Channel connection = awaitOneConnection();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (connection.isWritable() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(connection.isWritable()).as("the stalled client made the channel unwritable").isFalse();

            long mostPending = 0;
            long sampleUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            while (System.nanoTime() < sampleUntil) {
                mostPending = Math.max(mostPending, pendingBytes(connection));
            }
            assertThat(mostPending)
                    .as("bytes queued for a client that does not read stay at the water mark, not the 1 GiB body")
                    .isLessThanOrEqualTo(BOUND);
        }
    }

    private static Channel awaitOneConnection() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (backend.backend().clientConnections().isEmpty() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(backend.backend().clientConnections()).hasSize(1);
        return backend.backend().clientConnections().get(0);
    }

    private static long pendingBytes(Channel channel) {
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        return buffer == null ? 0 : buffer.totalPendingWriteBytes();
    }
}
