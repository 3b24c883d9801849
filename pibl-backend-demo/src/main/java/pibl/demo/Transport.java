package pibl.demo;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

/**
 * The I/O transport: native epoll on Linux when its library loads, Java NIO anywhere else. Both serve the same
 * pipeline; epoll just costs less per connection.
 *
 * @param name          {@code epoll} or {@code nio}
 * @param ioHandlers    makes the I/O handler of each event loop
 * @param serverChannel the listening channel class that matches
 */
record Transport(String name, IoHandlerFactory ioHandlers, Class<? extends ServerChannel> serverChannel) {

    /** Epoll if available, else NIO. */
    static Transport best() {
        if (Epoll.isAvailable()) {
            return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class);
        }
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class);
    }
}
