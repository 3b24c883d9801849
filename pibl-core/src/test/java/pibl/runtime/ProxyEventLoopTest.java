package pibl.runtime;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A connection's read-complete runs the loop's queued tasks; nothing else does. Real sockets on every transport. */
class ProxyEventLoopTest {

    @Test
    void aConnectionsReadCompleteRunsTheTasksQueuedDuringItsRead() throws Exception {
        for (Transport t : Transport.available()) {
            EventLoopGroup group = t.newGroup(1);
            try {
                assertThat(group.next()).as(t.label()).isInstanceOf(ProxyEventLoop.class);
                List<String> order = new CopyOnWriteArrayList<>();
                CompletableFuture<Void> done = new CompletableFuture<>();
                Channel server = new ServerBootstrap().group(group).channel(t.serverChannel())
                        .childHandler(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ReferenceCountUtil.release(msg);
                                ctx.channel().eventLoop().execute(() -> order.add("task"));
                            }

                            @Override
                            public void channelReadComplete(ChannelHandlerContext ctx) {
                                if (order.contains("task") || done.isDone()) {
                                    return; // a second read of the same byte cannot happen; a late one is ignored
                                }
                                order.add("read-complete");
                                order.add("ran " + ProxyEventLoop.runQueuedTasks(ctx.channel().eventLoop()));
                                done.complete(null);
                            }
                        })
                        .bind("127.0.0.1", 0).sync().channel();
                Channel client = new Bootstrap().group(group).channel(t.clientChannel())
                        .handler(new ChannelInboundHandlerAdapter())
                        .connect((InetSocketAddress) server.localAddress()).sync().channel();
                client.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'x'})).sync();
                done.get(10, TimeUnit.SECONDS);
                assertThat(order).as(t.label()).containsExactly("read-complete", "task", "ran true");
                client.close().sync();
                server.close().sync();
            } finally {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            }
        }
    }

    @Test
    void aTaskDoesNotRunTheQueueFromInsideItselfAndNoOtherThreadRunsIt() throws Exception {
        EventLoopGroup group = Transport.NIO.newGroup(1);
        try {
            EventLoop loop = group.next();
            List<String> order = new CopyOnWriteArrayList<>();
            loop.submit(() -> {
                loop.execute(() -> order.add("inner"));
                order.add("ran " + ProxyEventLoop.runQueuedTasks(loop));
            }).sync();
            loop.submit(() -> { }).sync(); // the inner task has run by the time this one does
            assertThat(order).containsExactly("ran false", "inner");
            assertThat(ProxyEventLoop.runQueuedTasks(loop)).as("off the loop's thread").isFalse();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void anotherKindOfLoopIsLeftAlone() throws Exception {
        EventLoop plain = new DefaultEventLoop();
        try {
            assertThat(plain.submit(() -> ProxyEventLoop.runQueuedTasks(plain)).get(5, TimeUnit.SECONDS)).isFalse();
        } finally {
            plain.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
