package pibl.handler;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The tail of a client pipeline in a test, where the cache and the forwarder would be: keeps every request that
 * reaches it (with the {@link Exchange} current when it arrived) and answers when the test says so, from its own
 * position in the pipeline as the real segments do. {@link #onRequest} lets a test answer at once, as a cache hit
 * does. The test releases the kept requests ({@link #release}).
 */
final class Responder extends ChannelInboundHandlerAdapter {
    final List<HttpRequest> received = new ArrayList<>();
    final List<Exchange> exchanges = new ArrayList<>();
    /** How deep {@code channelRead} calls were nested at most: 1 unless a request arrived from inside an answer. */
    int maxDepth;
    private int depth;
    private ChannelHandlerContext ctx;
    private BiConsumer<Responder, HttpRequest> onRequest = (r, req) -> { };

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** What to do when a request arrives (after it is kept). */
    Responder onRequest(BiConsumer<Responder, HttpRequest> action) {
        this.onRequest = action;
        return this;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        received.add(request);
        exchanges.add(Exchange.current(ctx.channel()));
        depth++;
        maxDepth = Math.max(maxDepth, depth);
        try {
            onRequest.accept(this, request);
        } finally {
            depth--;
        }
    }

    /** Writes and flushes the parts of a response (HTTP objects, file regions), one by one, from the tail. */
    void respond(Object... parts) {
        for (Object part : parts) {
            ctx.writeAndFlush(part);
        }
    }

    /** The exchange current when the latest request arrived. */
    Exchange exchange() {
        return exchanges.get(exchanges.size() - 1);
    }

    List<String> uris() {
        return received.stream().map(HttpRequest::uri).toList();
    }

    void release() {
        for (HttpRequest r : received) {
            ReferenceCountUtil.release(r);
        }
        received.clear();
    }
}
