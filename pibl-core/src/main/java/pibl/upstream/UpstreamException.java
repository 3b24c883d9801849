package pibl.upstream;

/**
 * Why a request got no response from any backend, as the client is to see it: {@link #status()} is 503 when no
 * backend was in rotation, 504 when the last attempt timed out, 502 otherwise. The cause is the last attempt's
 * failure, or null when nothing was attempted.
 */
public final class UpstreamException extends Exception {
    private final int status;

    public UpstreamException(int status, String message, Throwable cause) {
        super(message, cause, false, false);
        this.status = status;
    }

    /** 502, 503 or 504. */
    public int status() {
        return status;
    }

    /** Every backend was out of rotation: nothing was attempted. */
    public boolean noneInRotation() {
        return status == 503;
    }
}
