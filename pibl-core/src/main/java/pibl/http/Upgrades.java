package pibl.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;

/**
 * The one protocol upgrade PIBL passes on: WebSocket (RFC 6455 4.1, RFC 9110 7.8). Everything else that asks for
 * an upgrade ({@code h2c}, {@code foo}, a WebSocket handshake missing a field) is an ordinary request, its
 * {@code Upgrade} stripped with the other hop-by-hop fields ({@link HopByHop}).
 *
 * <pre>
 * GET /ws HTTP/1.1                         a WebSocket handshake: forwarded with Upgrade: websocket and
 * Connection: keep-alive, Upgrade          Connection: upgrade (the hop's own fields, rebuilt), and the
 * Upgrade: websocket                       Sec-WebSocket-* fields end to end
 * Sec-WebSocket-Key: dGhlIHNhbXBsZQ==      backend 101 + Upgrade: websocket  → the two connections become a tunnel
 * Sec-WebSocket-Version: 13                backend anything else             → an ordinary response
 * </pre>
 *
 * A handshake with a body, over HTTP/1.0, or without its key or version is not one: it goes on as a plain GET,
 * and the backend judges it (nginx and HAProxy forward and let the backend judge too), so PIBL has no second
 * opinion on WebSocket to keep in step with the backend's.
 */
public final class Upgrades {
    private Upgrades() {
    }

    /** True for a complete WebSocket opening handshake, bodyless, that PIBL may turn into a tunnel. */
    public static boolean isWebSocket(HttpRequest request) {
        HttpHeaders h = request.headers();
        return HttpMethod.GET.equals(request.method())
                && HttpVersion.HTTP_1_1.equals(request.protocolVersion())
                && HopByHop.connectionTokens(h).contains("upgrade")
                && upgradesToWebSocket(h)
                && h.contains(HttpHeaderNames.SEC_WEBSOCKET_KEY)
                && h.contains(HttpHeaderNames.SEC_WEBSOCKET_VERSION)
                && !h.contains(HttpHeaderNames.TRANSFER_ENCODING)
                && (!h.contains(HttpHeaderNames.CONTENT_LENGTH) || "0".equals(h.get(HttpHeaderNames.CONTENT_LENGTH)));
    }

    /** True if a backend's 101 switches to WebSocket, the protocol asked for (RFC 9110 15.2.2). */
    public static boolean acceptsWebSocket(HttpResponse response) {
        return response.status().code() == 101 && upgradesToWebSocket(response.headers());
    }

    /** {@code Upgrade} names {@code websocket} (a token, any case, in a list). */
    private static boolean upgradesToWebSocket(HttpHeaders h) {
        return h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    }

    /** Puts back the hop's upgrade fields after {@link HopByHop#strip}: this hop asks for (or agrees to) WebSocket. */
    public static void restore(HttpHeaders h) {
        h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    }
}
