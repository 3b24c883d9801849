package pibl.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;

/**
 * A backend connection that answered a WebSocket handshake with {@code 101}: out of its call, never to go back to
 * the pool, and its HTTP handlers about to give way to a tunnel end ({@link #install}).
 */
public final class Upgraded {
    private final BackendHandler connection;

    Upgraded(BackendHandler connection) {
        this.connection = connection;
    }

    public Channel channel() {
        return connection.channel();
    }

    /**
     * Replaces the HTTP codec and the backend handler by {@code end}. What the codec had read past the 101 (a frame
     * the backend sent with it) reaches {@code end} as a {@code ByteBuf} when the codec leaves.
     */
    public void install(ChannelHandler end) {
        ChannelPipeline p = connection.channel().pipeline();
        p.addAfter(Upstream.CODEC, "tunnel", end);
        p.remove(connection);
        p.remove(Upstream.CODEC);
    }

    /** Not wanted after all: the connection is closed (it speaks WebSocket now, and nothing else can use it). */
    public void close() {
        connection.close();
    }
}
