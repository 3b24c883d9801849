package pibl.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import pibl.http.HopByHop;
import pibl.http.HttpMethods;
import pibl.http.Upgrades;
import pibl.lb.Backend;
import pibl.lb.LoadBalancer;
import pibl.tls.BackendTls;
import pibl.upstream.RetryPolicy.Decision;
import pibl.upstream.RetryPolicy.Failure;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One request's way through the backends: pick, connect or reuse, send, relay the response, and on failure ask
 * {@link RetryPolicy} whether another attempt is safe.
 *
 * <pre>
 * pick backend → pooled connection (or connect, TLS handshake) → write request → response head → parts → last part
 *                                                                                ↓ hop-by-hop fields of the backend
 *                                                                                  connection consumed here, not relayed
 * </pre>
 *
 * The sink gets an end-to-end response: the backend connection's own fields ({@code Connection},
 * {@code Keep-Alive}, {@code Transfer-Encoding}, ...) decide whether the connection goes back to the pool and are
 * then removed. Everything runs on one event loop, the caller's; no field needs a lock.
 *
 * <p>A {@code FullHttpRequest} has its body at hand and is written whole, again if a retry needs it. Any other
 * {@code HttpRequest} is a head whose body follows through {@link #sendBody} ({@link StreamedBody}): written as it
 * comes, never resent once written. A backend that answers before the body is all written gets its connection
 * reset once the response is relayed: it is mid-request, and a short body must never look complete to it.
 *
 * <p>A WebSocket handshake ({@link Upgrades#isWebSocket}) is resent as little as a non-idempotent request: once
 * written it is never tried again (the backend may have acted on it), and it goes only over connections busy
 * moments ago. Its {@code 101} ends the call: the connection leaves it for the sink's tunnel
 * ({@link ResponseSink#onUpgrade}) and never returns to the pool. A 101 to anything else is a broken backend.
 *
 * <p>Every attempt of a call is picked by the balancer in force when the call started, with the key it worked out
 * of the request then ({@link LoadBalancer#key}): a reload meanwhile does not move a call to another pool.
 */
public final class UpstreamCall implements Call {

    private final Upstream upstream;
    /** The pool's balancer as it was when the request was routed: every attempt picks from it. */
    private final LoadBalancer balancer;
    private final EventLoop loop;
    private final HttpRequest request;
    private final ResponseSink sink;
    /**
     * The request came without {@code Host} (HTTP/1.0 allows it): each attempt names its backend's address there, as
     * HTTP/1.1 requires a Host (RFC 9112 section 3.2) and as nginx's default {@code Host $proxy_host} does.
     */
    private final boolean hostIsBackend;
    /** What the balancer hashes ({@link LoadBalancer#key}), worked out once. */
    private final long key;
    private final boolean idempotent;
    /** A WebSocket handshake: a 101 makes a tunnel of the connection. */
    private final boolean upgrade;
    /** Null when the body is at hand ({@code FullHttpRequest}). */
    private final StreamedBody body;
    private final long timeoutNanos;
    private final List<Backend> tried = new ArrayList<>(2);
    private int attempts;
    private boolean freshConnectionOnly;
    private Backend backend;
    /** The backend was out of rotation when this attempt went to it: the pool is in panic. */
    private boolean outOfRotation;
    private BackendHandler connection;
    private boolean reused;
    private boolean requestWritten;
    private boolean responseStarted;
    private boolean informational;
    private boolean reusable;
    private boolean paused;
    private boolean done;
    private Failure lastFailure;
    private Throwable lastCause;
    private long lastActivityNanos;
    private long dispatchNanos;

    UpstreamCall(Upstream upstream, EventLoop loop, HttpRequest request, LoadBalancer balancer, String clientAddress,
                 ResponseSink sink) {
        this.upstream = upstream;
        this.balancer = balancer;
        this.loop = loop;
        this.request = request;
        this.sink = sink;
        this.key = balancer.key(request, clientAddress);
        this.hostIsBackend = !request.headers().contains(HttpHeaderNames.HOST);
        this.upgrade = Upgrades.isWebSocket(request);
        this.idempotent = HttpMethods.isIdempotent(request.method()) && !upgrade;
        this.body = request instanceof FullHttpRequest ? null : new StreamedBody(this, sink);
        this.timeoutNanos = upstream.timeouts().backendResponse().toNanos();
    }

    void start() {
        if (body != null) {
            body.start();
        }
        attempt(pick());
    }

    /** The backend now serving the request, or the last one tried. */
    public Backend backend() {
        return backend;
    }

    @Override
    public void pauseReading() {
        BackendHandler c = connection;
        if (c != null && !paused) {
            paused = true;
            c.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void resumeReading() {
        BackendHandler c = connection;
        if (c != null && paused) {
            paused = false;
            lastActivityNanos = System.nanoTime();
            c.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void abort() {
        if (done) {
            return;
        }
        done = true;
        if (connection != null) {
            drop();
        }
        releaseRequest();
    }

    /** Closes the connection in use, with a reset if it is mid-body (its request must not look complete). */
    private void drop() {
        boolean midBody = midBody();
        BackendHandler conn = detach();
        if (midBody) {
            conn.reset();
        } else {
            conn.close();
        }
    }

    @Override
    public void sendBody(HttpContent part) {
        if (done || body == null) {
            part.release();
            return;
        }
        body.add(part);
    }

    /** Some of a streamed body is not yet written: the backend connection is mid-request. */
    private boolean midBody() {
        return body != null && !requestWritten;
    }

    private void releaseRequest() {
        if (body != null) {
            body.release();
        }
        ReferenceCountUtil.release(request);
    }

    /**
     * The next backend; none left is a 502 (504 after a timeout). The balancer offers a backend to a request's first
     * attempt even when the whole pool is out of rotation (panic), so the 503 is for a pool with nothing in it.
     */
    private Backend pick() {
        Backend next = balancer.pick(tried, key);
        if (next == null) {
            boolean none = tried.isEmpty() && lastFailure == null;
            fail(none ? 503 : failStatus(), none ? "no backend to send to" : "every backend failed");
        }
        return next;
    }

    private void attempt(Backend target) {
        if (done || target == null) {
            return;
        }
        attempts++;
        backend = target;
        outOfRotation = !target.isAvailable();
        if (!freshConnectionOnly) {
            long freshWithin = RetryPolicy.resendable(idempotent, body != null) ? Long.MAX_VALUE
                    : Upstream.NON_IDEMPOTENT_REUSE_NANOS;
            BackendHandler pooled = upstream.pool().poll(target, freshWithin);
            if (pooled != null) {
                dispatch(pooled, true);
                return;
            }
        }
        Future<Channel> connect = upstream.connect(loop, target);
        connect.addListener(f -> onConnected(connect));
    }

    private void onConnected(Future<Channel> f) {
        if (done) {
            if (f.isSuccess()) {
                f.getNow().close();
            }
            return;
        }
        if (!f.isSuccess()) {
            Throwable cause = f.cause();
            Failure kind = cause instanceof ConnectTimeoutException ? Failure.CONNECT_TIMEOUT
                    : cause instanceof BackendTls.HandshakeFailure ? Failure.TLS_HANDSHAKE : Failure.CONNECT_REFUSED;
            failed(kind, cause);
            return;
        }
        dispatch(f.getNow().pipeline().get(BackendHandler.class), false);
    }

    private void dispatch(BackendHandler conn, boolean wasPooled) {
        connection = conn;
        reused = wasPooled;
        requestWritten = false;
        responseStarted = false;
        informational = false;
        paused = false;
        conn.bind(this);
        if (hostIsBackend) {
            request.headers().set(HttpHeaderNames.HOST, backend.label());
        }
        backend.onRequestStart();
        dispatchNanos = System.nanoTime();
        lastActivityNanos = dispatchNanos;
        if (body != null) {
            conn.channel().write(request).addListener(f -> {
                if (!f.isSuccess()) {
                    onConnectionLost(conn, f.cause());
                }
            });
            body.attach(conn);
            return;
        }
        conn.channel().writeAndFlush(((FullHttpRequest) request).retainedDuplicate()).addListener(f -> {
            if (!f.isSuccess()) {
                onConnectionLost(conn, f.cause());
            } else if (connection == conn) {
                requestWritten = true; // only a fully written request leaves the connection reusable
            }
        });
    }

    /** A part of a streamed body reached the backend's socket. */
    void onBodyWritten(BackendHandler conn, boolean last) {
        if (conn == connection && !done) {
            lastActivityNanos = System.nanoTime();
            requestWritten = last;
        }
    }

    void onWritabilityChanged(BackendHandler conn) {
        if (body != null && !done) {
            body.onWritabilityChanged(conn);
        }
    }

    /** The backend made progress: its silence starts again from now. */
    void touch() {
        lastActivityNanos = System.nanoTime();
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
        if (code == 101 && upgrade && Upgrades.acceptsWebSocket(head)) {
            upgraded(head);
            return;
        }
        if (code == 101) {
            onConnectionLost(conn, new IllegalStateException("backend switched protocols"));
            return;
        }
        if (code < 200) {
            informational = true; // its empty last part is dropped in onContent
            if (code != 100) { // 100 Continue: PIBL answered the client's Expect itself and holds the body
                HopByHop.strip(head.headers());
                sink.onInterim(head);
            }
            return;
        }
        informational = false;
        responseStarted = true;
        backend.recordResponse(code, System.nanoTime() - dispatchNanos); // to the final head, not the last byte
        reusable = HttpUtil.isKeepAlive(head);
        HopByHop.strip(head.headers()); // the backend connection's fields end here; framing is the sink's
        sink.onResponse(head, backend);
    }

    /** The backend switched to WebSocket: the call ends here, and its connection goes to the sink, never to the pool. */
    private void upgraded(HttpResponse head) {
        done = true;
        responseStarted = true;
        backend.recordResponse(101, System.nanoTime() - dispatchNanos);
        BackendHandler conn = detach();
        backend.recordSuccess();
        if (outOfRotation) {
            backend.answeredInPanic();
        }
        releaseRequest();
        HopByHop.strip(head.headers());
        Upgrades.restore(head.headers());
        sink.onUpgrade(head, backend, new Upgraded(conn));
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
            complete();
        }
        sink.onContent(content);
    }

    void onReadComplete() {
        if (responseStarted) {
            sink.flush();
        }
    }

    private void complete() {
        done = true;
        boolean midBody = midBody();
        BackendHandler conn = detach();
        backend.recordSuccess();
        if (outOfRotation) {
            backend.answeredInPanic();
        }
        if (midBody) {
            conn.reset(); // it answered early; the rest of the body will never come, and must not look complete
        } else if (reusable && requestWritten && conn.channel().isActive()) {
            upstream.pool().release(conn);
        } else {
            conn.close();
        }
        releaseRequest();
    }

    /** The connection in use is no longer this call's: unbound, counted out of the backend's in-flight. */
    private BackendHandler detach() {
        BackendHandler conn = connection;
        connection = null;
        conn.unbind();
        backend.onRequestEnd();
        return conn;
    }

    void onConnectionLost(BackendHandler conn, Throwable cause) {
        if (done || conn != connection) {
            return;
        }
        detach().close();
        failed(Failure.CLOSED, cause);
    }

    long timeoutNanos() {
        return timeoutNanos;
    }

    /**
     * How much longer the backend may stay silent; a paused call (slow client) is never timed out, nor one whose
     * backend has the streamed body so far and waits for more of it from the client.
     */
    long silenceLeftNanos() {
        if (paused || (body != null && !done && body.waitingOnClient())) {
            return timeoutNanos;
        }
        return timeoutNanos - (System.nanoTime() - lastActivityNanos);
    }

    /** The backend connection's timer found the backend silent for too long. */
    void onTimeout(BackendHandler conn) {
        if (done || conn != connection) {
            return;
        }
        drop();
        long millis = TimeUnit.NANOSECONDS.toMillis(timeoutNanos);
        failed(Failure.RESPONSE_TIMEOUT, new UpstreamTimeoutException("silent for " + millis + " ms"));
    }

    /** One attempt failed: the backend's health hears of it (but for the keep-alive race), the policy decides. */
    private void failed(Failure kind, Throwable cause) {
        boolean attemptsLeft = attempts <= upstream.retries();
        Decision decision = RetryPolicy.decide(kind, reused, idempotent, body != null, responseStarted, attemptsLeft);
        lastFailure = kind;
        lastCause = cause;
        if (decision != Decision.RESEND_SAME_BACKEND) {
            backend.recordFailure(cause);
            tried.add(backend);
        }
        upstream.attemptLog().failed((task, nanos) -> loop.schedule(task, nanos, TimeUnit.NANOSECONDS), backend,
                request, kind, decision, cause, responseStarted, idempotent, body != null, timeoutNanos);
        switch (decision) {
            case RESEND_SAME_BACKEND -> {
                attempts--;
                freshConnectionOnly = true; // the keep-alive race: the pooled connections may all be stale
                attempt(backend);
            }
            case NEXT_BACKEND -> attempt(pick());
            case FAIL_502 -> fail(502, AttemptLog.describe(cause));
            case FAIL_504 -> fail(504, AttemptLog.describe(cause));
            case CLOSE -> fail(502, "failed mid-response: " + AttemptLog.describe(cause));
        }
    }

    /** The status of a failure after the last attempt: 504 if it timed out, else 502. */
    private int failStatus() {
        return lastFailure == Failure.CONNECT_TIMEOUT || lastFailure == Failure.RESPONSE_TIMEOUT ? 504 : 502;
    }

    private void fail(int status, String why) {
        if (done) {
            return;
        }
        done = true;
        releaseRequest();
        sink.onError(new UpstreamException(status, why, lastCause), responseStarted);
    }
}
