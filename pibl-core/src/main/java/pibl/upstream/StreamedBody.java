package pibl.upstream;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.ArrayDeque;

/**
 * The body of a streamed request (larger than {@code limits.retry-buffer}, or chunked) on its way to one backend,
 * read from the client only as fast as the backend takes it:
 *
 * <pre>
 * client  → PIBL     head  part part ............................ part ...... last
 * PIBL    → backend  (connecting: client paused)  head part part  (backend not writable: client paused)
 *                                                  (writable again: client read again)  part ...... last
 * </pre>
 *
 * Parts that arrive before a connection has the head wait here; the client is paused meanwhile, so that is at most
 * one socket read of them. After that each part is written as it comes and kept nowhere: once any of it is written
 * the request can never be sent again ({@link RetryPolicy}). Runs on the call's event loop.
 */
final class StreamedBody {
    private final UpstreamCall call;
    private final ResponseSink sink;
    private final ArrayDeque<HttpContent> queued = new ArrayDeque<>(4);
    private BackendHandler connection;
    private boolean ended;
    private boolean clientPaused;

    StreamedBody(UpstreamCall call, ResponseSink sink) {
        this.call = call;
        this.sink = sink;
    }

    /** Before any backend has the head: hold the client. */
    void start() {
        pauseClient();
    }

    void add(HttpContent part) {
        if (part instanceof LastHttpContent) {
            ended = true;
        }
        BackendHandler c = connection;
        if (c == null) {
            queued.add(part);
            return;
        }
        write(c, part);
        c.channel().flush();
        if (!c.channel().isWritable()) {
            pauseClient();
        }
    }

    /** {@code conn} has the head: the parts so far follow it; the client is read again if the backend can take more. */
    void attach(BackendHandler conn) {
        connection = conn;
        HttpContent part;
        while ((part = queued.poll()) != null) {
            write(conn, part);
        }
        conn.channel().flush();
        if (conn.channel().isWritable()) {
            resumeClient();
        }
    }

    void onWritabilityChanged(BackendHandler conn) {
        if (conn == connection && conn.channel().isWritable()) {
            resumeClient();
        }
    }

    private void write(BackendHandler conn, HttpContent part) {
        boolean last = part instanceof LastHttpContent;
        conn.channel().write(part).addListener(f -> {
            if (f.isSuccess()) {
                call.onBodyWritten(conn, last);
            } else {
                call.onConnectionLost(conn, f.cause());
            }
        });
    }

    /** The last part came from the client. */
    boolean ended() {
        return ended;
    }

    /**
     * The backend has what the client sent so far and can take more: any silence now is the client's, which the
     * client side judges ({@code timeouts.client-idle}), not {@code timeouts.backend-response}.
     */
    boolean waitingOnClient() {
        return connection != null && !ended && !clientPaused;
    }

    private void pauseClient() {
        if (!clientPaused && !ended) {
            clientPaused = true;
            sink.onBodyWritability(false);
        }
    }

    private void resumeClient() {
        if (clientPaused) {
            clientPaused = false;
            call.touch(); // the backend took what it had: it is not silent
            if (!ended) {
                sink.onBodyWritability(true);
            }
        }
    }

    /** The call is over: parts not yet written are dropped, none is written from now on. */
    void release() {
        connection = null;
        HttpContent part;
        while ((part = queued.poll()) != null) {
            part.release();
        }
    }
}
