package pibl.handler;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.testing.ChildProcess;
import pibl.testing.NoLeaks;
import pibl.testing.StreamingResponder;
import pibl.testing.TestBackend;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 1 GiB download over one HTTP/2 stream through a PIBL with a 256 MiB heap: flow control and backpressure keep
 * its memory bounded whatever the body's size. The client is a few frames written by hand (preface, SETTINGS,
 * one HEADERS in static-table HPACK, WINDOW_UPDATEs as it reads), so the test JVM's own leak detector is not
 * what sets the pace.
 */
@ExtendWith(NoLeaks.class)
class Http2StreamingIT {
    private static final int DATA = 0;
    private static final int HEADERS = 1;
    private static final int SETTINGS = 4;
    private static final int WINDOW_UPDATE = 8;
    private static final int END_STREAM = 0x1;
    private static final int END_HEADERS = 0x4;

    @Test
    void oneGibibyteStreamsByteExactOverHttp2ThroughAProxyWithA256MiBHeap() throws Exception {
        long size = 1L << 30;
        try (TestBackend backend = TestBackend.start("big").behave(new StreamingResponder(size));
             ChildProcess proxy = ChildProcess.startJava(
                     List.of("-Xmx256m", "-XX:MaxDirectMemorySize=128m", "-Dio.netty.leakDetection.level=disabled"),
                     "pibl.testing.ProxyMain", List.of(backend.address()));
             Socket s = new Socket("127.0.0.1", proxy.port())) {
            s.setSoTimeout(30_000);
            s.setTcpNoDelay(true); // a window update must not wait for the ACK of the one before (Nagle)
            OutputStream out = new java.io.BufferedOutputStream(s.getOutputStream());
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            frame(out, SETTINGS, 0, 0, new byte[]{0, 4, 0, 0x10, 0, 0}); // SETTINGS_INITIAL_WINDOW_SIZE 1 MiB
            windowUpdate(out, 0, (1 << 20) - 65_535); // and the connection's window to match
            byte[] path = "/huge".getBytes(StandardCharsets.US_ASCII);
            byte[] block = new byte[2 + 2 + path.length + 3];
            int i = 0;
            block[i++] = (byte) 0x82; // :method GET
            block[i++] = (byte) 0x86; // :scheme http
            block[i++] = 0x44; // :path, literal value, indexed name
            block[i++] = (byte) path.length;
            System.arraycopy(path, 0, block, i, path.length);
            i += path.length;
            block[i++] = 0x41; // :authority, literal value, indexed name
            block[i++] = 1;
            block[i] = 'a';
            frame(out, HEADERS, END_HEADERS | END_STREAM, 1, block);
            out.flush();

            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16));
            long offset = 0;
            long unacknowledged = 0;
            boolean ended = false;
            byte[] payload = new byte[1 << 24];
            while (!ended) {
                int length = (in.readUnsignedByte() << 16) | in.readUnsignedShort();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                int stream = in.readInt() & 0x7fffffff;
                in.readFully(payload, 0, length);
                if (type == HEADERS && stream == 1) {
                    assertThat(flags & END_STREAM).as("a body follows the head").isZero();
                } else if (type == DATA && stream == 1) {
                    if (!StreamingResponder.matches(payload, length, offset)) {
                        throw new AssertionError("body differs within bytes " + offset + ".." + (offset + length));
                    }
                    offset += length;
                    unacknowledged += length;
                    ended = (flags & END_STREAM) != 0;
                    if (unacknowledged >= 1 << 18) { // give back what was read: the stream's and the connection's
                        windowUpdate(out, 0, unacknowledged);
                        windowUpdate(out, 1, unacknowledged);
                        out.flush();
                        unacknowledged = 0;
                    }
                } else if (type == 7) {
                    throw new AssertionError("GOAWAY at " + offset + ": " + new String(payload, 8, length - 8, StandardCharsets.UTF_8) + " code " + payload[7]);
                }
            }
            assertThat(offset).isEqualTo(size);
            assertThat(proxy.isAlive()).as("no OutOfMemoryError").isTrue();
        }
    }

    private static void windowUpdate(OutputStream out, int stream, long increment) throws IOException {
        int n = (int) increment;
        frame(out, WINDOW_UPDATE, 0, stream, new byte[]{(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
    }

    private static void frame(OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
        int n = payload.length;
        out.write(new byte[]{(byte) (n >>> 16), (byte) (n >>> 8), (byte) n, (byte) type, (byte) flags,
                (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream});
        out.write(payload);
    }
}
