package pibl.handler;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.runtime.ProxyStats;

/**
 * Counts client connections and closes, at once and without reading a byte, any beyond
 * {@code limits.max-connections}. The refused ones are counted; the log says so at most once a
 * second, so a flood does not become a flood of log lines.
 */
@ChannelHandler.Sharable
public final class ConnectionLimitHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LogManager.getLogger(ConnectionLimitHandler.class);

    private final ProxyStats stats;
    private volatile int max;
    private volatile long lastWarnNanos;

    public ConnectionLimitHandler(ProxyStats stats, int max) {
        this.stats = stats;
        this.max = max;
    }

    public void max(int newMax) {
        this.max = newMax;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        int open = stats.connectionOpened();
        if (open > max) {
            stats.connectionRejected();
            long now = System.nanoTime();
            if (now - lastWarnNanos > 1_000_000_000L) {
                lastWarnNanos = now;
                LOG.warn("connection limit {} reached: closing new connections (refused so far: {})", max,
                        stats.rejectedConnections());
            }
            ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
            ctx.close();
            return;
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stats.connectionClosed();
        ctx.fireChannelInactive();
    }
}
