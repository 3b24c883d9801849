package pibl.handler;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * Slowloris defence: a request head must arrive complete within {@code timeouts.client-header} of its first byte
 * (or of the connection's start). A client that trickles its headers cannot hold a connection forever by sending
 * one byte now and then: when the time is up this handler passes on a {@link #timedOut() stand-in request} whose
 * decoder result is a {@link HeadTimeoutException}, and the exchange segments answer it like any other refusal
 * (the guard: 408, connection closed; the access log: one line).
 *
 * <p>Sits right after the codec: it sees each socket read end ({@code channelReadComplete}) and each decoded
 * request head. One timer per connection, re-armed only when it fires (as Netty's {@code IdleStateHandler}
 * does), so a busy keep-alive connection costs a field write per request, not a timer. Time is read from the
 * channel's executor ({@code ticker()}). Assumes an HTTP/1.1 connection: on HTTP/2 a stream's head arrives in
 * one HEADERS frame.
 */
public final class HeaderTimeoutHandler extends ChannelDuplexHandler {
    /** The decoder result of the stand-in request for a head that took too long. */
    public static final class HeadTimeoutException extends RuntimeException {
        HeadTimeoutException(long millis) {
            super("request head not complete within " + millis + " ms", null, false, false);
        }
    }

    private final long timeoutNanos;
    private boolean awaitingHead = true;
    private long headStartNanos;
    private ScheduledFuture<?> timer;

    public HeaderTimeoutHandler(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    /** A request of PIBL's own making that carries a timed-out head through the pipeline. */
    static FullHttpRequest timedOut(long timeoutNanos) {
        FullHttpRequest r = new SyntheticRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        r.setDecoderResult(DecoderResult.failure(new HeadTimeoutException(TimeUnit.NANOSECONDS.toMillis(timeoutNanos))));
        return r;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        headStartNanos = now(ctx);
        arm(ctx, timeoutNanos);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            awaitingHead = false;
            headStartNanos = 0;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (awaitingHead && headStartNanos == 0) {
            headStartNanos = now(ctx); // the first bytes of the next request head
            if (timer == null) {
                arm(ctx, timeoutNanos);
            }
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        // The end of a final response (not of an interim one: the aggregator's 100 Continue is a full response
        // too, written while the request it answers is still arriving).
        if (msg instanceof LastHttpContent
                && !(msg instanceof HttpResponse head && head.status().codeClass() == HttpStatusClass.INFORMATIONAL)) {
            awaitingHead = true; // the next head's clock starts with its first byte
            headStartNanos = 0;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    /**
     * Removed when the connection becomes a tunnel, or turns out to be HTTP/2 (h2c) and the HTTP/1.1 handlers give
     * way: no request head is awaited any more.
     */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private static long now(ChannelHandlerContext ctx) {
        return ctx.executor().ticker().nanoTime();
    }

    private void arm(ChannelHandlerContext ctx, long delayNanos) {
        timer = ctx.executor().schedule(() -> check(ctx), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check(ChannelHandlerContext ctx) {
        timer = null;
        if (!ctx.channel().isActive() || !awaitingHead || headStartNanos == 0) {
            return; // re-armed by the next head's first bytes
        }
        long left = timeoutNanos - (now(ctx) - headStartNanos);
        if (left > 0) {
            arm(ctx, left);
            return;
        }
        awaitingHead = false; // one stand-in per connection: it is closed after the answer
        ctx.fireChannelRead(timedOut(timeoutNanos));
        ctx.fireChannelReadComplete();
    }

    /** Marks a request PIBL made up: its request line was never received, so the log prints none. */
    static final class SyntheticRequest extends DefaultFullHttpRequest {
        SyntheticRequest(HttpVersion version, HttpMethod method, String uri) {
            super(version, method, uri, Unpooled.EMPTY_BUFFER);
        }
    }
}
