package pibl.upstream;

import io.netty.handler.codec.http.HttpContent;

/**
 * A request on its way through the backends, as its sender steers it: reading the response paused while the
 * client cannot take more, resumed when it can, abandoned when the client goes away; and, for a request sent as a
 * head alone (a streamed body), the body's parts as they arrive from the client.
 */
public interface Call {
    /** Stop reading the backend: the client cannot take more for now. */
    void pauseReading();

    /** The client can take more again. */
    void resumeReading();

    /** The client went away: drop the backend connection if it is mid-exchange (reset if mid-body). */
    void abort();

    /**
     * The next part of a streamed request's body (ownership passes on), the last one a {@code LastHttpContent}.
     * The call writes it once a backend connection has the head; while the backend cannot take more it asks its
     * sink to stop reading the client ({@link ResponseSink#onBodyWritability}). A part that comes after the call
     * ended (the backend answered early, or failed) is released.
     */
    void sendBody(HttpContent part);
}
