package pibl.handler;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import pibl.cluster.Cluster;
import pibl.cluster.PeerAuth;

/**
 * The fleet's front door, in cluster mode only, before the route: every request loses its {@code PIBL-Peer} mark
 * here; one whose mark is good ({@link pibl.cluster.PeerAuth}) is a peer's, served by this node (its owner) for the
 * client the peer names, and never forwarded to another node. A forged or stale mark makes an ordinary client
 * request, as if it had none. A peer's active check ({@link Cluster#CHECK_PATH}, marked) is answered here, 200.
 */
@ChannelHandler.Sharable
public final class PeerHandler extends ChannelInboundHandlerAdapter {
    private final Cluster cluster;

    public PeerHandler(Cluster cluster) {
        this.cluster = cluster;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            PeerAuth.Verified mark = cluster.acceptPeer(request);
            Exchange ex = mark == null ? null : Exchange.current(ctx.channel());
            if (ex != null && request instanceof FullHttpRequest full && Cluster.isCheck(full)) {
                full.release();
                ex.peerCheck();
                ErrorResponses.send(ctx, HttpResponseStatus.OK); // this node serves: what its peers ask
                return;
            }
            if (ex != null) {
                ex.fromPeer(mark.client(), mark.scheme());
            }
        }
        ctx.fireChannelRead(msg);
    }
}
