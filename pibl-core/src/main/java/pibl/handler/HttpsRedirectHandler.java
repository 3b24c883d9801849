package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;

/**
 * The cleartext port's only answer when {@code tls.redirect-http} is on: in place of the cache and forward
 * segments, after the guard (a malformed request still gets its 400).
 *
 * <pre>
 * GET /a?b=1 HTTP/1.1, Host: shop.example:8080   → 308, Location: https://shop.example:8443/a?b=1
 * the same with the TLS port on 443              → 308, Location: https://shop.example/a?b=1
 * </pre>
 *
 * 308 rather than 301: the method and body are kept (RFC 9110 section 15.4.9), so a POST is not turned into a
 * GET. Nothing is cached or forwarded; a streamed body's parts are dropped and the connection closes after it.
 *
 * <p>In cluster mode the peers reach each other on this port, in cleartext: a fleet peer's request (its mark
 * verified by the {@link PeerHandler} before this one) goes on to the route, cache and forward segments, as the
 * receiving node's redirect has already been decided at the edge.
 */
public final class HttpsRedirectHandler extends ChannelInboundHandlerAdapter {
    private final int httpsPort;
    /** The current request is a fleet peer's, passed on with its body's parts. */
    private boolean passing;

    /** @param httpsPort the bound TLS port, left out of the Location when 443 */
    public HttpsRedirectHandler(int httpsPort) {
        this.httpsPort = httpsPort;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest request)) {
            if (passing) {
                ctx.fireChannelRead(msg);
            } else {
                ReferenceCountUtil.release(msg); // the rest of a streamed body: nobody wants it
            }
            return;
        }
        Exchange current = Exchange.current(ctx.channel());
        passing = current != null && current.fromPeer();
        if (passing) {
            ctx.fireChannelRead(msg);
            return;
        }
        String location = location(request.headers().get(HttpHeaderNames.HOST), localHost(ctx), httpsPort,
                request.uri());
        Exchange ex = Exchange.current(ctx.channel());
        if (!(request instanceof FullHttpRequest) && ex != null) {
            ex.requestClose();
        }
        ReferenceCountUtil.release(request);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.PERMANENT_REDIRECT, Unpooled.EMPTY_BUFFER);
        response.headers().set(HttpHeaderNames.LOCATION, location).set(HttpHeaderNames.CONTENT_LENGTH, 0);
        ctx.writeAndFlush(response);
    }

    /** The https URL of {@code target} on {@code host} (the request's Host, its port dropped). */
    static String location(String host, String fallbackHost, int httpsPort, String target) {
        String name = host == null || host.isEmpty() ? fallbackHost : withoutPort(host);
        return "https://" + name + (httpsPort == 443 ? "" : ":" + httpsPort) + (target.startsWith("/") ? target : "/");
    }

    private static String withoutPort(String host) {
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            return close < 0 ? host : host.substring(0, close + 1);
        }
        int colon = host.indexOf(':');
        return colon < 0 ? host : host.substring(0, colon);
    }

    /** For an HTTP/1.0 request without Host: the address the client reached. */
    private static String localHost(ChannelHandlerContext ctx) {
        if (ctx.channel().localAddress() instanceof InetSocketAddress local) {
            String ip = local.getAddress().getHostAddress();
            return ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip;
        }
        return "localhost";
    }
}
