package pibl.handler;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpRequest;
import pibl.http.ProxyHeaders;
import pibl.upstream.ResponseSink;
import pibl.upstream.Upstream;
import pibl.upstream.UpstreamCall;

/**
 * The one way a request reaches a backend: a client's request ({@link ForwardingHandler}) and PIBL's own
 * background refresh of a stale entry alike go through {@link #send}, which applies the hop's header rules
 * ({@link ProxyHeaders#toBackend}) and hands the request to the {@link Upstream}.
 */
public final class Forwarder {
    private final Upstream upstream;

    public Forwarder(Upstream upstream) {
        this.upstream = upstream;
    }

    /**
     * Sends {@code request} (ownership passes on) for {@code exchange}, from {@code loop}, which must be the
     * caller's own event loop; the response goes to {@code sink}.
     */
    public UpstreamCall send(EventLoop loop, Exchange exchange, FullHttpRequest request, ResponseSink sink) {
        ProxyHeaders.toBackend(request, exchange.clientAddress(), exchange.version());
        return upstream.send(loop, request, sink);
    }
}
