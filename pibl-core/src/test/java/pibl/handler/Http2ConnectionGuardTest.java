package pibl.handler;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import pibl.runtime.Http2Stats;
import pibl.runtime.Transport;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The guard's read-complete lets the proxy's loop run what the read queued (a finished stream's release). */
class Http2ConnectionGuardTest {

    @Test
    void theTasksAReadQueuedRunBeforeTheConnectionsReadCompleteReturns() throws Exception {
        Transport t = Transport.best();
        EventLoopGroup group = t.newGroup(1);
        try {
            List<String> order = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> done = new CompletableFuture<>();
            // stands where the frame codec and the multiplexer stand: a stream finished during the read
            ChannelInboundHandlerAdapter streams = new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ReferenceCountUtil.release(msg);
                    ctx.channel().eventLoop().execute(() -> order.add("stream released"));
                }

                @Override
                public void channelReadComplete(ChannelHandlerContext ctx) {
                    ctx.fireChannelReadComplete();
                    order.add("read-complete returned");
                    done.complete(null);
                }
            };
            Channel server = new ServerBootstrap().group(group).channel(t.serverChannel())
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(streams, new Http2ConnectionGuard(new DefaultHttp2Connection(true),
                                    new Http2Stats(), TimeUnit.MINUTES.toNanos(1), TimeUnit.MINUTES.toNanos(1)));
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
            Channel client = new Bootstrap().group(group).channel(t.clientChannel())
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect((InetSocketAddress) server.localAddress()).sync().channel();
            client.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'x'})).sync();
            done.get(10, TimeUnit.SECONDS);
            assertThat(order).as(t.label()).startsWith("stream released", "read-complete returned");
            client.close().sync();
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
