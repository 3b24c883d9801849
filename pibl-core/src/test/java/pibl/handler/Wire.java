package pibl.handler;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * Stands in for the socket as the first handler of a test pipeline: keeps what is written and completes each
 * write at once, without calling into the channel. An {@code EmbeddedChannel} runs its pending tasks after every
 * write or flush that reaches it, which would hide whether a handler dispatched something from inside a write or
 * from a task of its own; behind this wire, tasks run only when the test runs them. The test releases what it
 * takes ({@link Messages#release}).
 */
final class Wire extends ChannelOutboundHandlerAdapter {
    private final List<Object> written = new ArrayList<>();

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        written.add(msg);
        promise.trySuccess();
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
    }

    /** Everything written since the last take, in order. */
    List<Object> take() {
        List<Object> out = new ArrayList<>(written);
        written.clear();
        return out;
    }

    /** The response heads written since the last take; everything taken is released. */
    List<HttpResponse> heads() {
        List<Object> out = take();
        try {
            return Messages.heads(out);
        } finally {
            Messages.release(out);
        }
    }

    /** The one response head written since the last take; everything taken is released. */
    HttpResponse onlyHead() {
        List<HttpResponse> heads = heads();
        if (heads.size() != 1) {
            throw new AssertionError("expected one response head, got " + heads);
        }
        return heads.get(0);
    }
}
