package pibl.demo;

import java.io.IOException;
import java.io.InputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Expected download bodies, from the formula documented in {@link PatternBytes}: byte i = (i * 31 + 7) & 0xff. */
final class Patterns {

    private Patterns() {
    }

    /** Bytes {@code from} to {@code from + length} of a pattern body, computed independently of the server code. */
    static byte[] expected(long from, int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (((from + i) * 31 + 7) & 0xff);
        }
        return bytes;
    }

    /** Reads {@code in} to its end, checking every byte against the formula; returns how many bytes there were. */
    static long verify(InputStream in) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long position = 0;
        for (int n = in.read(buffer); n != -1; n = in.read(buffer)) {
            for (int i = 0; i < n; i++) {
                if (buffer[i] != (byte) ((position * 31 + 7) & 0xff)) {
                    assertThat(buffer[i] & 0xff).as("body byte %d", position)
                            .isEqualTo((int) ((position * 31 + 7) & 0xff));
                }
                position++;
            }
        }
        return position;
    }
}
