package pibl.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** What the codec does with the bytes after a WebSocket handshake, before the backend has answered it. */
class StrictHttpServerCodecTest {
    private static final String HANDSHAKE = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n\r\n";

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    @Test
    void holdsWhatFollowsAHandshakeUnparsedAndStopsReading() {
        EmbeddedChannel ch = new EmbeddedChannel(new StrictHttpServerCodec(4096, 8192));
        ch.writeInbound(ascii(HANDSHAKE + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"));
        HttpRequest handshake = ch.readInbound();
        assertThat(handshake.uri()).isEqualTo("/ws");
        ReferenceCountUtil.release(ch.readInbound()); // its empty last part
        assertThat((Object) ch.readInbound()).as("the rest may be frames: not parsed as a request").isNull();
        assertThat(ch.config().isAutoRead()).as("held bytes are bounded by one read").isFalse();

        ch.pipeline().remove(StrictHttpServerCodec.class);
        ByteBuf held = ch.readInbound();
        assertThat(held.toString(StandardCharsets.ISO_8859_1)).as("removing the codec passes on what it held")
                .startsWith("GET /next");
        held.release();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void parsesWhatItHeldOnceTheHandshakeGetsAFinalResponse() {
        EmbeddedChannel ch = new EmbeddedChannel(new StrictHttpServerCodec(4096, 8192));
        ch.writeInbound(ascii(HANDSHAKE + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"));
        ReferenceCountUtil.release(ch.readInbound());
        ReferenceCountUtil.release(ch.readInbound());
        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS));
        ch.runPendingTasks();
        assertThat((Object) ch.readInbound()).as("a 101 is no final answer: still held").isNull();
        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FORBIDDEN));
        ch.runPendingTasks();
        HttpRequest next = ch.readInbound();
        assertThat(next.uri()).isEqualTo("/next");
        assertThat((Object) ch.readInbound()).isInstanceOf(LastHttpContent.class);
        ch.releaseOutbound();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void aHandshakePipelinedBehindARequestHoldsUntilItsOwnAnswer() {
        EmbeddedChannel ch = new EmbeddedChannel(new StrictHttpServerCodec(4096, 8192));
        ch.writeInbound(ascii("GET /first HTTP/1.1\r\nHost: a\r\n\r\n" + HANDSHAKE + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"));
        for (int i = 0; i < 4; i++) {
            ReferenceCountUtil.release(ch.readInbound()); // /first and the handshake, each with its last part
        }
        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        ch.runPendingTasks();
        assertThat((Object) ch.readInbound()).as("the answer to /first is not the handshake's").isNull();
        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FORBIDDEN));
        ch.runPendingTasks();
        HttpRequest next = ch.readInbound();
        assertThat(next.uri()).isEqualTo("/next");
        ReferenceCountUtil.release(ch.readInbound());
        ch.releaseOutbound();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void anOrdinaryRequestHoldsNothing() {
        EmbeddedChannel ch = new EmbeddedChannel(new StrictHttpServerCodec(4096, 8192));
        ch.writeInbound(ascii("GET /a HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n"
                + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"));
        ReferenceCountUtil.release(ch.readInbound());
        ReferenceCountUtil.release(ch.readInbound());
        HttpRequest b = ch.readInbound();
        assertThat(b.uri()).isEqualTo("/b");
        ReferenceCountUtil.release(ch.readInbound());
        assertThat(ch.config().isAutoRead()).isTrue();
        assertThat(ch.finish()).isFalse();
    }
}
