package pibl.demo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import picocli.CommandLine;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The demo web application that runs on every backend instance behind the proxy, and its programmatic handle.
 *
 * <p>From the command line: {@code java -jar pibl-backend-demo.jar --port 9001 --name backend-1}. From a test:
 * <pre>{@code
 *   try (DemoBackend backend = DemoBackend.start("127.0.0.1", 0, "backend-1")) {
 *       URI uri = URI.create("http://127.0.0.1:" + backend.port() + "/api/info");
 *       ...                                     // every response carries X-Backend: backend-1
 *       assertThat(backend.requestCount()).isEqualTo(1);
 *   }
 * }</pre>
 *
 * <p>What each path answers is listed on the home page and in {@link Router}, {@link BasicEndpoints},
 * {@link CacheEndpoints}, {@link StaticSite} and {@link InfoEndpoint}; the download bytes are defined in
 * {@link PatternBytes}: byte i = (i * 31 + 7) &amp; 0xff. Any path takes {@code ?delay=MS}; {@code --delay-ms MS}
 * delays every answer.
 */
public final class DemoBackend implements AutoCloseable {

    private static final long ACCESS_LOG_FLUSH_MILLIS = 200;

    private final Instance instance;
    private final EventLoopGroup group;
    private final Channel listener;
    private final ChannelGroup connections;
    private final AccessLog accessLog;
    private final Future<?> flusher;
    private final AtomicBoolean closed = new AtomicBoolean();

    private DemoBackend(Instance instance, EventLoopGroup group, Channel listener, ChannelGroup connections,
                        AccessLog accessLog) {
        this.instance = instance;
        this.group = group;
        this.listener = listener;
        this.connections = connections;
        this.accessLog = accessLog;
        this.flusher = accessLog == AccessLog.NONE ? null : group.next().scheduleAtFixedRate(accessLog::flush,
                ACCESS_LOG_FLUSH_MILLIS, ACCESS_LOG_FLUSH_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Starts an instance listening on {@code bindHost:port} (port 0 picks a free one), logging nothing.
     *
     * @throws IllegalStateException if it cannot listen there
     */
    public static DemoBackend start(String bindHost, int port, String name) {
        return start(bindHost, port, name, 0, AccessLog.NONE);
    }

    /**
     * Starts an instance with {@code threads} event loops (0: Netty's default, twice the cores) that logs each request
     * to {@code accessLog}.
     */
    static DemoBackend start(String bindHost, int port, String name, int threads, AccessLog accessLog) {
        return start(bindHost, port, name, threads, 0, accessLog);
    }

    /**
     * As {@link #start(String, int, String, int, AccessLog)}, answering every request {@code delayMillis} later than
     * it would (its own {@code ?delay=} included): a backend slow for everyone, for benchmarks of the balancers.
     */
    static DemoBackend start(String bindHost, int port, String name, int threads, long delayMillis,
                             AccessLog accessLog) {
        Instance instance = Instance.named(name, delayMillis);
        Router router = new Router(new StaticSite(instance));
        Transport transport = Transport.best();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, transport.ioHandlers());
        ChannelGroup connections = new DefaultChannelGroup(name, GlobalEventExecutor.INSTANCE);
        ChannelFuture bound = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new DemoChannelInitializer(instance, router, accessLog, connections))
                .bind(bindHost, port)
                .awaitUninterruptibly();
        if (!bound.isSuccess()) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
            throw new IllegalStateException("cannot listen on " + bindHost + ":" + port + ": "
                    + bound.cause().getMessage(), bound.cause());
        }
        connections.add(bound.channel());
        return new DemoBackend(instance, group, bound.channel(), connections, accessLog);
    }

    /** The port this instance listens on (the one chosen when started with port 0). */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** The instance name, sent as {@code X-Backend} on every response. */
    public String name() {
        return instance.name();
    }

    /** How many requests this instance has received, counted as each request is fully read. */
    public long requestCount() {
        return instance.requests().get();
    }

    /** Stops listening, closes every connection and stops the event loops; returns when all of that is done. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            awaitTermination();
            return;
        }
        if (flusher != null) {
            flusher.cancel(false);
        }
        connections.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        accessLog.flush();
    }

    /** The open client connections, for tests that look at a connection from the server's side. */
    List<Channel> clientConnections() {
        return connections.stream().filter(channel -> !(channel instanceof ServerChannel)).toList();
    }

    /** Blocks until this instance has been {@linkplain #close() closed}. */
    void awaitTermination() {
        group.terminationFuture().syncUninterruptibly();
    }

    /** Runs an instance from the command line; see {@code --help}. */
    public static void main(String[] args) {
        int exitCode = new CommandLine(new DemoCommand())
                .setExecutionExceptionHandler((e, commandLine, parsed) -> {
                    commandLine.getErr().println("pibl-backend-demo: " + e.getMessage());
                    return 1;
                })
                .execute(args);
        if (exitCode != 0) {
            System.exit(exitCode);
        }
    }
}
