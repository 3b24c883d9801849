package pibl.demo;

import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * The small endpoints that test the plumbing rather than caching:
 *
 * <pre>
 *   /health                 200 "ok"                          Cache-Control: no-store
 *   /download?size=BYTES    200, BYTES pattern bytes          Content-Length: BYTES, Cache-Control: max-age=60
 *   /chunked?size=BYTES     200, BYTES pattern bytes          Transfer-Encoding: chunked
 *   /status/{CODE}          CODE, a one-line body (none for 204 and 304)
 *   /echo                   200, the request body             Content-Type as sent, Cache-Control: no-store
 *   /close                  200 "bye"                         Connection: close, then the connection is closed
 * </pre>
 * Pattern bytes are defined by {@link PatternBytes}: byte i = (i * 31 + 7) &amp; 0xff.
 */
final class BasicEndpoints {

    private BasicEndpoints() {
    }

    static Reply health() {
        return Reply.text(HttpResponseStatus.OK, "ok\n").with(HttpHeaderNames.CACHE_CONTROL, "no-store");
    }

    static Reply download(Exchange exchange) {
        long size = size(exchange);
        if (size < 0) {
            return Reply.badRequest("size must be a whole number of bytes >= 0, e.g. /download?size=1048576");
        }
        return Reply.pattern(size, false).with(HttpHeaderNames.CACHE_CONTROL, "max-age=60");
    }

    static Reply chunked(Exchange exchange) {
        long size = size(exchange);
        if (size < 0) {
            return Reply.badRequest("size must be a whole number of bytes >= 0, e.g. /chunked?size=65536");
        }
        return Reply.pattern(size, true);
    }

    static Reply status(Exchange exchange, String code) {
        int status = code.matches("[0-9]{3}") ? Integer.parseInt(code) : -1;
        if (status < 200 || status > 599) {
            return Reply.badRequest("status must be a code from 200 to 599, e.g. /status/503");
        }
        HttpResponseStatus responseStatus = HttpResponseStatus.valueOf(status);
        if (!ReplyWriter.bodyAllowed(responseStatus)) {
            return Reply.of(responseStatus, null, new byte[0]);
        }
        return Reply.text(responseStatus, status + " " + responseStatus.reasonPhrase() + " from "
                + exchange.instance().name() + "\n");
    }

    static Reply echo(Exchange exchange) {
        String contentType = exchange.request().headers().get(HttpHeaderNames.CONTENT_TYPE,
                HttpHeaderValues.APPLICATION_OCTET_STREAM.toString());
        byte[] body = ByteBufUtil.getBytes(exchange.request().content());
        return Reply.of(HttpResponseStatus.OK, contentType, body).with(HttpHeaderNames.CACHE_CONTROL, "no-store");
    }

    static Reply close() {
        return Reply.text(HttpResponseStatus.OK, "bye\n").with(HttpHeaderNames.CACHE_CONTROL, "no-store").closing();
    }

    /** The {@code size} parameter, or -1 when absent or not a number >= 0. */
    private static long size(Exchange exchange) {
        String value = exchange.param("size");
        if (value == null || !value.matches("[0-9]{1,18}")) {
            return -1;
        }
        return Long.parseLong(value);
    }
}
