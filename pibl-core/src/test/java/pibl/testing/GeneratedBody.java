package pibl.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * A request body made up as it is sent, never held: byte {@code i} is {@link StreamingResponder#expectedByte}, so a
 * GiB costs a 64 KiB window. The sender's CRC32 is what the backend's must equal.
 */
public final class GeneratedBody {
    private static final int WINDOW = 64 * 1024;
    private static final byte[] PATTERN = new byte[WINDOW + 256];

    static {
        for (int i = 0; i < PATTERN.length; i++) {
            PATTERN[i] = (byte) StreamingResponder.expectedByte(i);
        }
    }

    private final CRC32 crc = new CRC32();
    private long sent;

    /** Bytes written so far (visible to other threads once the write returned). */
    public synchronized long sent() {
        return sent;
    }

    public synchronized long crc() {
        return crc.getValue();
    }

    /** Writes the next {@code n} bytes of the body as they are. */
    public void write(OutputStream out, long n) throws IOException {
        long end = sent() + n;
        while (sent() < end) {
            long offset = sent();
            int len = (int) Math.min(WINDOW, end - offset);
            int start = (int) (offset & 0xff);
            out.write(PATTERN, start, len);
            synchronized (this) {
                crc.update(PATTERN, start, len);
                sent += len;
            }
        }
        out.flush();
    }

    /** Writes the next {@code n} bytes as chunks of {@code chunk} bytes (the last may be shorter), no final chunk. */
    public void writeChunked(OutputStream out, long n, int chunk) throws IOException {
        long end = sent() + n;
        while (sent() < end) {
            int len = (int) Math.min(chunk, end - sent());
            out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            write(out, len);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.flush();
    }

    /** The last chunk of a chunked body. */
    public static void endChunked(OutputStream out) throws IOException {
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }
}
