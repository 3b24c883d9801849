package pibl.upstream;

/**
 * What to do when an attempt to get a response from a backend fails: a pure function, tested as a table
 * ({@code RetryPolicyTest}). The rules are those of RFC 9112 9.3.1 and of careful proxies (nginx's
 * {@code proxy_next_upstream}, HAProxy's {@code retry-on}):
 *
 * <pre>
 * failure                          reused  idempotent  streamed  response started  attempts left  -&gt; decision
 * any                              any     any         any       yes               any            -&gt; CLOSE (a truncated body must not look complete)
 * connect refused                  -       any         any       no                yes / no       -&gt; NEXT_BACKEND / FAIL_502 (nothing was sent)
 * connect timed out                -       any         any       no                yes / no       -&gt; NEXT_BACKEND / FAIL_504
 * TLS handshake failed             -       any         any       no                yes / no       -&gt; NEXT_BACKEND / FAIL_502 (nothing was sent)
 * closed before any response byte  yes     yes         no        no                any            -&gt; RESEND_SAME_BACKEND (the keep-alive race, on a fresh connection, not counted)
 * closed before any response byte  no      yes         no        no                yes / no       -&gt; NEXT_BACKEND / FAIL_502
 * closed before any response byte  any     no          any       no                any            -&gt; FAIL_502 (the backend may have acted on it)
 * closed before any response byte  any     any         yes       no                any            -&gt; FAIL_502 (the body is gone: what was written of it cannot be read again)
 * silent past backend-response     any     any         any       no                any            -&gt; FAIL_504 (it may still be working on it)
 * </pre>
 *
 * A streamed request is one whose body is larger than {@code limits.retry-buffer} (or chunked): PIBL writes it to the
 * backend as it reads it from the client and holds none of it. Before its first byte is written (the connect failed)
 * it goes to the next backend like any request; after, never.
 */
public final class RetryPolicy {
    private RetryPolicy() {
    }

    /** How an attempt failed. */
    public enum Failure {
        /** The connection was refused or could not be made; nothing was sent. */
        CONNECT_REFUSED,
        /** The connection (with its TLS handshake, for a TLS backend) was not made within {@code timeouts.connect}. */
        CONNECT_TIMEOUT,
        /** The TLS handshake failed: certificate not trusted, name mismatch, nothing in common; nothing was sent. */
        TLS_HANDSHAKE,
        /** The connection was closed or reset, or the request could not be written, before any response byte. */
        CLOSED,
        /** The backend sent nothing for {@code timeouts.backend-response}. */
        RESPONSE_TIMEOUT
    }

    /** What the call does next. */
    public enum Decision {
        /** Send the request again to the same backend over a new connection; not counted as a retry. */
        RESEND_SAME_BACKEND,
        /** Try the next backend the balancer picks, counted against {@code limits.retries}. */
        NEXT_BACKEND,
        /** Give up: 502 Bad Gateway. */
        FAIL_502,
        /** Give up: 504 Gateway Timeout. */
        FAIL_504,
        /** The response has started: close the client connection. */
        CLOSE
    }

    /**
     * Whether a request may be sent again after a backend may have received it: an idempotent method, and its whole
     * body at hand (not streamed). Also decides which pooled connections it may risk ({@code Upstream}).
     */
    public static boolean resendable(boolean idempotent, boolean streamed) {
        return idempotent && !streamed;
    }

    public static Decision decide(Failure failure, boolean reused, boolean idempotent, boolean streamed,
                                  boolean responseStarted, boolean attemptsLeft) {
        if (responseStarted) {
            return Decision.CLOSE;
        }
        return switch (failure) {
            case CONNECT_REFUSED, TLS_HANDSHAKE -> attemptsLeft ? Decision.NEXT_BACKEND : Decision.FAIL_502;
            case CONNECT_TIMEOUT -> attemptsLeft ? Decision.NEXT_BACKEND : Decision.FAIL_504;
            case RESPONSE_TIMEOUT -> Decision.FAIL_504;
            case CLOSED -> !resendable(idempotent, streamed) ? Decision.FAIL_502
                    : reused ? Decision.RESEND_SAME_BACKEND
                    : attemptsLeft ? Decision.NEXT_BACKEND : Decision.FAIL_502;
        };
    }
}
