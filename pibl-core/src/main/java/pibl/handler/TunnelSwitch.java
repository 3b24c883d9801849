package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import pibl.http.StrictHttpServerCodec;
import pibl.runtime.ProxyStats;
import pibl.tunnel.Tunnel;
import pibl.upstream.Upgraded;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns an HTTP/1.1 client connection whose backend answered a WebSocket handshake with {@code 101} into the
 * client side of a {@link Tunnel}:
 *
 * <pre>
 * before   limit → [tls] → codec → header-timeout → aggregator → pipelining → access-log → guard → [cache] → forward
 *          backend: codec → backend
 * 101      written to the client through the codec, as any interim head
 * after    limit → [tls] → tunnel          backend: tunnel
 * </pre>
 *
 * Whatever sits before the codec stays (the connection limit, TLS); the codec and everything after it go, and
 * with them every piece of per-exchange state: the access log hands its line over to the tunnel, written when the
 * tunnel closes. The backend side is switched first, so that no byte reaches a peer that still has an HTTP codec.
 */
final class TunnelSwitch {
    private TunnelSwitch() {
    }

    /** Settings of the tunnels a client pipeline may open: where they are counted, how long they may idle. */
    record Settings(ProxyStats stats, long idleNanos) {
    }

    /**
     * Relays {@code head} and joins the two connections; false (nothing written, the backend connection closed) if
     * this is no HTTP/1.1 connection.
     */
    static boolean open(ChannelHandlerContext forward, HttpResponse head, Upgraded backend, Settings settings) {
        Channel client = forward.channel();
        ChannelPipeline p = client.pipeline();
        ChannelHandlerContext codec = p.context(StrictHttpServerCodec.class);
        if (codec == null || client.eventLoop() != backend.channel().eventLoop()) {
            backend.close();
            return false;
        }
        forward.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, head.status(), Unpooled.EMPTY_BUFFER,
                head.headers(), EmptyHttpHeaders.INSTANCE), forward.voidPromise());
        AccessLogHandler log = p.get(AccessLogHandler.class);
        Tunnel.Closed line = log == null ? (fromClient, toClient) -> { } : log.tunnelLine();
        client.attr(Exchange.KEY).set(null);
        Tunnel tunnel = Tunnel.between(client, backend.channel(), settings.idleNanos(), settings.stats(), line);
        backend.install(tunnel.backendEnd());
        p.addAfter(codec.name(), "tunnel", tunnel.clientEnd());
        for (String name : after(p, "tunnel")) {
            p.remove(name);
        }
        p.remove(codec.name()); // what it held past the handshake goes to the tunnel's client end
        tunnel.start();
        return true;
    }

    private static List<String> after(ChannelPipeline p, String name) {
        List<String> names = new ArrayList<>();
        boolean past = false;
        for (Map.Entry<String, ?> e : p) {
            if (past) {
                names.add(e.getKey());
            }
            past |= e.getKey().equals(name);
        }
        return names;
    }
}
