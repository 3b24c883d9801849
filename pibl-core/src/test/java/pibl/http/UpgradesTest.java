package pibl.http;

import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class UpgradesTest {

    private static HttpRequest request(String method, HttpVersion version, String... fields) {
        HttpRequest r = new DefaultHttpRequest(version, HttpMethod.valueOf(method), "/ws");
        for (String f : fields) {
            int colon = f.indexOf(':');
            r.headers().add(f.substring(0, colon), f.substring(colon + 1).trim());
        }
        return r;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "the RFC 6455 handshake                  | GET | 1.1 | Connection: Upgrade;Upgrade: websocket                  | true",
        "tokens in lists, any case               | GET | 1.1 | Connection: keep-alive, UPGRADE;Upgrade: foo, WebSocket | true",
        "Content-Length: 0                       | GET | 1.1 | Connection: upgrade;Upgrade: websocket;Content-Length: 0 | true",
        "not GET                                 | POST| 1.1 | Connection: upgrade;Upgrade: websocket                  | false",
        "HTTP/1.0                                | GET | 1.0 | Connection: upgrade;Upgrade: websocket                  | false",
        "Connection without upgrade              | GET | 1.1 | Connection: keep-alive;Upgrade: websocket               | false",
        "Upgrade: h2c                            | GET | 1.1 | Connection: upgrade;Upgrade: h2c                        | false",
        "Upgrade: websocketx is another token    | GET | 1.1 | Connection: upgrade;Upgrade: websocketx                 | false",
        "a body                                  | GET | 1.1 | Connection: upgrade;Upgrade: websocket;Content-Length: 5 | false",
        "chunked                                 | GET | 1.1 | Connection: upgrade;Upgrade: websocket;Transfer-Encoding: chunked | false",
    })
    void isWebSocket(String why, String method, String version, String fields, boolean expected) {
        String[] all = (fields + ";Sec-WebSocket-Key: k;Sec-WebSocket-Version: 13").split(";");
        HttpVersion v = version.equals("1.0") ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
        assertThat(Upgrades.isWebSocket(request(method, v, all))).as(why).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: k"})
    void aHandshakeMissingItsKeyOrVersionIsNone(String only) {
        assertThat(Upgrades.isWebSocket(request("GET", HttpVersion.HTTP_1_1, "Connection: upgrade",
                "Upgrade: websocket", only))).isFalse();
    }

    @ParameterizedTest
    @CsvSource({"101, websocket, true", "101, WebSocket, true", "101, h2c, false", "200, websocket, false"})
    void acceptsWebSocket(int status, String upgrade, boolean expected) {
        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        r.headers().set("Upgrade", upgrade);
        assertThat(Upgrades.acceptsWebSocket(r)).isEqualTo(expected);
        r.release();
    }
}
