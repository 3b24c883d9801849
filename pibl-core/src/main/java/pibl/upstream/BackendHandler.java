package pibl.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import pibl.lb.Backend;

import java.nio.channels.ClosedChannelException;

/**
 * The last handler of a backend connection. While an {@link UpstreamCall} is bound to it, every
 * response part and every failure goes to that call; while idle in the {@link ConnectionPool},
 * any data from the backend is a protocol error and a close just removes it from the pool.
 */
final class BackendHandler extends ChannelInboundHandlerAdapter {
    private static final ClosedChannelException CLOSED = new ClosedChannelException();

    private final Backend backend;
    private final ConnectionPool pool;
    private Channel channel;
    private UpstreamCall call;
    private long idleSinceNanos;
    private io.netty.util.concurrent.ScheduledFuture<?> timer;

    BackendHandler(Backend backend, ConnectionPool pool) {
        this.backend = backend;
        this.pool = pool;
    }

    Backend backend() {
        return backend;
    }

    Channel channel() {
        return channel;
    }

    long idleSinceNanos() {
        return idleSinceNanos;
    }

    /**
     * Binds a call and makes sure a timeout check is pending. The check is re-armed only when it
     * fires, for the silence left on the current call: one timer per connection, not per request.
     */
    void bind(UpstreamCall newCall) {
        this.call = newCall;
        if (timer == null) {
            armTimeout(newCall.timeoutNanos());
        }
    }

    private void armTimeout(long delayNanos) {
        timer = channel.eventLoop().schedule(this::checkTimeout, delayNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private void checkTimeout() {
        timer = null;
        UpstreamCall c = call;
        if (c == null || !channel.isActive()) {
            return;
        }
        long left = c.silenceLeftNanos();
        if (left > 0) {
            armTimeout(left);
        } else {
            c.onTimeout(this);
        }
    }

    void close() {
        channel.close();
    }

    /**
     * Closes with a reset (RST, SO_LINGER 0) instead of a FIN: the connection is mid-request, and the backend must
     * see the request aborted, never a short body that could pass for a complete one.
     */
    void reset() {
        if (channel.isActive()) {
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
        }
        channel.close();
    }

    void unbind() {
        this.call = null;
        this.idleSinceNanos = System.nanoTime();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamCall c = call;
        if (c == null) {
            // Nothing was asked: a backend talking out of turn cannot be trusted with the next request.
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (msg instanceof HttpResponse head) {
            c.onResponse(this, head);
        }
        if (msg instanceof HttpContent content) {
            c.onContent(this, content);
        } else if (!(msg instanceof HttpResponse)) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamCall c = call;
        if (c != null) {
            c.onReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        UpstreamCall c = call;
        if (c != null) {
            c.onWritabilityChanged(this);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        UpstreamCall c = call;
        if (c != null) {
            c.onConnectionLost(this, CLOSED);
        } else {
            pool.remove(this);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        UpstreamCall c = call;
        if (c != null) {
            c.onConnectionLost(this, cause);
        }
        ctx.close();
    }
}
