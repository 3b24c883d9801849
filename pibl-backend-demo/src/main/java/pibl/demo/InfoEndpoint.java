package pibl.demo;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code /api/info}: what this instance received, as JSON, so a test can see what the proxy forwarded.
 *
 * <pre>
 *   GET /api/info HTTP/1.1            {"name":"backend-1","port":9001,"time":"2025-07-01T10:00:00.123Z",
 *   Host: shop.example                 "request":17,"nonce":"3fa2c1e0","remote":"10.0.0.5:41234",
 *   X-Forwarded-For: 203.0.113.9  --&gt;  "requestLine":"GET /api/info HTTP/1.1","method":"GET",
 *                                      "uri":"/api/info","version":"HTTP/1.1",
 *                                      "headers":{"Host":"shop.example","X-Forwarded-For":"203.0.113.9"},
 *                                      "headerList":[["Host","shop.example"],["X-Forwarded-For","203.0.113.9"]],
 *                                      "bodyLength":0}
 * </pre>
 *
 * Header names keep the case they arrived in. {@code headers} joins repeated fields with {@code ", "};
 * {@code headerList} keeps every field line in order. Sent with {@code Cache-Control: no-store}, for any method.
 */
final class InfoEndpoint {

    private InfoEndpoint() {
    }

    static Reply reply(Exchange exchange) {
        FullHttpRequest request = exchange.request();
        Map<String, String> joined = new LinkedHashMap<>();
        StringBuilder list = new StringBuilder("[");
        for (Map.Entry<String, String> field : request.headers()) {
            joined.merge(field.getKey(), field.getValue(), (a, b) -> a + ", " + b);
            if (list.length() > 1) {
                list.append(',');
            }
            list.append('[').append(quote(field.getKey())).append(',').append(quote(field.getValue())).append(']');
        }
        list.append(']');
        StringBuilder headers = new StringBuilder("{");
        joined.forEach((name, value) -> {
            if (headers.length() > 1) {
                headers.append(',');
            }
            headers.append(quote(name)).append(':').append(quote(value));
        });
        headers.append('}');
        String json = "{\"name\":" + quote(exchange.instance().name())
                + ",\"port\":" + exchange.localPort()
                + ",\"time\":" + quote(Instant.now().toString())
                + ",\"request\":" + exchange.number()
                + ",\"nonce\":" + quote(exchange.instance().nonce())
                + ",\"remote\":" + quote(exchange.remoteText())
                + ",\"requestLine\":" + quote(request.method() + " " + request.uri() + " " + request.protocolVersion())
                + ",\"method\":" + quote(request.method().name())
                + ",\"uri\":" + quote(request.uri())
                + ",\"version\":" + quote(request.protocolVersion().text())
                + ",\"headers\":" + headers
                + ",\"headerList\":" + list
                + ",\"bodyLength\":" + request.content().readableBytes()
                + "}\n";
        return Reply.of(HttpResponseStatus.OK, "application/json", json.getBytes(StandardCharsets.UTF_8))
                .with(HttpHeaderNames.CACHE_CONTROL, "no-store");
    }

    /** A JSON string literal for {@code text} (RFC 8259 section 7). */
    static String quote(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
