package pibl.handler;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.runtime.Http2Stats;
import pibl.runtime.ProxyEventLoop;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/2 connection's own watch, last in its pipeline (after the frame codec and the stream multiplexer): the
 * connection-wide timeouts, the drain, and the counts of the GOAWAYs the codec sends.
 *
 * <pre>
 * preface, SETTINGS, then no HEADERS within timeouts.client-header  → GOAWAY NO_ERROR, closed (headerTimeouts)
 * no stream open for timeouts.client-idle                           → GOAWAY NO_ERROR, closed (idleClosed)
 * {@link DrainEvent}                                                → GOAWAY NO_ERROR at once; the open streams
 *                                                                     finish (up to timeouts.drain), then closed
 * the codec sends GOAWAY ENHANCE_YOUR_CALM, "... RST frames ..."    → counted as rapidReset, and so on
 *                                                                     ({@link Http2Stats.GoAway})
 * </pre>
 *
 * Closing goes through the codec, whose close is graceful: a GOAWAY naming the last stream it took, then the
 * connection closes when the open streams are done or {@code gracefulShutdownTimeoutMillis} has passed. Connection
 * errors the codec reports here have been answered by it already (GOAWAY, close): they are logged at DEBUG only.
 * One timer per connection, re-armed when it fires; time is read from the channel's executor.
 */
public final class Http2ConnectionGuard extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LogManager.getLogger(Http2ConnectionGuard.class);

    private final Http2Connection connection;
    private final Http2Stats stats;
    private final long idleNanos;
    private final long headerNanos;
    private boolean headSeen;
    private long startNanos;
    private long lastActivityNanos;
    private ScheduledFuture<?> timer;

    /**
     * @param connection  the frame codec's connection: its streams and the GOAWAYs it sends
     * @param idleNanos   {@code timeouts.client-idle}
     * @param headerNanos {@code timeouts.client-header}: from the connection's start to its first request head
     */
    public Http2ConnectionGuard(Http2Connection connection, Http2Stats stats, long idleNanos, long headerNanos) {
        this.connection = connection;
        this.stats = stats;
        this.idleNanos = idleNanos;
        this.headerNanos = headerNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        stats.connectionOpened();
        startNanos = lastActivityNanos = now(ctx);
        connection.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamAdded(Http2Stream stream) {
                headSeen = true;
                lastActivityNanos = now(ctx);
            }

            @Override
            public void onStreamClosed(Http2Stream stream) {
                lastActivityNanos = now(ctx);
            }

            @Override
            public void onGoAwaySent(int lastStreamId, long errorCode, ByteBuf debugData) {
                stats.goAwaySent(reason(errorCode, debugData.toString(StandardCharsets.UTF_8)));
            }
        });
        arm(ctx, Math.min(headerNanos, idleNanos));
    }

    /** Which defence sent a GOAWAY: the codec says it in the error code and the debug text it sends along. */
    static Http2Stats.GoAway reason(long errorCode, String debug) {
        String text = debug.toLowerCase(Locale.ROOT);
        if (errorCode == Http2Error.NO_ERROR.code()) {
            return Http2Stats.GoAway.GRACEFUL;
        }
        if (text.contains("rst frames")) {
            return Http2Stats.GoAway.RAPID_RESET;
        }
        if (text.contains("control frames")) {
            return Http2Stats.GoAway.CONTROL_FLOOD;
        }
        if (text.contains("header size") || text.contains("continuation")) {
            return Http2Stats.GoAway.HEADER_FLOOD;
        }
        return Http2Stats.GoAway.PROTOCOL_ERROR;
    }

    private static long now(ChannelHandlerContext ctx) {
        return ctx.executor().ticker().nanoTime();
    }

    private void arm(ChannelHandlerContext ctx, long delayNanos) {
        timer = ctx.executor().schedule(() -> check(ctx), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check(ChannelHandlerContext ctx) {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        long now = now(ctx);
        if (!headSeen) {
            long left = headerNanos - (now - startNanos);
            if (left <= 0) {
                stats.headerTimedOut();
                ctx.close();
                return;
            }
            arm(ctx, Math.min(left, idleNanos));
            return;
        }
        if (connection.numActiveStreams() > 0) {
            lastActivityNanos = now; // busy streams are not the client's silence
            arm(ctx, idleNanos);
            return;
        }
        long left = idleNanos - (now - lastActivityNanos);
        if (left > 0) {
            arm(ctx, left);
            return;
        }
        stats.idleClosed();
        ctx.close();
    }

    /** Connection-level frames (SETTINGS, PING, GOAWAY, WINDOW_UPDATE) end here: the codec has acted on them. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof DrainEvent) {
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (LOG.isDebugEnabled()) {
            LOG.debug("HTTP/2 client {} connection error: {}", ctx.channel().remoteAddress(), cause.toString());
        }
        if (!(cause instanceof Http2Exception)) {
            ctx.close(); // an I/O error; a protocol error the codec answers itself, with its own GOAWAY
        }
    }

    /**
     * The read is done with: every frame delivered, every stream's read-complete fired. The loop may run its
     * queued tasks now ({@link ProxyEventLoop#runQueuedTasks}), among them the release of the streams that just
     * finished, instead of at the end of a turn that can last hundreds of milliseconds on io_uring.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.fireChannelReadComplete();
        ProxyEventLoop.runQueuedTasks(ctx.channel().eventLoop());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ctx.fireChannelInactive();
    }
}
