package pibl.upstream;

/** The backend was silent for longer than {@code timeouts.backend-response}, or connect timed out. */
public final class UpstreamTimeoutException extends Exception {
    public UpstreamTimeoutException(String message) {
        super(message, null, false, false);
    }
}
