package pibl.tunnel;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.ScheduledFuture;
import pibl.runtime.ProxyStats;

import java.util.concurrent.TimeUnit;

/**
 * A client connection and a backend connection joined byte for byte, once the backend answered an upgrade with
 * {@code 101}: HexDumpProxy again, with no HTTP left on either side.
 *
 * <pre>
 * client ⇄ [limit, (tls)] client end ─── bytes ───▶ backend end ⇄ backend
 *                                    ◀── bytes ───
 * a side whose peer is not writable stops reading (autoRead) until the peer drains
 * a FIN on one side is passed on as a FIN (shutdownOutput) once what came before it is written;
 *   FINs both ways, or either connection gone, close both
 * no byte either way for timeouts.tunnel-idle closes both
 * </pre>
 *
 * The two ends are installed by whoever owns the pipelines ({@link #clientEnd}, {@link #backendEnd}), then
 * {@link #start} relays what the HTTP decoders had already read past the {@code 101} (the backend's first frame,
 * frames the client sent right after its request) before anything newer. Both channels share one event loop,
 * so nothing here needs a lock. {@link Closed} hears once, when the tunnel closes, how many bytes went each way.
 */
public final class Tunnel {

    /** Told once, on the event loop, when the tunnel closes. */
    @FunctionalInterface
    public interface Closed {
        void closed(long fromClient, long toClient);
    }

    private final TunnelEnd client;
    private final TunnelEnd backend;
    private final EventLoop loop;
    private final long idleNanos;
    private final ProxyStats stats;
    private final Closed onClose;
    private long lastActivityNanos;
    private ScheduledFuture<?> idleTimer;
    private boolean started;
    private boolean closed;

    private Tunnel(Channel clientChannel, Channel backendChannel, long idleNanos, ProxyStats stats, Closed onClose) {
        if (clientChannel.eventLoop() != backendChannel.eventLoop()) {
            throw new IllegalStateException("a tunnel's two connections must share one event loop");
        }
        this.loop = clientChannel.eventLoop();
        this.client = new TunnelEnd(this, clientChannel);
        this.backend = new TunnelEnd(this, backendChannel);
        client.peer(backend);
        backend.peer(client);
        this.idleNanos = idleNanos;
        this.stats = stats;
        this.onClose = onClose;
        stats.tunnelOpened();
    }

    /** A tunnel between two connections on the same event loop, counted open in {@code stats} from now. */
    public static Tunnel between(Channel client, Channel backend, long idleNanos, ProxyStats stats, Closed onClose) {
        return new Tunnel(client, backend, idleNanos, stats, onClose);
    }

    /** The handler for the client's pipeline, to sit where the HTTP codec was. */
    public ChannelHandler clientEnd() {
        return client;
    }

    /** The handler for the backend connection's pipeline, to sit where its HTTP codec was. */
    public ChannelHandler backendEnd() {
        return backend;
    }

    /** Both ends installed: relay what each held, then read both sides. */
    public void start() {
        started = true;
        if (closed) {
            return;
        }
        if (!client.channel().isActive() || !backend.channel().isActive()) {
            close();
            return;
        }
        lastActivityNanos = now();
        armIdle(idleNanos);
        for (TunnelEnd end : new TunnelEnd[] {client, backend}) {
            end.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        }
        client.start();
        backend.start();
    }

    boolean started() {
        return started;
    }

    private long now() {
        return loop.ticker().nanoTime();
    }

    void touch() {
        lastActivityNanos = now();
    }

    /** One timer per tunnel, re-armed for the time left when it fires. */
    private void armIdle(long delayNanos) {
        idleTimer = loop.schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void checkIdle() {
        idleTimer = null;
        if (closed) {
            return;
        }
        long left = idleNanos - (now() - lastActivityNanos);
        if (left > 0) {
            armIdle(left);
        } else {
            close();
        }
    }

    /**
     * {@code end} read a FIN: its peer gets one too, after the bytes before it. Once both sides have sent theirs,
     * or when a channel cannot half-close, both close.
     */
    void inputShutdown(TunnelEnd end) {
        TunnelEnd peer = end.peer();
        if (peer.inputShut() || !(peer.channel() instanceof DuplexChannel duplex)) {
            close();
            return;
        }
        peer.channel().writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (f.isSuccess() && !closed) {
                duplex.shutdownOutput();
            }
        });
    }

    /** Closes both connections, each after what is already written to it; counted and reported once. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
        client.releasePending();
        backend.releasePending();
        closeOnFlush(client.channel());
        closeOnFlush(backend.channel());
        stats.tunnelClosed();
        onClose.closed(client.bytesRead(), backend.bytesRead());
    }

    private static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            ch.close();
        }
    }
}
