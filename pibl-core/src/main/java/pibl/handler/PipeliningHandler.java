package pibl.handler;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;

/**
 * One exchange at a time per client connection, in arrival order, and the end of the connection
 * when an exchange says so.
 *
 * <pre>
 * client sends:  GET /a  GET /b  GET /c        (pipelined in one packet)
 * this handler:  passes /a on; holds /b and /c and stops reading the socket
 * /a's last byte written → passes /b on → ... → reading resumes
 * </pre>
 *
 * Holding requests here, before the access log and the cache, is what keeps pipelined responses
 * in order even when a later request would be a quick cache hit. A response that carries
 * {@code Connection: close} closes the connection once written, and requests still held are
 * dropped. An idle connection (no exchange in flight) is closed on the idle timeout, and at
 * once on a {@link DrainEvent}; a busy one closes when its exchange is done.
 */
public final class PipeliningHandler extends ChannelDuplexHandler {
    private final ArrayDeque<HttpRequest> held = new ArrayDeque<>(2);
    private boolean inFlight;
    private boolean closeAfterResponse;
    private boolean dispatchScheduled;
    private boolean draining;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (inFlight || closeAfterResponse) {
            held.add(request);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        inFlight = true;
        ctx.fireChannelRead(request);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (draining && msg instanceof HttpResponse response && response.status().code() >= 200) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        if (msg instanceof HttpResponse response && response.status().code() >= 200
                && response.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true)) {
            closeAfterResponse = true;
        }
        if (!(msg instanceof LastHttpContent) || !inFlight) {
            ctx.write(msg, promise);
            return;
        }
        inFlight = false;
        if (closeAfterResponse) {
            ctx.write(msg, promise.unvoid()).addListener(ChannelFutureListener.CLOSE);
            releaseHeld();
            return;
        }
        ctx.write(msg, promise);
        if (held.isEmpty()) {
            ctx.channel().config().setAutoRead(true);
        } else if (!dispatchScheduled) {
            // Not from inside write(): a cache hit would answer re-entrantly, one stack frame per request.
            dispatchScheduled = true;
            ctx.executor().execute(() -> dispatchNext(ctx));
        }
    }

    private void dispatchNext(ChannelHandlerContext ctx) {
        dispatchScheduled = false;
        if (inFlight || !ctx.channel().isActive()) {
            return;
        }
        HttpRequest next = held.poll();
        if (next == null) {
            ctx.channel().config().setAutoRead(true);
            return;
        }
        inFlight = true;
        ctx.fireChannelRead(next);
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof DrainEvent) {
            draining = true;
            closeAfterResponse = true;
            if (!inFlight) {
                releaseHeld();
                ctx.close();
            }
            return;
        }
        if (evt instanceof IdleStateEvent) {
            if (!inFlight) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseHeld();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseHeld();
    }

    private void releaseHeld() {
        HttpRequest request;
        while ((request = held.poll()) != null) {
            ReferenceCountUtil.release(request);
        }
    }
}
