package pibl.handler;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.route.Route;
import pibl.route.Router;

import java.net.InetSocketAddress;
import java.util.function.Supplier;

/**
 * The route segment, after the guard and before the cache: matches each request once to a route of the
 * {@link Router} in force, records it in the {@link Exchange} (the cache reads its settings there, the forwarder its
 * pool), and answers itself what the route refuses. On the way back it rewrites the response's fields as the route
 * says, whoever made the response (a backend, the cache, PIBL's own 502): the cache has stored the backend's.
 *
 * <pre>
 * GET /x, Host: other.example, no route takes it       404, counted as no-route; nothing forwarded
 * GET /admin from 192.0.2.7, allow: [10.0.0.0/8]       403, counted as denied
 * GET /api, the client's bucket empty                   429, Retry-After: 1 (seconds, rounded up), counted
 * GET /cart, Host: www.shop.example                      → the cache and the pool of *.shop.example;
 *                                                         response-remove: [Server] applied to the answer
 * </pre>
 *
 * The client's address is the peer's, or what {@code X-Forwarded-For} says when the peer is a trusted proxy. A
 * refused request with a body still coming closes the connection after the answer (its body is unread). Needs
 * nothing of the channel but its remote address and the {@link Exchange}: an HTTP/2 stream can host it.
 */
public final class RouteHandler extends ChannelDuplexHandler {
    private static final Logger LOG = LogManager.getLogger(RouteHandler.class);
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final Supplier<Router> router;
    /** The peer's address bytes, read once per connection; empty when it has none (not an IP socket). */
    private byte[] peer;

    /** @param router the router in force now: read once per exchange, so a reload applies from the next request */
    public RouteHandler(Supplier<Router> router) {
        this.router = router;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest request)) {
            ctx.fireChannelRead(msg); // the parts of a streamed body follow their head (dropped by forward if refused)
            return;
        }
        Exchange exchange = Exchange.current(ctx.channel());
        Router r = router.get();
        Route route = r.match(request.headers().get(HttpHeaderNames.HOST), request.uri(), request.method().name());
        if (route == null) {
            r.countNoRoute();
            LOG.debug("{} no route for {} {} (Host {})", ctx.channel().remoteAddress(), request.method(),
                    request.uri(), request.headers().get(HttpHeaderNames.HOST));
            refuse(ctx, exchange, request, ErrorResponses.create(HttpResponseStatus.NOT_FOUND));
            return;
        }
        if (exchange != null) {
            exchange.route(route);
        }
        if (exchange != null && exchange.fromPeer()) {
            // A fleet peer's, for its client: the receiving node judged allow, deny and the rate limit already, by
            // that client; judged here by the peer's address, every client of that node would share one bucket.
            route.counted(Route.Outcome.FORWARDED);
            ctx.fireChannelRead(request);
            return;
        }
        byte[] client = route.readsClient() || r.trustsProxies() ? client(ctx, r, request) : null;
        if (client != null && client != peer && exchange != null) {
            exchange.client(Exchange.clientAddress(client));
        }
        if (route.readsClient()) {
            if (client == null || !route.admits(client)) {
                route.counted(Route.Outcome.DENIED);
                refuse(ctx, exchange, request, ErrorResponses.create(HttpResponseStatus.FORBIDDEN));
                return;
            }
            long wait = route.takeToken(client);
            if (wait > 0) {
                route.counted(Route.Outcome.RATE_LIMITED);
                FullHttpResponse tooMany = ErrorResponses.create(HttpResponseStatus.TOO_MANY_REQUESTS);
                tooMany.headers().set(HttpHeaderNames.RETRY_AFTER, (wait + NANOS_PER_SECOND - 1) / NANOS_PER_SECOND);
                refuse(ctx, exchange, request, tooMany);
                return;
            }
        }
        route.counted(Route.Outcome.FORWARDED);
        ctx.fireChannelRead(request);
    }

    /** The client's address, or null when the connection has no IP peer (then {@code allow:} cannot be met). */
    private byte[] client(ChannelHandlerContext ctx, Router r, HttpRequest request) {
        if (peer == null) {
            peer = ctx.channel().remoteAddress() instanceof InetSocketAddress inet && inet.getAddress() != null
                    ? inet.getAddress().getAddress() : new byte[0];
        }
        if (peer.length == 0) {
            return null;
        }
        return r.client(peer, request.headers().getAll(X_FORWARDED_FOR));
    }

    private static void refuse(ChannelHandlerContext ctx, Exchange exchange, HttpRequest request,
                               FullHttpResponse answer) {
        boolean bodyFollows = !(request instanceof FullHttpRequest);
        ReferenceCountUtil.release(request);
        if (exchange != null && bodyFollows) {
            exchange.requestClose(); // the rest of the body must not be read as the next request
        }
        ctx.writeAndFlush(answer);
    }

    /** The route's {@code response-set} and {@code response-remove}, on the final response head. */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse head && !ResponseHeads.isInterim(msg)) {
            Exchange exchange = Exchange.current(ctx.channel());
            Route route = exchange == null ? null : exchange.route();
            if (route != null && route.rewritesResponse()) {
                route.rewriteResponse(head.headers());
            }
        }
        ctx.write(msg, promise);
    }
}
