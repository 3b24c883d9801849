package pibl.handler;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
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
 * <p>A streamed request (a head that is not a {@code FullHttpRequest}; its body parts follow) is in flight until its
 * response ends, like any other, and its body is read meanwhile (at the backend's pace: {@link ForwardingHandler}).
 * A body that stops arriving for the idle timeout, while PIBL is reading it, is a client gone: the connection closes
 * (the backend's request is reset, the log says 499). A response that must close while the client is still sending
 * its body (the backend answered early, or the body was refused) closes with a linger, as nginx's lingering close:
 * the response, then a FIN, then the rest of the body read and dropped until the client closes (at most
 * {@link #LINGER_NANOS}), so the client reads the response instead of a reset.
 *
 * <p>Assumes an HTTP/1.1 connection (a byte stream carrying one exchange after another): it is the segment an
 * HTTP/2 connection does not have, since each stream is its own exchange. Time is read from the channel's
 * executor ({@code ticker()}), so tests move it by hand.
 */
public final class PipeliningHandler extends ChannelDuplexHandler {
    /** How long a lingering close waits for the client to stop sending and close (nginx's lingering_time is 30 s). */
    static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** Held requests, each followed by those of its body parts already read (a streamed body). */
    private final ArrayDeque<HttpObject> held = new ArrayDeque<>(2);
    private boolean inFlight;
    /** The request in flight streams its body, and the last part has not come yet. */
    private boolean bodyPending;
    /** Closing after a response while the body still came: everything read is dropped. */
    private boolean lingering;
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
        if (inFlight && !(bodyPending && ctx.channel().config().isAutoRead())) {
            lastActivityNanos = now(ctx); // busy, or the body paused for the backend: not the client's silence
            armIdle(ctx, idleNanos);
            return;
        }
        long left = idleNanos - (now(ctx) - lastActivityNanos);
        if (left > 0) {
            armIdle(ctx, left);
            return;
        }
        releaseHeld();
        ctx.close(); // mid-body, the forwarder resets the backend's request and the log says 499
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingering) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof HttpRequest request)) {
            if (!held.isEmpty() && msg instanceof HttpContent part) {
                held.add(part); // a body part of the last request held
                return;
            }
            if (msg instanceof HttpContent) {
                lastActivityNanos = now(ctx);
                bodyPending &= !(msg instanceof LastHttpContent);
            }
            ctx.fireChannelRead(msg);
            return;
        }
        lastActivityNanos = now(ctx);
        if (inFlight || closeAfterResponse) {
            held.add(request);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        start(ctx, request);
    }

    private void start(ChannelHandlerContext ctx, HttpRequest request) {
        inFlight = true;
        bodyPending = !(request instanceof FullHttpRequest);
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
            ChannelFuture written = ctx.write(msg, promise.unvoid());
            releaseHeld();
            written.addListener(bodyPending ? f -> linger(ctx) : ChannelFutureListener.CLOSE);
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
        HttpObject next = held.poll();
        if (next == null) {
            ctx.channel().config().setAutoRead(true);
            return;
        }
        start(ctx, (HttpRequest) next);
        // Its parts held with it (a FullHttpRequest is an HttpContent too: that is the next request).
        while (held.peek() instanceof HttpContent part && !(part instanceof HttpRequest)) {
            held.poll();
            bodyPending &= !(part instanceof LastHttpContent);
            ctx.fireChannelRead(part);
        }
        ctx.fireChannelReadComplete();
        if (bodyPending) {
            ctx.channel().config().setAutoRead(true); // the rest of its body is to be read (held is empty)
        }
    }

    /**
     * The response is out but the client is still sending its body: half-close (FIN after the response), read and
     * drop until the client closes, or close when {@link #LINGER_NANOS} have passed.
     */
    private void linger(ChannelHandlerContext ctx) {
        if (!(ctx.channel() instanceof DuplexChannel duplex) || !ctx.channel().isActive()) {
            ctx.close();
            return;
        }
        lingering = true;
        duplex.shutdownOutput();
        ctx.channel().config().setAutoRead(true);
        ctx.executor().schedule(() -> ctx.close(), LINGER_NANOS, TimeUnit.NANOSECONDS);
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
        cancelIdle();
        releaseHeld();
        ctx.fireChannelInactive();
    }

    /**
     * Removed when the connection becomes a tunnel, whose own idle timer takes over, or when it turns out to be
     * HTTP/2 (h2c) and the HTTP/1.1 handlers give way.
     */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelIdle();
        releaseHeld();
    }

    private void cancelIdle() {
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
    }

    private void releaseHeld() {
        HttpObject o;
        while ((o = held.poll()) != null) {
            ReferenceCountUtil.release(o);
        }
    }
}
