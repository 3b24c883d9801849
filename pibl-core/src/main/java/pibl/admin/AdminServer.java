package pibl.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.config.AdminConfig;

import java.net.InetSocketAddress;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The admin listener: a small HTTP server apart from the public port, for people and for Prometheus
 * ({@code /}, {@code /status}, {@code /metrics}; see {@link AdminHandler}). It runs on an event loop group it is
 * given and does not own: the proxy's single-threaded acceptor group suits it, which keeps scrapes off the
 * workers that move traffic.
 *
 * <pre>
 * try (AdminServer admin = new AdminServer(config.admin(), view, group, Transport.NIO.serverChannel()).start()) {
 *     int port = admin.port();   // the bound port, also when the config asked for 0
 * }
 * </pre>
 *
 * With {@code enabled: false} {@link #start()} binds nothing and {@link #port()} is -1.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(AdminServer.class);
    /** An idle admin connection is closed after this long. */
    static final int IDLE_SECONDS = 60;
    private static final int MAX_REQUEST_BYTES = 8192;

    private final AdminConfig config;
    private final ProxyView view;
    private final EventLoopGroup group;
    private final Class<? extends ServerChannel> channelClass;
    private ProxyMetrics metrics;
    private Channel serverChannel;
    /** Takes the history's sample every second while the listener is up. */
    private ScheduledFuture<?> sampler;
    private int port = -1;

    public AdminServer(AdminConfig config, ProxyView view, EventLoopGroup group,
                       Class<? extends ServerChannel> channelClass) {
        this.config = config;
        this.view = view;
        this.group = group;
        this.channelClass = channelClass;
    }

    /** Binds {@code host:port}; throws (a {@link java.net.BindException} or Netty's) if it cannot. */
    public AdminServer start() throws InterruptedException {
        if (!config.enabled()) {
            return this;
        }
        metrics = new ProxyMetrics(view);
        History history = new History(view);
        AdminHandler handler = new AdminHandler(view, metrics, history);
        try {
            serverChannel = new ServerBootstrap()
                    .group(group)
                    .channel(channelClass)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(
                                    new ReadTimeoutHandler(IDLE_SECONDS, TimeUnit.SECONDS),
                                    new HttpServerCodec(),
                                    new HttpObjectAggregator(MAX_REQUEST_BYTES),
                                    handler);
                        }
                    })
                    .bind(config.host(), config.port()).sync().channel();
        } catch (Exception e) {
            metrics.close();
            metrics = null;
            throw e;
        }
        port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        sampler = group.next().scheduleAtFixedRate(() -> history.sample(System.currentTimeMillis()), 0, 1,
                TimeUnit.SECONDS);
        LOG.info("admin listening on http://{}:{}/ (/status, /status/history, /metrics)", hostForUrl(config.host()),
                port);
        return this;
    }

    /** The bound port, or -1 when disabled or not started. */
    public int port() {
        return port;
    }

    /** Stops listening and unregisters the metrics. Open admin connections close with the event loop group. */
    @Override
    public void close() {
        if (sampler != null) {
            sampler.cancel(false);
            sampler = null;
        }
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
            serverChannel = null;
        }
        if (metrics != null) {
            metrics.close();
            metrics = null;
        }
    }

    private static String hostForUrl(String host) {
        return host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    }
}
