package pibl.handler;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpRequest;
import pibl.http.ProxyHeaders;
import pibl.http.TraceContext;
import pibl.upstream.Call;
import pibl.upstream.ResponseSink;
import pibl.upstream.Upstream;

/**
 * How a request reaches a backend: a client's request ({@link ForwardingHandler}) and PIBL's own background
 * refresh of a stale entry ({@link BackgroundRefresh}) alike go through {@link #send}. The one real way,
 * {@link #to(Upstream)}, applies the hop's header rules ({@link ProxyHeaders#toBackend}), the exchange's request id
 * and trace ({@link TraceContext#apply}: {@code X-Request-Id}, {@code traceparent} with PIBL's span), and hands the request to
 * the {@link Upstream}; tests put a scripted backend in its place.
 */
@FunctionalInterface
public interface Forwarder {

    /**
     * Sends {@code request} (ownership passes on) for {@code exchange}, from {@code loop}, which must be the
     * caller's own event loop; the response goes to {@code sink}, on that loop. A {@code FullHttpRequest} carries
     * its body; any other request is a streamed head, whose body the caller passes to {@link Call#sendBody}.
     */
    Call send(EventLoop loop, Exchange exchange, HttpRequest request, ResponseSink sink);

    /** Through the backends of {@code upstream}. */
    static Forwarder to(Upstream upstream) {
        return (loop, exchange, request, sink) -> {
            ProxyHeaders.toBackend(request, exchange.clientAddress(), exchange.scheme(), exchange.version());
            TraceContext.apply(request.headers(), exchange.ids());
            return upstream.send(loop, request, exchange.clientAddress(), sink);
        };
    }
}
