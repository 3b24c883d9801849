package pibl.handler;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Ticker;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The messages of the handler tests, as the segments before and after the handler under test make them: requests
 * as the aggregator passes them on ({@link FullHttpRequest}s), responses as a backend, the cache or PIBL itself
 * write them (a {@link FullHttpResponse}, or a head and content parts). Headers are {@code "Name: value"} strings.
 */
final class Messages {
    /** The client address the test channels report, so the access log has one to print. */
    static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 50_123);

    private Messages() {
    }

    /**
     * A channel whose remote address is {@link #CLIENT} (an {@code EmbeddedChannel} has none of its own) and whose
     * executor reads time from {@code ticker}.
     */
    static EmbeddedChannel channel(Ticker ticker, ChannelHandler... handlers) {
        return new EmbeddedChannel(EmbeddedChannel.builder().ticker(ticker).handlers(handlers)) {
            @Override
            protected SocketAddress remoteAddress0() {
                return CLIENT;
            }
        };
    }

    /** An HTTP/1.1 GET with {@code Host: shop.example} and the given headers. */
    static FullHttpRequest get(String uri, String... headers) {
        return request(HttpVersion.HTTP_1_1, HttpMethod.GET, uri, headers);
    }

    static FullHttpRequest request(HttpVersion version, HttpMethod method, String uri, String... headers) {
        FullHttpRequest r = new DefaultFullHttpRequest(version, method, uri, Unpooled.EMPTY_BUFFER);
        r.headers().set("Host", "shop.example");
        add(r.headers(), headers);
        return r;
    }

    /**
     * An HTTP/1.1 GET whose header values are not validated, so they may hold what the codec would have refused
     * (CR, LF): the access log must keep one request on one line whatever made the request.
     */
    static FullHttpRequest unvalidated(String uri, String... headers) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri, Unpooled.EMPTY_BUFFER,
                DefaultHttpHeadersFactory.headersFactory().withValidation(false),
                DefaultHttpHeadersFactory.trailersFactory());
        r.headers().set("Host", "shop.example");
        add(r.headers(), headers);
        return r;
    }

    /** A request with a body held in a buffer of its own, so a test can see it released. */
    static FullHttpRequest post(String uri, String body, String... headers) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, uri, buffer(body));
        r.headers().set("Host", "shop.example").set("Content-Length", r.content().readableBytes());
        add(r.headers(), headers);
        return r;
    }

    /** A complete response with {@code Content-Length}, as a backend or the cache writes a small one. */
    static FullHttpResponse full(HttpResponseStatus status, String body, String... headers) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, buffer(body));
        r.headers().set("Content-Length", r.content().readableBytes());
        add(r.headers(), headers);
        return r;
    }

    static FullHttpResponse ok(String body) {
        return full(HttpResponseStatus.OK, body);
    }

    /** A response head to be followed by content parts; no framing header unless given. */
    static HttpResponse head(HttpResponseStatus status, String... headers) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        add(r.headers(), headers);
        return r;
    }

    static HttpContent part(String body) {
        return new DefaultHttpContent(buffer(body));
    }

    static LastHttpContent last(String body) {
        return new DefaultLastHttpContent(buffer(body));
    }

    /**
     * A direct buffer, as the codec's are: Netty's leak detector tracks direct buffers only (not unpooled heap
     * ones), so this is what lets {@link pibl.testing.NoLeaks} see a test message that was never released.
     */
    static ByteBuf buffer(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        return Unpooled.directBuffer(bytes.length).writeBytes(bytes);
    }

    private static void add(HttpHeaders h, String... headers) {
        for (String header : headers) {
            int colon = header.indexOf(':');
            h.add(header.substring(0, colon).trim(), header.substring(colon + 1).trim());
        }
    }

    /** Every message written so far, in order; the caller releases them ({@link #release}). */
    static List<Object> outbound(EmbeddedChannel channel) {
        List<Object> out = new ArrayList<>();
        Object o;
        while ((o = channel.readOutbound()) != null) {
            out.add(o);
        }
        return out;
    }

    /** The response heads among {@code messages}, in order. */
    static List<HttpResponse> heads(List<Object> messages) {
        return messages.stream().filter(HttpResponse.class::isInstance).map(HttpResponse.class::cast).toList();
    }

    /** Reads every outbound message, releases them all, and returns the response heads, in order. */
    static List<HttpResponse> drainHeads(EmbeddedChannel channel) {
        List<Object> out = outbound(channel);
        try {
            return heads(out);
        } finally {
            release(out);
        }
    }

    /** The one response head written so far (everything written is read and released). */
    static HttpResponse onlyHead(EmbeddedChannel channel) {
        List<HttpResponse> heads = drainHeads(channel);
        if (heads.size() != 1) {
            throw new AssertionError("expected one response head, got " + heads);
        }
        return heads.get(0);
    }

    static void release(List<?> messages) {
        for (Object m : messages) {
            ReferenceCountUtil.release(m);
        }
    }

    /** Releases every message still queued inbound (nobody consumed them). */
    static void releaseInbound(EmbeddedChannel channel) {
        Object o;
        while ((o = channel.readInbound()) != null) {
            ReferenceCountUtil.release(o);
        }
    }
}
