package pibl.upstream;

import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.HttpRequest;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.lb.Backend;
import pibl.upstream.RetryPolicy.Decision;
import pibl.upstream.RetryPolicy.Failure;

import java.net.ConnectException;
import java.util.concurrent.TimeUnit;

/**
 * The one log line of a failed attempt, saying what failed and what {@link RetryPolicy} made of it:
 *
 * <pre>
 * backend 127.0.0.1:9001 connect failed for GET /a: Connection refused, trying the next backend
 * backend 127.0.0.1:9001 closed the connection before answering PUT /up: ...; not retried (its streamed body is gone)
 * </pre>
 *
 * The keep-alive race, resent and invisible to the client, is logged at DEBUG only. Logged under
 * {@link UpstreamCall}'s name.
 */
final class AttemptLog {
    private static final Logger LOG = LogManager.getLogger(UpstreamCall.class);

    private AttemptLog() {
    }

    static void failed(Backend backend, HttpRequest request, Failure kind, Decision decision, Throwable cause,
                       boolean responseStarted, boolean idempotent, boolean streamed, long timeoutNanos) {
        String what = switch (kind) {
            case CONNECT_REFUSED, CONNECT_TIMEOUT -> "connect failed for";
            case CLOSED -> responseStarted ? "failed mid-response for" : "closed the connection before answering";
            case RESPONSE_TIMEOUT -> "sent nothing for " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms on";
        };
        String then = switch (decision) {
            case RESEND_SAME_BACKEND -> "; resending on a fresh connection";
            case NEXT_BACKEND -> ", trying the next backend";
            case CLOSE -> "; closing the client connection";
            case FAIL_502, FAIL_504 -> kind != Failure.CLOSED ? ""
                    : !idempotent ? "; not retried (" + request.method() + " is not idempotent)"
                    : streamed ? "; not retried (its streamed body is gone)" : "";
        };
        String detail = kind == Failure.RESPONSE_TIMEOUT ? "" : ": " + describe(cause);
        if (decision == Decision.RESEND_SAME_BACKEND) {
            LOG.debug("backend {} closed a reused connection before answering {} {}{}", backend, request.method(),
                    request.uri(), then);
        } else {
            LOG.warn("backend {} {} {} {}{}{}", backend, what, request.method(), request.uri(), detail, then);
        }
    }

    static String describe(Throwable t) {
        if (t instanceof ConnectException || t instanceof PrematureChannelClosureException) {
            return t.getMessage();
        }
        return t == null ? "unknown" : t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
