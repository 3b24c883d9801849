package pibl.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code /ws} with the JDK's own WebSocket client, and the page that uses it. */
class WebSocketEchoIT {

    @RegisterExtension
    static final RunningBackend backend = new RunningBackend("it-ws");

    /** Every event as text: {@code text:hi}, {@code binary:0,1,2}, {@code pong:7}, {@code close:1000}. */
    private static final class Recorder implements WebSocket.Listener {
        final BlockingQueue<String> events = new LinkedBlockingQueue<>();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            events.add("text:" + data);
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            StringBuilder b = new StringBuilder("binary:");
            while (data.hasRemaining()) {
                b.append(data.get() & 0xff).append(data.hasRemaining() ? "," : "");
            }
            events.add(b.toString());
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket ws, ByteBuffer message) {
            events.add("pong:" + message.get());
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            events.add("close:" + statusCode);
            return CompletableFuture.completedFuture(null);
        }

        String next() throws InterruptedException {
            return events.poll(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void echoesTextAndBinaryAnswersPingsAndClosesCleanly() throws Exception {
        Recorder recorder = new Recorder();
        WebSocket ws = RunningBackend.CLIENT.newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + backend.port() + "/ws"), recorder)
                .get(5, TimeUnit.SECONDS);

        ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
        assertThat(recorder.next()).isEqualTo("text:hello");
        ws.sendBinary(ByteBuffer.wrap(new byte[] {0, 1, 2, (byte) 255}), true).get(5, TimeUnit.SECONDS);
        assertThat(recorder.next()).isEqualTo("binary:0,1,2,255");
        ws.sendPing(ByteBuffer.wrap(new byte[] {7})).get(5, TimeUnit.SECONDS);
        assertThat(recorder.next()).isEqualTo("pong:7");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
        assertThat(recorder.next()).as("the server answers the close handshake").isEqualTo("close:1000");
    }

    @Test
    void aPlainGetOfTheEchoIsRefused() throws Exception {
        assertThat(backend.getText("/ws").statusCode()).as("no handshake, no WebSocket").isEqualTo(400);
    }

    @Test
    void theDemoPageOpensTheEchoRelativeToItsOwnLocationAndIsLinkedFromHome() throws Exception {
        String page = backend.getText("/ws.html").body();
        assertThat(page).contains("new WebSocket(", "location.host + \"/ws\"", "wss://");
        assertThat(backend.getText("/").body()).contains("href=\"/ws.html\"");
    }
}
