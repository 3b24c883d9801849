package pibl.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

class InfoIT {

    @RegisterExtension
    static final RunningBackend backend = new RunningBackend("it-info \"quoted\"");

    @Test
    void infoShowsTheInstanceAndTheRequestAsReceived() throws Exception {
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response response = connection.send("GET /api/info?x=1 HTTP/1.1\r\n"
                    + "Host: shop.example\r\n"
                    + "X-Forwarded-For: 203.0.113.9\r\n"
                    + "Via: 1.1 pibl\r\n"
                    + "X-Multi: a\r\n"
                    + "X-Multi: b\r\n\r\n").read();
            String json = response.text();

            assertThat(response.status()).isEqualTo(200);
            assertThat(response.header("content-type")).isEqualTo("application/json");
            assertThat(response.header("cache-control")).isEqualTo("no-store");
            assertThat(json)
                    .contains("\"name\":\"it-info \\\"quoted\\\"\"")
                    .contains("\"port\":" + backend.port())
                    .contains("\"requestLine\":\"GET /api/info?x=1 HTTP/1.1\"")
                    .contains("\"Host\":\"shop.example\"")
                    .contains("\"X-Forwarded-For\":\"203.0.113.9\"")
                    .contains("\"Via\":\"1.1 pibl\"")
                    .contains("\"X-Multi\":\"a, b\"")
                    .contains("[\"X-Multi\",\"a\"],[\"X-Multi\",\"b\"]")
                    .contains("\"remote\":\"127.0.0.1:")
                    .contains("\"time\":\"");
            assertThat(json.toLowerCase())
                    .as("no header the client did not send, such as a Content-Length added by aggregation")
                    .doesNotContain("content-length");
        }
    }

    @Test
    void infoKeepsChunkedFramingHeadersAndCountsTheBody() throws Exception {
        try (RawConnection connection = backend.connect()) {
            String json = connection.send("POST /api/info HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n0\r\n\r\n").read().text();

            assertThat(json)
                    .contains("\"Transfer-Encoding\":\"chunked\"")
                    .contains("\"method\":\"POST\"")
                    .contains("\"bodyLength\":5");
        }
    }

    @Test
    void jsonStringsAreEscaped() {
        assertThat(InfoEndpoint.quote("a\"b\\c\n\u0001é")).isEqualTo("\"a\\\"b\\\\c\\n\\u0001é\"");
    }

    @Test
    void healthIsOkAndNeverCached() throws Exception {
        HttpResponse<String> health = backend.getText("/health");

        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).isEqualTo("ok\n");
        assertThat(health.headers().firstValue("cache-control")).hasValue("no-store");
        assertThat(health.headers().firstValue("date")).isPresent();
    }
}
