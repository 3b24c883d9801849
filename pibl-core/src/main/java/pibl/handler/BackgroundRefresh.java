package pibl.handler;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import pibl.cache.CacheEntry;
import pibl.cache.CacheFill;
import pibl.cache.CacheKey;
import pibl.cache.CachePolicy;
import pibl.cache.HttpCache;
import pibl.cache.MissLock;
import pibl.config.CacheConfig;
import pibl.lb.Backend;
import pibl.upstream.ResponseSink;
import pibl.upstream.UpstreamException;

/**
 * stale-while-revalidate (RFC 5861): while the client is served the stale entry, an internal sub-request
 * revalidates it through the ordinary path: the request is built by {@link CachePolicy#upstreamRequest} and sent
 * by the {@link Forwarder}, as a client's revalidation is, and the response goes to a {@link CacheFill} holding the
 * key's {@link MissLock} lease (a 304 refreshes the entry, a storable 200 replaces it) and then nowhere. When a
 * fetch of the key is already under way, no second one starts. It goes to the pool of the client's route, with
 * that route's cache settings. Not written to the access log (as nginx's background updates are not).
 */
final class BackgroundRefresh implements ResponseSink {
    private final CacheFill fill;

    private BackgroundRefresh(CacheFill fill) {
        this.fill = fill;
    }

    /** Starts refreshing {@code stale} for {@code request}'s client, unless the key is already being fetched. */
    static void start(HttpCache cache, Forwarder forwarder, EventLoop loop, Exchange parent, CacheKey key,
                      CacheConfig rules, HttpRequest request, CacheEntry stale) {
        MissLock.Lease lease = cache.missLock().tryLead(key.text());
        if (lease == null) {
            return;
        }
        // Initiated by the cache itself: synthesized from the stored response's request, a GET (RFC 9111 4.3.1).
        HttpRequest asGet = new DefaultHttpRequest(request.protocolVersion(), HttpMethod.GET, request.uri(),
                request.headers());
        FullHttpRequest refresh = CachePolicy.upstreamRequest(asGet, stale);
        CacheFill fill = new CacheFill(cache, key, rules, HttpMethod.GET, refresh.headers().copy(), lease, stale);
        forwarder.send(loop, new Exchange(refresh, parent), refresh, new BackgroundRefresh(fill));
    }

    @Override
    public void onResponse(HttpResponse head, Backend backend) {
        fill.onHead(head); // whatever it decides, the response itself goes nowhere
    }

    @Override
    public void onContent(HttpContent content) {
        try {
            fill.onContent(content.content());
            if (content instanceof LastHttpContent) {
                fill.onEnd();
            }
        } finally {
            content.release();
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public void onError(UpstreamException failure, boolean responseStarted) {
        fill.abort();
    }
}
