package pibl.handler;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import pibl.runtime.Http2Stats;

/**
 * Gives a stream's places in {@code http2.max-open-streams} back: its open place when its channel closes
 * ({@link Http2Stats#streamClosed()}), its held place when the channel is deregistered
 * ({@link Http2Stats#streamReleased()}), the moment the event loop lets go of it and of what its pipeline holds.
 * The places were taken ({@link Http2Stats#tryOpenStream(int)}) as the channel was set up; one instance serves
 * every stream of the server.
 */
@ChannelHandler.Sharable
public final class Http2StreamBudget extends ChannelInboundHandlerAdapter {
    private final Http2Stats stats;
    /** One listener for every stream's close, not a new one per stream. */
    private final ChannelFutureListener closed;

    public Http2StreamBudget(Http2Stats stats) {
        this.stats = stats;
        this.closed = future -> stats.streamClosed();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.channel().closeFuture().addListener(closed);
    }

    @Override
    public void channelUnregistered(ChannelHandlerContext ctx) {
        stats.streamReleased();
        ctx.fireChannelUnregistered();
    }
}
