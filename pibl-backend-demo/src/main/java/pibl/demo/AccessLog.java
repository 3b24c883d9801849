package pibl.demo;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Where the one line per request goes, e.g.
 * <pre>
 *   2025-07-01T10:00:00.123Z backend-1 127.0.0.1:53422 "GET /download?size=1024 HTTP/1.1" 200 1024 2ms
 * </pre>
 * Lines come from every event loop at once, so an implementation must be thread-safe and cheap: it is called on the
 * event loop, after each response.
 */
interface AccessLog {

    /** Discards every line: the default for instances started from tests. */
    AccessLog NONE = line -> {
    };

    /** Records one line (without its line terminator). */
    void log(String line);

    /** Pushes buffered lines out; called periodically and on close. */
    default void flush() {
    }

    /**
     * A log to standard output through a 64 KiB buffer, so a request costs a memory copy rather than a system call.
     * The owner calls {@link #flush()} a few times a second so a terminal still shows lines as they happen.
     */
    static AccessLog stdout() {
        PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                false, StandardCharsets.UTF_8);
        return new AccessLog() {
            @Override
            public void log(String line) {
                out.println(line);
            }

            @Override
            public void flush() {
                out.flush();
            }
        };
    }
}
