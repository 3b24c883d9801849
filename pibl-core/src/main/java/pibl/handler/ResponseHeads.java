package pibl.handler;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import pibl.cache.Ban;
import pibl.cache.CacheStatus;
import pibl.http.ProxyHeaders;
import pibl.http.TraceContext;

/**
 * Finishes the client's response head: the one place that decides, for every response (forwarded, cached or
 * PIBL's own), the status-line version, {@code Connection}, keep-alive or close, the framing, {@code Via} and
 * {@code X-Cache}. The segments only produce end-to-end heads and, when they must, ask for a close
 * ({@link Exchange#requestClose()}).
 *
 * <pre>
 * client GET /a HTTP/1.0, Connection: keep-alive     backend 200, no Content-Length (the body was chunked)
 *   → HTTP/1.1 200, Connection: close                 (a 1.0 client cannot read chunks: the end of the body is
 *                                                       the end of the connection), Via: 1.1 pibl, X-Cache: MISS
 * client GET /a HTTP/1.0, Connection: keep-alive     cache hit with Content-Length
 *   → HTTP/1.1 200, Connection: keep-alive, Via: 1.1 pibl, X-Cache: HIT, Age: 7
 * client GET /a HTTP/1.1                              guard refuses with 400 and asks for a close
 *   → HTTP/1.1 400, Connection: close
 * </pre>
 *
 * {@link #endToEnd} is what any protocol adds; {@link #http1} is the HTTP/1.1 connection's part, called by
 * {@link PipeliningHandler}. An HTTP/2 stream replaces the second and keeps the first: {@link #http2}, called by
 * {@link Http2StreamHandler}.
 */
final class ResponseHeads {
    static final AsciiString X_CACHE = AsciiString.cached("X-Cache");
    private static final AsciiString SURROGATE_KEY = AsciiString.cached(Ban.SURROGATE_KEY);
    private static final AsciiString CACHE_TAG = AsciiString.cached(Ban.CACHE_TAG);
    static final AsciiString STRICT_TRANSPORT_SECURITY = AsciiString.cached("Strict-Transport-Security");

    private ResponseHeads() {
    }

    /**
     * {@code X-Cache} from the exchange's cache phase, {@code Strict-Transport-Security} on a response over TLS
     * when {@code tls.hsts} is set, and {@code Via} on a response that came from a backend, now
     * (the backend's protocol version) or earlier (a stored one: stored responses are kept without PIBL's own
     * {@code Via}, so a hit names this hop once). The field aimed at PIBL alone ({@code privateField}, the
     * targeted cache-control field of RFC 9213) goes no further: it is kept in storage, where PIBL reads it,
     * and removed here from whatever is sent. So are the purge tags ({@code Surrogate-Key}, {@code Cache-Tag}, as
     * Fastly and Cloudflare drop them): they name the origin's groupings for PIBL's purges, not the client's
     * business; a fleet's peer gets them, since it may keep a copy that a purge by tag must find.
     */
    static void endToEnd(HttpResponse head, Exchange ex, CharSequence privateField) {
        HttpHeaders h = head.headers();
        if (privateField != null) {
            h.remove(privateField);
        }
        if (ex == null) {
            return;
        }
        if (!ex.fromPeer()) {
            h.remove(SURROGATE_KEY);
            h.remove(CACHE_TAG);
        }
        h.set(TraceContext.X_REQUEST_ID, ex.ids().requestId());
        if (ex.tls != null && ex.tls.hsts() != null) {
            h.set(STRICT_TRANSPORT_SECURITY, ex.tls.hsts()); // PIBL's policy, whatever the backend said
        }
        CacheStatus status = ex.cacheStatus();
        if (status != null) {
            h.set(X_CACHE, status.name());
        }
        if (!"-".equals(ex.backend)) {
            ProxyHeaders.appendVia(h, head.protocolVersion());
        } else if (servedFromStorage(status)) {
            ProxyHeaders.appendVia(h, HttpVersion.HTTP_1_1);
        }
    }

    /**
     * A 1xx head written before the final response: a complete message for the codec, but not the end of the
     * exchange, nor its status, nor anything the cache stores. Every segment that watches for the end asks this.
     */
    static boolean isInterim(Object msg) {
        return msg instanceof HttpResponse r && r.status().code() < 200;
    }

    private static boolean servedFromStorage(CacheStatus status) {
        return status == CacheStatus.HIT || status == CacheStatus.STALE || status == CacheStatus.REVALIDATED;
    }

    /**
     * Finishes a head for an HTTP/2 stream: what {@link #endToEnd} adds, and none of the fields that belong to an
     * HTTP/1.1 connection (RFC 9113 section 8.2.2: a response carrying them is malformed). The stream's own end
     * frames the body, so there is no keep-alive or close to decide; a whole response gets its length. The status
     * becomes {@code :status} in the codec. Interim (1xx) heads pass as they are.
     */
    static void http2(HttpResponse head, Exchange ex, CharSequence privateField) {
        if (head.status().code() < 200) {
            return;
        }
        endToEnd(head, ex, privateField);
        HttpHeaders h = head.headers();
        h.remove(HttpHeaderNames.CONNECTION);
        h.remove(HttpHeaderNames.KEEP_ALIVE);
        h.remove(HttpHeaderNames.PROXY_CONNECTION);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.remove(HttpHeaderNames.UPGRADE);
        if (head instanceof FullHttpResponse full && !HttpUtil.isContentLengthSet(head)
                && !(ex != null && ex.isHead()) && head.status().code() != 204 && head.status().code() != 304) {
            HttpUtil.setContentLength(head, full.content().readableBytes());
        }
    }

    /**
     * Finishes a head for an HTTP/1.1 client connection; true if the connection must close once the response is
     * written. Interim (1xx) heads only get the version.
     *
     * @param draining     the server is stopping: every response closes its connection
     * @param privateField see {@link #endToEnd}; null for none
     */
    static boolean http1(HttpResponse head, Exchange ex, boolean draining, CharSequence privateField) {
        int code = head.status().code();
        if (code < 200) {
            head.setProtocolVersion(HttpVersion.HTTP_1_1);
            return false;
        }
        endToEnd(head, ex, privateField);
        HttpHeaders h = head.headers();
        HttpVersion client = ex == null ? HttpVersion.HTTP_1_1 : ex.version();
        boolean close = draining || (ex != null && (!ex.keepAlive() || ex.closeRequested()));
        boolean bodiless = (ex != null && ex.isHead()) || code == 204 || code == 304;
        if (!bodiless && !HttpUtil.isContentLengthSet(head)) {
            if (head instanceof FullHttpResponse full) {
                HttpUtil.setContentLength(head, full.content().readableBytes());
            } else if (client.equals(HttpVersion.HTTP_1_1)) {
                HttpUtil.setTransferEncodingChunked(head, true);
            } else {
                close = true; // HTTP/1.0 reads to the end of the connection
            }
        }
        if (close) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (client.equals(HttpVersion.HTTP_1_0)) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        } else {
            h.remove(HttpHeaderNames.CONNECTION);
        }
        head.setProtocolVersion(HttpVersion.HTTP_1_1);
        return close;
    }
}
