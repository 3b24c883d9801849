package pibl.handler;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * Slowloris defence: a request head must arrive complete within {@code timeouts.client-header}
 * of its first byte (or of the connection's start). A client that trickles its headers gets 408
 * and the connection is closed; it cannot hold a connection forever by sending one byte now and
 * then. Sits right after the codec: it sees each socket read end ({@code channelReadComplete})
 * and each decoded request head.
 *
 * <p>One timer per connection, re-armed only when it fires (as Netty's {@code IdleStateHandler}
 * does), so a busy keep-alive connection costs a field write per request, not a timer.
 */
public final class HeaderTimeoutHandler extends ChannelDuplexHandler {
    private final long timeoutNanos;
    private boolean awaitingHead = true;
    private long headStartNanos;
    private ScheduledFuture<?> timer;

    public HeaderTimeoutHandler(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        headStartNanos = System.nanoTime();
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
            headStartNanos = System.nanoTime(); // the first bytes of the next request head
            if (timer == null) {
                arm(ctx, timeoutNanos);
            }
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof LastHttpContent) {
            awaitingHead = true; // the next head's clock starts with its first byte
            headStartNanos = 0;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ctx.fireChannelInactive();
    }

    private void arm(ChannelHandlerContext ctx, long delayNanos) {
        timer = ctx.executor().schedule(() -> check(ctx), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check(ChannelHandlerContext ctx) {
        timer = null;
        if (!ctx.channel().isActive() || !awaitingHead || headStartNanos == 0) {
            return; // re-armed by the next head's first bytes
        }
        long left = timeoutNanos - (System.nanoTime() - headStartNanos);
        if (left > 0) {
            arm(ctx, left);
            return;
        }
        ctx.writeAndFlush(ErrorResponses.create(HttpResponseStatus.REQUEST_TIMEOUT, true))
                .addListener(f -> ctx.close());
    }
}
