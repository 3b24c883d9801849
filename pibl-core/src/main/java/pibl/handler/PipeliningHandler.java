package pibl.handler;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/1.1 client connection: one exchange at a time, in arrival order; every response head finished
 * ({@link ResponseHeads#http1}); the connection closed when a response says so, when idle too long, or when the
 * server drains.
 *
 * <pre>
 * client sends:  GET /a  GET /b  GET /c        (pipelined in one packet)
 * this handler:  passes /a on; holds /b and /c and stops reading the socket
 * /a's last byte written → passes /b on → ... → reading resumes
 * </pre>
 *
 * Holding requests here, before the access log and the cache, is what keeps pipelined responses in order even
 * when a later request would be a quick cache hit. A response finished with {@code Connection: close} closes the
 * connection once written, and requests still held are dropped. An idle connection (no exchange in flight) is
 * closed on the idle timeout, and at once on a {@link DrainEvent}; a busy one closes when its exchange is done.
 *
 * <p>Assumes an HTTP/1.1 connection (a byte stream carrying one exchange after another): it is the segment an
 * HTTP/2 connection does not have, since each stream is its own exchange. Time is read from the channel's
 * executor ({@code ticker()}), so tests move it by hand.
 */
public final class PipeliningHandler extends ChannelDuplexHandler {
    private final ArrayDeque<HttpRequest> held = new ArrayDeque<>(2);
    private boolean inFlight;
    private boolean closeAfterResponse;
    private boolean dispatchScheduled;
    private boolean draining;
    private final long idleNanos;
    private final CharSequence privateField;
    private long lastActivityNanos;
    private ScheduledFuture<?> idleTimer;

    /** @param idleNanos a connection with no exchange in flight for this long is closed */
    public PipeliningHandler(long idleNanos) {
        this(idleNanos, null);
    }

    /**
     * @param idleNanos    a connection with no exchange in flight for this long is closed
     * @param privateField a response field meant for PIBL alone ({@code cache.targeted-field}), removed from every
     *                     response; null for none
     */
    public PipeliningHandler(long idleNanos, CharSequence privateField) {
        this.idleNanos = idleNanos;
        this.privateField = privateField;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        lastActivityNanos = now(ctx);
        armIdle(ctx, idleNanos);
        ctx.fireChannelActive();
    }

    private static long now(ChannelHandlerContext ctx) {
        return ctx.executor().ticker().nanoTime();
    }

    /** One timer per connection, re-armed for the time left when it fires: no timer per request. */
    private void armIdle(ChannelHandlerContext ctx, long delayNanos) {
        idleTimer = ctx.executor().schedule(() -> checkIdle(ctx), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void checkIdle(ChannelHandlerContext ctx) {
        idleTimer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        long left = idleNanos - (now(ctx) - lastActivityNanos);
        if (inFlight || left > 0) {
            armIdle(ctx, inFlight ? idleNanos : left);
            return;
        }
        releaseHeld();
        ctx.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        lastActivityNanos = now(ctx);
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
        if (msg instanceof HttpResponse head
                && ResponseHeads.http1(head, Exchange.current(ctx.channel()), draining, privateField)) {
            closeAfterResponse = true;
        }
        if (!(msg instanceof LastHttpContent) || !inFlight || ResponseHeads.isInterim(msg)) {
            ctx.write(msg, promise);
            return;
        }
        inFlight = false;
        lastActivityNanos = now(ctx);
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
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
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
