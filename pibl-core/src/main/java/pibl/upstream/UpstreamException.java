package pibl.upstream;

/**
 * Why a request got no response from any backend, as the client is to see it: {@link #status()} is 504 when the last
 * attempt timed out, 502 otherwise. A pool whose backends are all out of rotation is still tried
 * ({@link pibl.lb.Panic}), so 503 is left for a balancer offering no backend at all, which a configured pool never
 * does. The cause is the last attempt's failure, or null when nothing was attempted.
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
}
