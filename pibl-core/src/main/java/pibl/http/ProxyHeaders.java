package pibl.http;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

/**
 * The header rules of a proxy hop (RFC 9110 section 7.6).
 *
 * <pre>
 * client → PIBL:   Connection: close, X-Trace    X-Trace: 1    Keep-Alive: 5    X-Forwarded-For: 10.1.1.1
 * PIBL → backend:  (Connection, X-Trace, Keep-Alive gone)
 *                  X-Forwarded-For: 10.1.1.1, 127.0.0.1   X-Forwarded-Proto: http
 *                  X-Forwarded-Host: shop.example   Via: 1.1 pibl
 * </pre>
 *
 * Hop-by-hop fields describe one connection and must not travel further ({@link HopByHop}).
 */
public final class ProxyHeaders {

    /** The pseudonym PIBL uses in {@code Via}. */
    public static final String VIA_NAME = "pibl";

    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString VIA_1_1 = AsciiString.cached("1.1 " + VIA_NAME);
    private static final AsciiString VIA_1_0 = AsciiString.cached("1.0 " + VIA_NAME);
    /** RFC 9110 section 7.6.3: an HTTP/2 hop is named by its major version alone. */
    private static final AsciiString VIA_2 = AsciiString.cached("2 " + VIA_NAME);
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");

    private ProxyHeaders() {
    }

    /**
     * Rewrites a client's request, in place, into the request for a backend: hop-by-hop fields
     * out, forwarding fields in, HTTP/1.1 (keep-alive) whatever the client spoke, and the framing of the body:
     * an exact {@code Content-Length} for an aggregated one ({@code FullHttpRequest}); for a streamed one (a head
     * whose parts follow) the client's {@code Content-Length}, or its {@code Transfer-Encoding} when chunked (the
     * parts are chunked again on the way out). {@code Expect} is dropped: PIBL answered it. A WebSocket handshake
     * ({@link Upgrades#isWebSocket}) keeps {@code Upgrade: websocket} and {@code Connection: upgrade}; any other
     * upgrade is stripped. A request without {@code Host} (HTTP/1.0 allows it) is given the backend's address as
     * its {@code Host} when it is sent ({@code UpstreamCall}): HTTP/1.1 requires one.
     */
    public static void toBackend(HttpRequest request, String clientIp, String scheme, HttpVersion clientVersion) {
        HttpHeaders h = request.headers();
        String codings = request instanceof FullHttpRequest ? null : h.get(HttpHeaderNames.TRANSFER_ENCODING);
        boolean webSocket = Upgrades.isWebSocket(request);
        HopByHop.strip(h);
        if (webSocket) {
            Upgrades.restore(h);
        }
        h.remove(HttpHeaderNames.EXPECT);
        addForwarded(h, clientIp, scheme, clientVersion);
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
        if (!(request instanceof FullHttpRequest full)) {
            if (codings != null) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, codings);
            }
            return;
        }
        int length = full.content().readableBytes();
        if (length == 0 && (request.method().equals(HttpMethod.GET) || request.method().equals(HttpMethod.HEAD))) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH); // the aggregator adds "0"; a GET needs none
        } else {
            h.set(HttpHeaderNames.CONTENT_LENGTH, length);
        }
    }

    /**
     * Adds what the backend needs to know about the original exchange: the client address is
     * appended to {@code X-Forwarded-For}, {@code X-Forwarded-Proto} (the scheme the client used: {@code http},
     * or {@code https} over TLS) and {@code X-Forwarded-Host} are set, and this hop is appended to {@code Via}.
     */
    public static void addForwarded(HttpHeaders headers, String clientIp, String scheme, HttpVersion clientVersion) {
        String prior = headers.get(X_FORWARDED_FOR);
        headers.set(X_FORWARDED_FOR, prior == null || prior.isBlank() ? clientIp : prior + ", " + clientIp);
        headers.set(X_FORWARDED_PROTO, "https".equals(scheme) ? HTTPS : HTTP);
        String host = headers.get(HttpHeaderNames.HOST);
        if (host != null) {
            headers.set(X_FORWARDED_HOST, host);
        }
        appendVia(headers, clientVersion);
    }

    /** Appends this hop to {@code Via}, naming the protocol version it received. */
    public static void appendVia(HttpHeaders headers, HttpVersion received) {
        AsciiString hop = received.majorVersion() == 2 ? VIA_2 : received.minorVersion() == 0 ? VIA_1_0 : VIA_1_1;
        String prior = headers.get(HttpHeaderNames.VIA);
        if (prior == null) {
            headers.set(HttpHeaderNames.VIA, hop);
        } else {
            headers.set(HttpHeaderNames.VIA, prior + ", " + hop);
        }
    }
}
