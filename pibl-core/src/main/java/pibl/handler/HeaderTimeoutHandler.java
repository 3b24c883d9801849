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
 */
public final class HeaderTimeoutHandler extends ChannelDuplexHandler {
    private final long timeoutNanos;
    private boolean awaitingHead = true;
    private ScheduledFuture<?> timer;

    public HeaderTimeoutHandler(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        arm(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            awaitingHead = false;
            cancel();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (awaitingHead && timer == null) {
            arm(ctx); // the first bytes of the next request head
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof LastHttpContent) {
            awaitingHead = true; // the next head's clock starts with its first byte
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    private void arm(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> {
            timer = null;
            if (awaitingHead && ctx.channel().isActive()) {
                ctx.writeAndFlush(ErrorResponses.create(HttpResponseStatus.REQUEST_TIMEOUT, true))
                        .addListener(f -> ctx.close());
            }
        }, timeoutNanos, TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
