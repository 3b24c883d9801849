package pibl.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.ArrayDeque;

/**
 * One side of a {@link Tunnel}: what it reads goes to its peer's channel, and it stops reading while the peer
 * cannot take more. Until the tunnel starts it holds what it is given (the bytes an HTTP decoder had read past the
 * {@code 101}, passed on when the decoder is removed), so they go out first and only once the peer has no HTTP
 * codec left to trip over them.
 */
final class TunnelEnd extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LogManager.getLogger(TunnelEnd.class);

    private final Tunnel tunnel;
    private final Channel channel;
    private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>(1);
    private TunnelEnd peer;
    private long bytesRead;
    private boolean inputShut;

    TunnelEnd(Tunnel tunnel, Channel channel) {
        this.tunnel = tunnel;
        this.channel = channel;
    }

    void peer(TunnelEnd end) {
        this.peer = end;
    }

    TunnelEnd peer() {
        return peer;
    }

    Channel channel() {
        return channel;
    }

    long bytesRead() {
        return bytesRead;
    }

    boolean inputShut() {
        return inputShut;
    }

    /** Relays what was held, then reads. */
    void start() {
        ByteBuf held;
        boolean any = false;
        while ((held = pending.poll()) != null) {
            peer.channel.write(held, peer.channel.voidPromise());
            any = true;
        }
        if (any) {
            peer.channel.flush();
            tunnel.touch();
        }
        channel.config().setAutoRead(peer.channel.isWritable());
    }

    void releasePending() {
        ByteBuf held;
        while ((held = pending.poll()) != null) {
            held.release();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf bytes)) {
            ReferenceCountUtil.release(msg); // the decoder's empty last part after the 101, and nothing else
            return;
        }
        bytesRead += bytes.readableBytes();
        if (!tunnel.started()) {
            pending.add(bytes);
            return;
        }
        tunnel.touch();
        peer.channel.write(bytes, peer.channel.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!tunnel.started()) {
            return;
        }
        peer.channel.flush();
        if (!peer.channel.isWritable()) {
            channel.config().setAutoRead(false); // resumed by the peer's channelWritabilityChanged
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (tunnel.started() && channel.isWritable()) {
            peer.channel.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShut = true;
            tunnel.inputShutdown(this);
            return;
        }
        ReferenceCountUtil.release(evt); // a drain does not end a tunnel: the server closes it after timeouts.drain
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        tunnel.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (LOG.isDebugEnabled()) {
            LOG.debug("tunnel {} connection error: {}", channel.remoteAddress(), cause.toString());
        }
        tunnel.close();
    }
}
