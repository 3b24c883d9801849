package pibl.upstream;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import pibl.lb.Backend;

/**
 * Where an {@link UpstreamCall} delivers the backend's response, part by part, on the event loop
 * of the call. The client-facing {@code ForwardingHandler} writes the parts to the client; the
 * cache's background refresh writes them to a cache file.
 */
public interface ResponseSink {

    /** The final (non-1xx) response head. Hop-by-hop headers are still there. */
    void onResponse(HttpResponse head, Backend backend);

    /** A part of the body; the sink owns it from here. The last part is a {@code LastHttpContent}. */
    void onContent(HttpContent content);

    /** The backend has nothing more to read for now: a good moment to flush. */
    void flush();

    /**
     * The call failed. Before any response part ({@code responseStarted == false}) the sink may
     * still answer with an error status; after, the response is truncated and must not look complete.
     *
     * @param cause {@link UpstreamTimeoutException} for a timeout; a {@link NoBackendException} when
     *              no backend was left to try; otherwise the I/O error
     */
    void onError(Throwable cause, boolean responseStarted);
}
