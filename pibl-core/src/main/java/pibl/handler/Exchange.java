package pibl.handler;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AttributeKey;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * What the access log needs to know about one request/response exchange. The
 * {@link AccessLogHandler} creates it when a request arrives and stores it on the channel; the
 * handlers after it fill in what they decide (the backend chosen, the cache status), and the
 * access log handler itself records the response status and body bytes as they are written.
 * Only the client channel's event loop touches it.
 */
public final class Exchange {
    static final AttributeKey<Exchange> KEY = AttributeKey.valueOf("pibl.exchange");

    final long startMillis;
    final long startNanos;
    final String clientAddress;
    final String method;
    final String uri;
    final String protocol;
    final String userAgent;
    final String referer;
    final String host;
    String backend = "-";
    String cacheStatus = "-";
    int status;
    long bytes;

    Exchange(HttpRequest request, String clientAddress) {
        this.startMillis = System.currentTimeMillis();
        this.startNanos = System.nanoTime();
        this.clientAddress = clientAddress;
        this.method = request.method().name();
        this.uri = request.uri();
        this.protocol = request.protocolVersion().text();
        this.userAgent = request.headers().get(HttpHeaderNames.USER_AGENT);
        this.referer = request.headers().get(HttpHeaderNames.REFERER);
        this.host = request.headers().get(HttpHeaderNames.HOST);
    }

    /** The client's address as the access log prints it: {@code 127.0.0.1}, {@code ::1}, or {@code -}. */
    static String clientAddress(SocketAddress remote) {
        return remote instanceof InetSocketAddress inet ? inet.getAddress().getHostAddress() : "-";
    }

    /** The exchange in progress on this client channel, or {@code null} outside of one. */
    public static Exchange current(Channel channel) {
        return channel.attr(KEY).get();
    }

    /** Records the backend that answers (the last one tried). */
    public void backend(String label) {
        this.backend = label;
    }

    /** Records the cache outcome: HIT, MISS, STALE, REVALIDATED, BYPASS. */
    public void cacheStatus(String status) {
        this.cacheStatus = status;
    }

    public String clientAddress() {
        return clientAddress;
    }
}
