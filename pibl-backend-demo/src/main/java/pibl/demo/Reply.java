package pibl.demo;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.nio.charset.StandardCharsets;

/**
 * What an endpoint wants to answer, before the connection rules ({@code HEAD}, {@code 304}, keep-alive, {@code Date},
 * {@code X-Backend}) are applied by {@link ReplyWriter}.
 *
 * <p>A reply holds no {@code ByteBuf}: a fixed body is a {@code byte[]} wrapped only when written, and a streamed body
 * is just a length from which {@link PatternBytes} is created when (and only if) the body is actually sent. So a reply
 * can be dropped at any time, for a {@code HEAD} or a {@code 304}, without anything to release.
 *
 * @param status  the response status
 * @param headers the endpoint's headers; {@link ReplyWriter} adds the framing and connection headers
 * @param body    what follows the head
 * @param close   whether the connection must be closed after this reply, whatever the client asked
 */
record Reply(HttpResponseStatus status, HttpHeaders headers, Body body, boolean close) {

    /** The body of a reply. */
    sealed interface Body permits Fixed, Pattern {
        /** How many bytes the body has. */
        long length();
    }

    /** A small body held in memory. */
    record Fixed(byte[] bytes) implements Body {
        @Override
        public long length() {
            return bytes.length;
        }
    }

    /**
     * A body of {@code length} {@link PatternBytes pattern bytes}, streamed; sent with {@code Content-Length}, or with
     * {@code Transfer-Encoding: chunked} when the reply's headers say so.
     */
    record Pattern(long length) implements Body {
    }

    /** A reply with a fixed body of the given type. */
    static Reply of(HttpResponseStatus status, String contentType, byte[] body) {
        HttpHeaders headers = new DefaultHttpHeaders();
        if (contentType != null) {
            headers.set(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        return new Reply(status, headers, new Fixed(body), false);
    }

    /** A {@code text/plain; charset=utf-8} reply. */
    static Reply text(HttpResponseStatus status, String body) {
        return of(status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
    }

    /** A {@code text/html; charset=utf-8} reply. */
    static Reply html(HttpResponseStatus status, String body) {
        return of(status, "text/html; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
    }

    /** A streamed reply of {@code length} pattern bytes, typed {@code application/octet-stream}. */
    static Reply pattern(long length, boolean chunked) {
        HttpHeaders headers = new DefaultHttpHeaders();
        headers.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
        if (chunked) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return new Reply(HttpResponseStatus.OK, headers, new Pattern(length), false);
    }

    /** A {@code 400 Bad Request} explaining what was wrong. */
    static Reply badRequest(String why) {
        return text(HttpResponseStatus.BAD_REQUEST, why + "\n");
    }

    /** Sets a header and returns this reply, for chaining. */
    Reply with(CharSequence name, Object value) {
        headers.set(name, value);
        return this;
    }

    /** This reply, but closing the connection once sent. */
    Reply closing() {
        return new Reply(status, headers, body, true);
    }

    /** Whether the body is sent with chunked transfer coding rather than a {@code Content-Length}. */
    boolean chunked() {
        return headers.contains(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED, true);
    }
}
