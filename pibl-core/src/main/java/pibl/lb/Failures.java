package pibl.lb;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.PrematureChannelClosureException;

import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Locale;

/** Short words for why a backend failed, for the one-line health logs. */
final class Failures {
    private Failures() {
    }

    /**
     * {@code connection refused}, {@code connect timed out}, {@code connection reset},
     * {@code connection closed before a response}, else the exception's own message.
     */
    static String describe(Throwable t) {
        if (t == null) {
            return "unknown";
        }
        String message = t.getMessage() == null ? "" : t.getMessage();
        String lower = message.toLowerCase(Locale.ROOT);
        if (t instanceof ConnectTimeoutException) {
            return "connect timed out";
        }
        if (t instanceof ConnectException) {
            return lower.contains("refused") ? "connection refused" : "connect failed: " + message;
        }
        if (t instanceof ClosedChannelException || t instanceof PrematureChannelClosureException) {
            return "connection closed before a response";
        }
        if (lower.contains("reset")) {
            return "connection reset";
        }
        if (t.getClass().getSimpleName().contains("Timeout")) {
            return message.isEmpty() ? "timed out" : message;
        }
        return message.isEmpty() ? t.getClass().getSimpleName() : message;
    }

    /** {@code 10 s}, {@code 1.5 s}, {@code 250 ms}. */
    static String human(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) {
            return ms + " ms";
        }
        return ms % 1000 == 0 ? ms / 1000 + " s" : String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }
}
