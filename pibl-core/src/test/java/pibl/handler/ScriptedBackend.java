package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import pibl.config.BackendConfig;
import pibl.lb.Backend;
import pibl.upstream.Call;
import pibl.upstream.ResponseSink;
import pibl.upstream.UpstreamException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A {@link Forwarder} that plays the backends for segment tests: records each request as sent and answers through
 * a script, on the caller's event loop (so in an {@code EmbeddedChannel}, when its pending tasks run). With
 * {@link #hold()} the answers wait for {@link #release()}.
 */
final class ScriptedBackend implements Forwarder {
    /** A request as it was sent. */
    record Sent(String method, String uri, HttpHeaders headers) {
    }

    /** What to answer; status 0 means the call fails with {@code failStatus}. */
    record Reply(int status, HttpHeaders headers, String body, int failStatus) {
        static Reply of(int status, String body, String... headers) {
            HttpHeaders h = new DefaultHttpHeaders();
            for (String line : headers) {
                int colon = line.indexOf(':');
                h.add(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
            h.set(HttpHeaderNames.CONTENT_LENGTH, body.getBytes(StandardCharsets.UTF_8).length);
            return new Reply(status, h, body, 0);
        }

        static Reply failing(int status) {
            return new Reply(0, null, null, status);
        }
    }

    private static final Backend BACKEND = new Backend(BackendConfig.parse("127.0.0.1:9001"));

    private final List<Sent> sent = new ArrayList<>();
    private final List<Runnable> held = new ArrayList<>();
    private Function<Sent, Reply> script;
    private boolean hold;

    ScriptedBackend(Function<Sent, Reply> script) {
        this.script = script;
    }

    void script(Function<Sent, Reply> next) {
        this.script = next;
    }

    ScriptedBackend hold() {
        hold = true;
        return this;
    }

    /** Sends the held answers now (they run on their callers' loops). */
    void release() {
        hold = false;
        List<Runnable> answers = new ArrayList<>(held);
        held.clear();
        answers.forEach(Runnable::run);
    }

    List<Sent> sent() {
        return sent;
    }

    @Override
    public Call send(EventLoop loop, Exchange exchange, HttpRequest request, ResponseSink sink) {
        Sent s = new Sent(request.method().name(), request.uri(), request.headers().copy());
        sent.add(s);
        ReferenceCountUtil.release(request);
        boolean[] aborted = {false};
        Runnable answer = () -> loop.execute(() -> {
            if (!aborted[0]) {
                reply(sink, script.apply(s));
            }
        });
        if (hold) {
            held.add(answer);
        } else {
            answer.run();
        }
        return new Call() {
            @Override
            public void pauseReading() {
            }

            @Override
            public void resumeReading() {
            }

            @Override
            public void abort() {
                aborted[0] = true;
            }

            @Override
            public void sendBody(HttpContent part) {
                part.release(); // a scripted backend answers from the head alone
            }
        };
    }

    private static void reply(ResponseSink sink, Reply r) {
        if (r.status() == 0) {
            sink.onError(new UpstreamException(r.failStatus(), "scripted failure", null), false);
            return;
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.status()),
                r.headers().copy());
        sink.onResponse(head, BACKEND);
        sink.onContent(new DefaultLastHttpContent(Unpooled.copiedBuffer(r.body(), StandardCharsets.UTF_8)));
    }
}
