package pibl.handler;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import pibl.runtime.Http2Stats;

/**
 * Gives a stream's place in {@code http2.max-open-streams} back ({@link Http2Stats#streamClosed()}) when its
 * channel is deregistered: the last event a stream channel sees, and the moment the event loop lets go of it.
 * The place was taken ({@link Http2Stats#tryOpenStream(int)}) as the channel was set up; one instance serves every
 * stream of the server.
 */
@ChannelHandler.Sharable
public final class Http2StreamBudget extends ChannelInboundHandlerAdapter {
    private final Http2Stats stats;

    public Http2StreamBudget(Http2Stats stats) {
        this.stats = stats;
    }

    @Override
    public void channelUnregistered(ChannelHandlerContext ctx) {
        stats.streamClosed();
        ctx.fireChannelUnregistered();
    }
}
