package pibl.upstream;

import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.HttpRequest;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.lb.Backend;
import pibl.tls.BackendTls;
import pibl.upstream.RetryPolicy.Decision;
import pibl.upstream.RetryPolicy.Failure;

import java.net.ConnectException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The log of failed attempts, kept readable in an outage: a backend's first failure is one full line, saying what
 * failed and what {@link RetryPolicy} made of it; the failures that follow within the next second are counted,
 * and one summary line per backend per second gives their number and kinds, for as long as they go on. The
 * access log still has every request; the state changes (DOWN, UP, cooldown, panic) are logged once where they
 * happen, in {@link Backend} and the pool.
 *
 * <pre>
 * WARN backend 127.0.0.1:9001 connect failed for GET /a: Connection refused, trying the next backend
 * WARN backend api.internal:443 TLS handshake failed for GET /a: hostname mismatch: the certificate does not
 *      name api.internal, trying the next backend
 * WARN backend 127.0.0.1:9001: 412 more failed attempts in the last 1 s (connect refused 400, timed out 12)
 * WARN backend 127.0.0.1:9001: 398 more failed attempts in the last 1 s (connect refused 398)
 *      (a quiet second: the next failure is a full line again)
 * </pre>
 *
 * Before, with a backend down under load, every failed request was a WARN line with its exception (40 in one
 * millisecond seen). The keep-alive race, resent and invisible to the client, is logged at DEBUG only. Logged
 * under {@link UpstreamCall}'s name; thread-safe, one per {@link Upstream}.
 */
final class AttemptLog {
    private static final Logger LOG = LogManager.getLogger(UpstreamCall.class);
    static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Runs a task once after a delay: the failing call's event loop, or a test's hand. */
    interface Scheduler {
        void schedule(Runnable task, long delayNanos);
    }

    /** One backend's failures since its window opened; guarded by itself. */
    private static final class Window {
        boolean open;
        int count;
        final Map<Failure, Integer> kinds = new EnumMap<>(Failure.class);
    }

    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    void failed(Scheduler scheduler, Backend backend, HttpRequest request, Failure kind, Decision decision,
                Throwable cause, boolean responseStarted, boolean idempotent, boolean streamed, long timeoutNanos) {
        if (decision == Decision.RESEND_SAME_BACKEND) {
            LOG.debug("backend {} closed a reused connection before answering {} {}; resending on a fresh connection",
                    backend, request.method(), request.uri());
            return;
        }
        Window w = windows.computeIfAbsent(backend.label(), k -> new Window());
        boolean first;
        synchronized (w) {
            first = !w.open;
            if (first) {
                w.open = true;
            } else {
                w.count++;
                w.kinds.merge(kind, 1, Integer::sum);
            }
        }
        if (first) {
            LOG.warn("backend {} {}", backend,
                    line(request, kind, decision, cause, responseStarted, idempotent, streamed, timeoutNanos));
            later(scheduler, w, backend.label());
        }
    }

    /** The window's end, a second from now; if the loop is shutting down, the window simply closes. */
    private void later(Scheduler scheduler, Window w, String label) {
        try {
            scheduler.schedule(() -> endOfWindow(scheduler, label), WINDOW_NANOS);
        } catch (RejectedExecutionException stopping) {
            synchronized (w) {
                w.open = false;
                w.count = 0;
                w.kinds.clear();
            }
        }
    }

    /** A second has passed: the summary if more failed, and another second of counting; else the window closes. */
    private void endOfWindow(Scheduler scheduler, String label) {
        Window w = windows.get(label);
        String summary = null;
        synchronized (w) {
            if (w.count == 0) {
                w.open = false;
            } else {
                summary = w.count + " more failed attempt" + (w.count == 1 ? "" : "s") + " in the last 1 s ("
                        + w.kinds.entrySet().stream().map(e -> name(e.getKey()) + " " + e.getValue())
                        .collect(Collectors.joining(", ")) + ")";
                w.count = 0;
                w.kinds.clear();
            }
        }
        if (summary != null) {
            LOG.warn("backend {}: {}", label, summary);
            later(scheduler, w, label);
        }
    }

    private static String name(Failure kind) {
        return switch (kind) {
            case CONNECT_REFUSED -> "connect refused";
            case CONNECT_TIMEOUT -> "connect timed out";
            case TLS_HANDSHAKE -> "TLS handshake failed";
            case CLOSED -> "closed";
            case RESPONSE_TIMEOUT -> "timed out";
        };
    }

    private static String line(HttpRequest request, Failure kind, Decision decision, Throwable cause,
                               boolean responseStarted, boolean idempotent, boolean streamed, long timeoutNanos) {
        String what = switch (kind) {
            case CONNECT_REFUSED, CONNECT_TIMEOUT -> "connect failed for";
            case TLS_HANDSHAKE -> "TLS handshake failed for";
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
        return what + " " + request.method() + " " + request.uri() + detail + then;
    }

    static String describe(Throwable t) {
        if (t instanceof ConnectException || t instanceof PrematureChannelClosureException
                || t instanceof BackendTls.HandshakeFailure) {
            return t.getMessage();
        }
        return t == null ? "unknown" : t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
