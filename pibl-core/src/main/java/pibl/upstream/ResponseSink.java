package pibl.upstream;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import pibl.lb.Backend;

/**
 * Where an {@link UpstreamCall} delivers the backend's response, part by part, on the event loop
 * of the call. The client-facing {@code ForwardingHandler} writes the parts to the client; a
 * background refresh of the cache writes them to a cache file.
 */
public interface ResponseSink {

    /**
     * The final (non-1xx) response head, end to end: the backend connection's hop-by-hop fields, framing
     * included, are already gone; whether the body is delimited by length or by chunks is the sink's to decide.
     */
    void onResponse(HttpResponse head, Backend backend);

    /**
     * An interim response (RFC 9110 15.2: {@code 103 Early Hints}, {@code 102 Processing}, any 1xx but
     * {@code 100}, which PIBL answers itself, and {@code 101}), end to end, before the final one. The head carries
     * no body. A sink that has no client to tell ignores it, the default.
     */
    default void onInterim(HttpResponse interim) {
    }

    /**
     * The backend answered a WebSocket handshake with {@code 101} (the head end to end, with the hop's
     * {@code Upgrade: websocket} and {@code Connection: upgrade} put back): the call is over, and the connection is
     * the sink's, to join to its client ({@link Upgraded#install}) before this returns, or to close. A sink with no
     * client to join it to closes it, the default.
     */
    default void onUpgrade(HttpResponse head, Backend backend, Upgraded upgraded) {
        upgraded.close();
    }

    /** A part of the body; the sink owns it from here. The last part is a {@code LastHttpContent}. */
    void onContent(HttpContent content);

    /** The backend has nothing more to read for now: a good moment to flush. */
    void flush();

    /**
     * The call failed. Before any response part ({@code responseStarted == false}) the sink may
     * still answer with an error status; after, the response is truncated and must not look complete.
     *
     * @param failure an {@link UpstreamException} naming the status the client should get (502, 503, 504)
     */
    void onError(UpstreamException failure, boolean responseStarted);

    /**
     * A streamed request body only: {@code false} when the backend cannot take more of it for now (no connection
     * yet, or its socket buffer is full), so the sender stops reading the client; {@code true} when it can again.
     */
    default void onBodyWritability(boolean writable) {
    }
}
