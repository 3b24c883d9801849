package pibl.handler;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.cache.CacheKey;
import pibl.cache.HttpCache;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * {@code PURGE /path}, the operator's way to drop a stored response (Varnish's and nginx's convention): from a
 * loopback client the key's every variant is removed and the answer is 200; from anywhere else, 403. The key is
 * the one a GET with the same {@code Host} would use. In cluster mode the purge also goes to every other node
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
        request.release();
        Exchange ex = Exchange.current(ctx.channel());
        boolean fromPeer = fleet != null && ex != null && ex.fromPeer();
        boolean local = fromPeer || ctx.channel().remoteAddress() instanceof InetSocketAddress inet
                && inet.getAddress().isLoopbackAddress();
        if (!local) {
            ErrorResponses.send(ctx, HttpResponseStatus.FORBIDDEN);
            return;
        }
        int purged = cache.store().invalidate(key) ? 1 : 0;
        cache.clearPass(key);
        LOG.info("purged {}{}", key.text(), fromPeer ? " for a peer" : "");
        if (fromPeer) {
            fleet.answerPeer(ctx, purged);
            return;
        }
        if (fleet != null) {
            fleet.fanOut(ctx, host, uri, ex == null ? "-" : ex.client(), purged);
            return;
        }
        ByteBuf body = Unpooled.copiedBuffer("purged " + key.target() + "\n", StandardCharsets.UTF_8);
        var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        ctx.writeAndFlush(response);
    }
}
