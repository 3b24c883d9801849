package pibl.upstream;

import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.lb.Backend;

import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One request's way through the backends: pick, connect or reuse, send, relay the response, and
 * on failure decide whether another attempt is safe.
 *
 * <pre>
 * connect refused / timed out           → next backend (nothing was sent, any method)
 * reused connection closed before any
 *   response byte (keep-alive race)     → again on a fresh connection, idempotent methods only,
 *                                         not counted as a retry
 * fresh connection reset before any
 *   response byte                       → next backend, idempotent methods only
 * silent past backend-response timeout  → 504 (not retried: the backend may still be working on it)
 * failure after response bytes          → client connection closed, never a truncated "complete" body
 * no backend left                       → 502 (504 if the last failure was a timeout)
 * </pre>
 *
 * Everything runs on one event loop, the client connection's; no field needs a lock.
 */
public final class UpstreamCall {
    private static final Logger LOG = LogManager.getLogger(UpstreamCall.class);

    private final Upstream upstream;
    private final EventLoop loop;
    private final FullHttpRequest request;
    private final ResponseSink sink;
    private final boolean idempotent;
    private final long timeoutNanos;
    private final List<Backend> tried = new ArrayList<>(2);
    private int attempts;
    private boolean freshConnectionOnly;
    private Backend backend;
    private BackendHandler connection;
    private boolean reused;
    private boolean requestWritten;
    private boolean responseStarted;
    private boolean informational;
    private boolean reusable;
    private boolean paused;
    private boolean done;
    private Throwable lastFailure;
    private long lastActivityNanos;
    private long dispatchNanos;

    UpstreamCall(Upstream upstream, EventLoop loop, FullHttpRequest request, ResponseSink sink) {
        this.upstream = upstream;
        this.loop = loop;
        this.request = request;
        this.sink = sink;
        this.idempotent = isIdempotent(request.method());
        this.timeoutNanos = upstream.timeouts().backendResponse().toNanos();
    }

    /** RFC 9110 section 9.2.2. */
    static boolean isIdempotent(HttpMethod method) {
        return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method) || HttpMethod.PUT.equals(method)
                || HttpMethod.DELETE.equals(method) || HttpMethod.OPTIONS.equals(method)
                || HttpMethod.TRACE.equals(method);
    }

    void start() {
        attempt();
    }

    /** The backend now serving the request, or the last one tried. */
    public Backend backend() {
        return backend;
    }

    /** Stop reading the backend: the client cannot take more for now. */
    public void pauseReading() {
        BackendHandler c = connection;
        if (c != null && !paused) {
            paused = true;
            c.channel().config().setAutoRead(false);
        }
    }

    /** The client can take more again. */
    public void resumeReading() {
        BackendHandler c = connection;
        if (c != null && paused) {
            paused = false;
            lastActivityNanos = System.nanoTime();
            c.channel().config().setAutoRead(true);
        }
    }

    /** The client went away: drop the backend connection if it is mid-exchange. */
    public void abort() {
        if (done) {
            return;
        }
        done = true;
        BackendHandler c = connection;
        if (c != null) {
            connection = null;
            c.unbind();
            c.channel().close();
            backend.onRequestEnd();
        }
        request.release();
    }

    private void attempt() {
        if (done) {
            return;
        }
        if (attempts > upstream.retries()) {
            fail(new NoBackendException("gave up after " + attempts + " attempts", lastFailure));
            return;
        }
        Backend next = upstream.balancer().pick(tried);
        if (next == null) {
            boolean none = tried.isEmpty() && lastFailure == null;
            fail(new NoBackendException(none ? "no backend in rotation" : "every backend failed", lastFailure, none));
            return;
        }
        attempts++;
        backend = next;
        if (!freshConnectionOnly) {
            long freshWithin = idempotent ? Long.MAX_VALUE : Upstream.NON_IDEMPOTENT_REUSE_NANOS;
            BackendHandler pooled = upstream.pool().poll(next, freshWithin);
            if (pooled != null) {
                dispatch(pooled, true);
                return;
            }
        }
        upstream.connect(loop, next).addListener(f -> onConnected((ChannelFuture) f, next));
    }

    private void onConnected(ChannelFuture f, Backend target) {
        if (done) {
            if (f.isSuccess()) {
                f.channel().close();
            }
            return;
        }
        if (!f.isSuccess()) {
            target.recordFailure(f.cause());
            tried.add(target);
            lastFailure = f.cause();
            LOG.warn("backend {} connect failed for {} {}: {}{}", target, request.method(), request.uri(),
                    describe(f.cause()), attempts <= upstream.retries() ? ", trying the next backend" : "");
            attempt();
            return;
        }
        dispatch(f.channel().pipeline().get(BackendHandler.class), false);
    }

    private void dispatch(BackendHandler conn, boolean wasPooled) {
        connection = conn;
        reused = wasPooled;
        requestWritten = false;
        responseStarted = false;
        informational = false;
        paused = false;
        conn.bind(this);
        backend.onRequestStart();
        dispatchNanos = System.nanoTime();
        lastActivityNanos = System.nanoTime();
        conn.channel().writeAndFlush(request.retainedDuplicate()).addListener(f -> {
            if (!f.isSuccess()) {
                onConnectionLost(conn, f.cause());
            } else if (connection == conn) {
                requestWritten = true; // only a fully written request leaves the connection reusable
            }
        });
    }

    void onResponse(BackendHandler conn, HttpResponse head) {
        if (conn != connection || done) {
            return;
        }
        lastActivityNanos = System.nanoTime();
        if (head.decoderResult().isFailure()) {
            onConnectionLost(conn, head.decoderResult().cause());
            return;
        }
        int code = head.status().code();
        if (code < 200 && code != 101) {
            informational = true; // 100 Continue and friends: PIBL already holds the whole body
            return;
        }
        if (code == 101) {
            onConnectionLost(conn, new IllegalStateException("backend switched protocols"));
            return;
        }
        informational = false;
        responseStarted = true;
        backend.recordLatency(System.nanoTime() - dispatchNanos); // to the final response head, not the last byte
        reusable = HttpUtil.isKeepAlive(head);
        sink.onResponse(head, backend);
    }

    void onContent(BackendHandler conn, HttpContent content) {
        if (conn != connection || done) {
            content.release();
            return;
        }
        lastActivityNanos = System.nanoTime();
        if (informational || !responseStarted) {
            content.release();
            return;
        }
        if (content.decoderResult().isFailure()) {
            Throwable cause = content.decoderResult().cause();
            content.release();
            onConnectionLost(conn, cause);
            return;
        }
        if (content instanceof LastHttpContent) {
            complete(conn);
        }
        sink.onContent(content);
    }

    void onReadComplete() {
        if (responseStarted) {
            sink.flush();
        }
    }

    private void complete(BackendHandler conn) {
        done = true;
        connection = null;
        backend.onRequestEnd();
        backend.recordSuccess();
        conn.unbind();
        if (reusable && requestWritten && conn.channel().isActive()) {
            upstream.pool().release(conn);
        } else {
            conn.channel().close();
        }
        request.release();
    }

    void onConnectionLost(BackendHandler conn, Throwable cause) {
        if (done || conn != connection) {
            return;
        }
        connection = null;
        conn.unbind();
        conn.channel().close();
        backend.onRequestEnd();
        if (responseStarted) {
            backend.recordFailure(cause);
            LOG.warn("backend {} failed mid-response for {} {}: {}; closing the client connection", backend,
                    request.method(), request.uri(), describe(cause));
            fail(cause);
            return;
        }
        lastFailure = cause;
        if (reused && idempotent) {
            // The keep-alive race: the backend closed an idle connection as we reused it.
            freshConnectionOnly = true;
            attempts--;
            LOG.debug("backend {} closed a reused connection before answering {} {}; resending on a fresh one",
                    backend, request.method(), request.uri());
            attempt();
            return;
        }
        backend.recordFailure(cause);
        tried.add(backend);
        if (idempotent) {
            LOG.warn("backend {} closed the connection before answering {} {}: {}{}", backend, request.method(),
                    request.uri(), describe(cause), attempts <= upstream.retries() ? ", trying the next backend" : "");
            attempt();
        } else {
            LOG.warn("backend {} closed the connection before answering {} {}: {}; not retried ({} is not idempotent)",
                    backend, request.method(), request.uri(), describe(cause), request.method());
            fail(new NoBackendException("backend closed the connection", cause));
        }
    }

    long timeoutNanos() {
        return timeoutNanos;
    }

    /** How much longer the backend may stay silent; a paused call (slow client) is never timed out. */
    long silenceLeftNanos() {
        return paused ? timeoutNanos : timeoutNanos - (System.nanoTime() - lastActivityNanos);
    }

    /** The backend connection's timer found the backend silent for too long. */
    void onTimeout(BackendHandler conn) {
        if (done || conn != connection) {
            return;
        }
        connection = null;
        conn.unbind();
        conn.channel().close();
        backend.onRequestEnd();
        backend.recordFailure(new UpstreamTimeoutException(
                "silent for " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms"));
        LOG.warn("backend {} sent nothing for {} ms on {} {}", backend, TimeUnit.NANOSECONDS.toMillis(timeoutNanos),
                request.method(), request.uri());
        fail(new UpstreamTimeoutException("no response from " + backend + " within "
                + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms"));
    }

    private void fail(Throwable cause) {
        if (done) {
            return;
        }
        done = true;
        request.release();
        sink.onError(cause, responseStarted);
    }

    private static String describe(Throwable t) {
        if (t instanceof ConnectException || t instanceof PrematureChannelClosureException) {
            return t.getMessage();
        }
        return t == null ? "unknown" : t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
