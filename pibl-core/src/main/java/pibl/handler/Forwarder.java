package pibl.handler;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpRequest;
import pibl.cluster.Cluster;
import pibl.http.ProxyHeaders;
import pibl.http.TraceContext;
import pibl.route.Route;
import pibl.upstream.Call;
import pibl.upstream.ResponseSink;
import pibl.upstream.Upstream;

/**
 * How a request reaches a backend: a client's request ({@link ForwardingHandler}) and PIBL's own background
 * refresh of a stale entry ({@link BackgroundRefresh}) alike go through {@link #send}. The one real way,
 * {@link #to(Upstream)}, applies the hop's header rules ({@link ProxyHeaders#toBackend}), the exchange's request id
 * and trace ({@link TraceContext#apply}: {@code X-Request-Id}, {@code traceparent} with PIBL's span), then the
 * route's {@code request-set} and {@code request-remove} (after PIBL's own rules, so a route may drop
 * {@code X-Forwarded-For} or set {@code Host}), and hands the request to the {@link Upstream} with the balancer of
 * the exchange's pool; tests put a scripted backend in its place.
 */
@FunctionalInterface
public interface Forwarder {

    /**
     * Sends {@code request} (ownership passes on) for {@code exchange}, from {@code loop}, which must be the
     * caller's own event loop; the response goes to {@code sink}, on that loop. A {@code FullHttpRequest} carries
     * its body; any other request is a streamed head, whose body the caller passes to {@link Call#sendBody}.
     */
    Call send(EventLoop loop, Exchange exchange, HttpRequest request, ResponseSink sink);

    /** Through {@code upstream} to the backends of the exchange's pool (its route's: {@link RouteHandler}). */
    static Forwarder to(Upstream upstream) {
        return (loop, exchange, request, sink) -> {
            Route route = exchange.route();
            if (route == null) {
                throw new IllegalStateException("no route for " + exchange.uri() + ": the route segment is missing");
            }
            ProxyHeaders.toBackend(request, exchange.clientAddress(), exchange.scheme(), exchange.version());
            TraceContext.apply(request.headers(), exchange.ids());
            Cluster owner = exchange.toOwner();
            if (owner != null) { // the owning node applies the route's rewrites, as it routes the request itself
                owner.sign(request, exchange.client(), exchange.scheme());
                return upstream.send(loop, request, owner.balancer(), exchange.client(), sink);
            }
            if (route.rewritesRequest()) {
                route.rewriteRequest(request.headers());
            }
            return upstream.send(loop, request, route.pool().balancer(), exchange.client(), sink);
        };
    }
}
