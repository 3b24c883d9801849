package pibl.handler;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.cache.Ban;
import pibl.cache.CacheKey;
import pibl.cache.HotCopies;
import pibl.cache.HttpCache;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code PURGE /path}, the operator's way to drop a stored response (Varnish's and nginx's convention): from a
 * loopback client the key's every variant is removed and the answer is 200; from anywhere else, 403. The key is
 * the one a GET with the same {@code Host} would use.
 *
 * <pre>
 *   PURGE /a                                  the key's variants               "purged /a"
 *   PURGE /static/*                           every key of the host under it   "purged 12 entries by prefix ..."
 *   PURGE /   Surrogate-Key: sku-17 home      every response tagged so         "purged 3 entries by tags ..."
 * </pre>
 *
 * A purge by prefix or tag ({@link Ban}) is in force at once and answered when the store has looked at every
 * entry, with how many went. In cluster mode the purge also goes to every other node
 * ({@link PeerPurge}), whose marked requests are let in from anywhere, and the answer is JSON, per node.
 */
final class Purge {
    private static final Logger LOG = LogManager.getLogger(CacheHandler.class);
    static final String METHOD = "PURGE";

    private Purge() {
    }

    static boolean is(FullHttpRequest request) {
        return METHOD.equals(request.method().name());
    }

    /** Answers the PURGE request (released here); {@code fleet} null outside cluster mode. */
    static void answer(ChannelHandlerContext ctx, HttpCache cache, CacheKey key, FullHttpRequest request,
                       PeerPurge fleet) {
        String host = request.headers().get(HttpHeaderNames.HOST, "");
        String uri = request.uri();
        Ban ban = banOf(host, uri, request.headers());
        request.release();
        Exchange ex = Exchange.current(ctx.channel());
        boolean fromPeer = fleet != null && ex != null && ex.fromPeer();
        boolean local = fromPeer || ctx.channel().remoteAddress() instanceof InetSocketAddress inet
                && inet.getAddress().isLoopbackAddress();
        if (!local) {
            ErrorResponses.send(ctx, HttpResponseStatus.FORBIDDEN);
            return;
        }
        String client = ex == null ? "-" : ex.client();
        if (ban == null) {
            long purged = cache.store().invalidate(key) ? 1 : 0;
            if (fleet != null) {
                cache.store().invalidate(HotCopies.copyOf(key)); // this node's copy, if it kept one
            }
            cache.clearPass(key);
            LOG.info("purged {}{}", key.text(), fromPeer ? " for a peer" : "");
            answer(ctx, fleet, fromPeer, key.scheme(), host, uri, null, client, purged, "purged " + key.target());
            return;
        }
        long started = System.nanoTime();
        cache.store().purge(ban).thenAccept(purged -> ctx.executor().execute(() -> {
            LOG.info("purged {} entries by {}{} in {} ms", purged, ban.describe(), fromPeer ? " for a peer" : "",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            answer(ctx, fleet, fromPeer, key.scheme(), host, uri,
                    ban.tags().isEmpty() ? null : String.join(" ", ban.tags()),
                    client, purged, "purged " + purged + " entries by " + ban.describe());
        }));
    }

    /**
     * What a PURGE wider than its own key removes, or null for the key alone: the tags of its
     * {@code Surrogate-Key} / {@code Cache-Tag} fields, else, for a target ending in {@code *}, every key of its
     * host whose target starts with what precedes the {@code *} (ngx_cache_purge's convention).
     */
    static Ban banOf(String host, String uri, HttpHeaders headers) {
        Set<String> tags = Ban.tagsOf(headers);
        if (!tags.isEmpty()) {
            return Ban.tags(tags);
        }
        if (uri.endsWith("*")) {
            return Ban.prefix(host, uri.substring(0, uri.length() - 1));
        }
        return null;
    }

    private static void answer(ChannelHandlerContext ctx, PeerPurge fleet, boolean fromPeer, String scheme,
                               String host, String uri, String tags, String client, long purged, String text) {
        if (fromPeer) {
            fleet.answerPeer(ctx, purged);
            return;
        }
        if (fleet != null) {
            fleet.fanOut(ctx, scheme, host, uri, tags, client, purged);
            return;
        }
        ByteBuf body = Unpooled.copiedBuffer(text + "\n", StandardCharsets.UTF_8);
        var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        ctx.writeAndFlush(response);
    }
}
