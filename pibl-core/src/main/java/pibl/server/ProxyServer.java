package pibl.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.runtime.ProxyStats;
import pibl.runtime.Transport;
import pibl.admin.AdminServer;
import pibl.admin.ProxyView;
import pibl.cache.HttpCache;
import pibl.config.CertificateFiles;
import pibl.config.ConfigException;
import pibl.cluster.Cluster;
import pibl.config.PiblConfig;
import pibl.config.PoolConfig;
import pibl.handler.DrainEvent;
import pibl.lb.Backend;
import pibl.lb.LoadBalancer;
import pibl.route.Pool;
import pibl.route.Pools;
import pibl.route.Router;
import pibl.tls.ServerTls;
import pibl.tls.TlsContexts;
import pibl.upstream.Upstream;

import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A running PIBL: the public listener, its event loops, and the backends behind it.
 *
 * <pre>
 * try (ProxyServer server = new ProxyServer(config).start()) {
 *     int port = server.port();   // the bound port, also when the config asked for 0
 * }
 * </pre>
 */
public final class ProxyServer implements AutoCloseable, ProxyView {
    private static final Logger LOG = LogManager.getLogger(ProxyServer.class);

    private volatile PiblConfig config;
    private ProxyChannelInitializer initializer;
    private AdminServer admin;
    private final Transport transport;
    private final Clock clock;
    private boolean clearCacheOnStart;
    private HttpCache cache;
    private final ProxyStats stats = new ProxyStats();
    private ChannelGroup clients;
    private EventLoopGroup bossGroup;
    private EventLoopGroup workerGroup;
    private Channel serverChannel;
    private TlsContexts tls;
    private TlsChannelInitializer tlsInitializer;
    private Channel tlsChannel;
    private int tlsPort = -1;
    private Upstream upstream;
    /** Replaced on reload (its kept pools' backends carried over), then {@link #router}, which refers to it. */
    private volatile Pools pools;
    /** The routes in force: read once per exchange by the route segment, replaced whole on reload. */
    private volatile Router router;
    /** Null unless {@code cluster:} is on. */
    private Cluster cluster;
    private boolean closed;
    private int port;

    public ProxyServer(PiblConfig config) {
        this(config, Clock.systemUTC());
    }

    /** With the clock the cache judges freshness by (tests move it instead of sleeping). */
    public ProxyServer(PiblConfig config, Clock clock) {
        this(config, clock, Transport.best());
    }

    /** On a given transport rather than the best one here (tests run every available one). */
    public ProxyServer(PiblConfig config, Clock clock, Transport transport) {
        this.config = config.validate();
        this.transport = transport;
        this.clock = clock;
    }

    /** Empty the cache directory before serving ({@code --clear-cache}). Call before {@link #start()}. */
    public ProxyServer clearCacheOnStart() {
        this.clearCacheOnStart = true;
        return this;
    }

    /**
     * Binds the listeners.
     *
     * @throws BindException naming the address when a port is taken
     */
    public ProxyServer start() throws InterruptedException, BindException {
        // Both fail on a file that cannot be used (certificates, a backend's CA) before anything binds.
        pools = Pools.create(config.poolsInForce());
        if (config.cluster().enabled()) {
            cluster = Cluster.create(config.cluster()); // its secret file read now, a bad one refused
            LOG.info("cluster: this node is {} of {} ({}); cacheable requests go to their key's owner",
                    config.cluster().self().address(), config.cluster().peers().size(),
                    cluster.balancer().policy());
        }
        if (config.tls().enabled()) {
            tls = new TlsContexts(ServerTls.build(config.tls(), config.http2().enabled()));
            warnExpired(tls.current());
        }
        int threads = Integer.getInteger("pibl.threads", Runtime.getRuntime().availableProcessors());
        bossGroup = transport.newGroup(1);
        workerGroup = transport.newGroup(threads);
        clients = new DefaultChannelGroup("pibl-clients", workerGroup.next());
        upstream = new Upstream(transport, config.timeouts(), config.limits());
        router = Router.create(config, pools, config.cache(), System::nanoTime);
        if (config.cache().enabled()) {
            cache = new HttpCache(config.cache(), clock, clearCacheOnStart);
            if (cluster != null && config.cluster().hotCopy() != null) {
                cache.hotCopies(config.cluster().hotCopy().maxSize(), config.cluster().hotCopy().ttl());
            }
            cache.rules(router); // before its index loads: each entry's freshness by its route's settings
            if (clearCacheOnStart) {
                LOG.info("cache cleared at start: {}", config.cache().directory().toAbsolutePath());
            }
        }
        String binding = config.bind() + ":" + config.port();
        try {
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(bossGroup, workerGroup)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                    .childHandler(initializer = new ProxyChannelInitializer(config, upstream, cache, cluster, stats,
                            clients, this::router));
            if (tls != null) {
                // First, so that the cleartext port's redirects name the bound TLS port from its first request.
                binding = "TLS " + config.bind() + ":" + config.tls().port();
                tlsInitializer = new TlsChannelInitializer(initializer, tls);
                tlsChannel = bootstrap.clone().childHandler(tlsInitializer)
                        .bind(config.bind(), config.tls().port()).sync().channel();
                tlsPort = ((InetSocketAddress) tlsChannel.localAddress()).getPort();
                initializer.httpsPort(tlsPort);
                binding = config.bind() + ":" + config.port();
            }
            serverChannel = bootstrap.bind(config.bind(), config.port()).sync().channel();
            port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
            binding = "admin " + config.admin().host() + ":" + config.admin().port();
            admin = new AdminServer(config.admin(), this, bossGroup, transport.serverChannel()).start();
        } catch (Exception e) {
            for (Channel bound : new Channel[] {tlsChannel, serverChannel}) {
                if (bound != null) {
                    bound.close().syncUninterruptibly();
                }
            }
            if (tls != null) {
                tls.close();
            }
            shutdownGroups();
            if (cache != null) {
                cache.close();
            }
            if (e instanceof BindException || e.getCause() instanceof BindException
                    || String.valueOf(e.getMessage()).contains("Address already in use")) {
                BindException named = new BindException(binding + ": Address already in use");
                named.initCause(e);
                throw named;
            }
            throw e;
        }
        pools.startHealthChecks(workerGroup, transport.clientChannel());
        if (cluster != null) {
            cluster.startChecks(workerGroup, transport.clientChannel());
        }
        if (cache != null) {
            cache.store().startLoading(); // listening first: however large the cache, the port opens at once
        }
        LOG.info("PIBL listening on {}:{} ({} transport, {} event loops), {}", config.bind(), port,
                transport.label(), threads, describeRouting(config));
        if (tls != null) {
            tls.startRotation(workerGroup.next());
            LOG.info("TLS on {}:{} with {}, {}, certificates {}", config.bind(), tlsPort,
                    tls.current().providerName(), config.tls().protocols(), tls.current().describe());
        }
        if (cache != null) {
            LOG.info("cache in {}: ttl {} s ({} mode), max-size {} bytes; its index is loading in the background",
                    config.cache().directory().toAbsolutePath(), config.cache().ttl().toSeconds(),
                    config.cache().ttlMode().name().toLowerCase(Locale.ROOT), config.cache().maxSize());
        } else {
            LOG.info("cache disabled");
        }
        return this;
    }

    /** The bound public port (useful when the config asked for port 0). */
    @Override
    public int port() {
        return port;
    }

    /** The bound TLS port, -1 without TLS. */
    public int tlsPort() {
        return tlsPort;
    }

    /** {@code OpenSSL (BoringSSL)} or {@code JDK (Java 17)}; null without TLS. */
    public String tlsProvider() {
        return tls == null ? null : tls.current().providerName();
    }

    /** The TLS contexts in force, null without TLS (tests rotate its ticket keys). */
    TlsContexts tlsContexts() {
        return tls;
    }

    /** {@code io_uring}, {@code epoll} or {@code nio}. */
    @Override
    public String transport() {
        return transport.label();
    }

    public PiblConfig config() {
        return config;
    }

    /** Stops accepting, drains in-flight exchanges up to {@code timeouts.drain}, closes everything; once. */
    @Override
    public synchronized void close() {
        if (serverChannel == null || closed) {
            return;
        }
        closed = true;
        if (admin != null) {
            admin.close();
        }
        serverChannel.close().syncUninterruptibly();
        if (tlsChannel != null) {
            tlsChannel.close().syncUninterruptibly();
            tls.close();
        }
        pools.close();
        if (cluster != null) {
            cluster.close();
        }
        drain(config.timeouts().drain().toMillis());
        upstream.closeIdle(workerGroup, 2_000);
        shutdownGroups();
        if (cache != null) {
            cache.close();
        }
        LOG.info("PIBL on port {} stopped", port);
    }

    /**
     * Applies a new configuration without dropping anything open: pools and routes, backends (their counters and
     * pooled connections kept where the pool's name, the address and the TLS settings stay), weights, balancing,
     * timeouts and limits, and the fleet's nodes, secrets and hot copies ({@code cluster:}) take effect for the next
     * requests and connections; an exchange already routed finishes on the pool it started on. The listen address,
     * the cache and the admin listener change only on a restart; the
     * log says so.
     */
    public synchronized void reload(PiblConfig next) {
        next.validate();
        PiblConfig current = config;
        if (!next.bind().equals(current.bind()) || next.port() != current.port()) {
            LOG.warn("reload: the listen address changes only on a restart; still on {}:{}", current.bind(), port);
        }
        if (!next.cache().equals(current.cache())) {
            LOG.warn("reload: cache settings change only on a restart");
        }
        if (!next.admin().equals(current.admin())) {
            LOG.warn("reload: admin listener settings change only on a restart");
        }
        if (next.cluster().enabled() != current.cluster().enabled()) {
            LOG.warn("reload: turning cluster mode on or off needs a restart; still {}",
                    cluster == null ? "on its own" : "one of the fleet");
        } else if (cluster != null) {
            // First: a secret file that cannot be used refuses the reload before anything else changed.
            cluster.reconfigure(next.cluster());
            if (cache != null) {
                cache.hotCopies(next.cluster().hotCopy());
            }
        }
        // Then a backend CA that cannot be used refuses the reload before the listener or the routes changed.
        pools = pools.reconfigure(next.poolsInForce());
        reloadTls(current.tls(), next.tls(), next.http2().enabled());
        router = router.next(next, pools); // one write: a new exchange sees the new routes and their pools together
        if (cache != null) {
            cache.rules(router);
        }
        upstream.reconfigure(next.timeouts(), next.limits());
        upstream.closeRetired(workerGroup);
        initializer.update(next);
        if (tlsInitializer != null) {
            tlsInitializer.update(next);
        }
        config = next;
        LOG.info("reloaded: {}, timeouts {}, limits {}", describeRouting(next), next.timeouts(), next.limits());
    }

    /**
     * New handshakes get the certificates and keys as the files are now; open connections keep theirs. A file
     * that cannot be used keeps the old ones, with one line saying why. Turning TLS on or off, or moving its
     * port, needs a restart.
     */
    private void reloadTls(pibl.config.TlsConfig current, pibl.config.TlsConfig next, boolean http2) {
        if (next.enabled() != current.enabled() || next.enabled() && next.port() != current.port()) {
            LOG.warn("reload: turning TLS on or off, or moving its port, needs a restart");
        }
        if (tls == null || !next.enabled()) {
            return;
        }
        ServerTls fresh;
        try {
            fresh = ServerTls.build(next, http2);
        } catch (ConfigException e) {
            LOG.error("reload: TLS certificates refused, the running ones stay: {}", e.getMessage());
            return;
        }
        warnExpired(fresh);
        tls.swap(fresh);
        LOG.info("reload: TLS certificates {}", fresh.describe());
    }

    private static void warnExpired(ServerTls contexts) {
        for (CertificateFiles.Loaded c : contexts.expired(Instant.now())) {
            LOG.warn("{}: certificate expired on {}; served anyway", c.files().cert(),
                    c.leaf().getNotAfter().toInstant());
        }
    }

    /** {@code backends [..]} for the shorthand; {@code pools shop [..], static [..]; 3 routes} otherwise. */
    private static String describeRouting(PiblConfig c) {
        if (c.pools().isEmpty() && c.routes().isEmpty()) {
            PoolConfig only = c.poolsInForce().get(0);
            return "backends " + c.backends() + " (" + only.balance().policy().key() + ")";
        }
        return "pools " + c.poolsInForce().stream()
                .map(p -> p.name() + " " + p.backends() + " (" + p.balance().policy().key() + ")")
                .collect(Collectors.joining(", ")) + "; " + c.routesInForce().size() + " routes";
    }

    /** Every pool's backends, pool after pool. */
    @Override
    public List<Backend> backends() {
        return pools.all().stream().flatMap(p -> p.balancer().backends().stream()).toList();
    }

    /** The pools in force, in configuration order. */
    @Override
    public List<Pool> pools() {
        return pools.all();
    }

    /** The routes in force (replaced on reload). */
    @Override
    public Router router() {
        return router;
    }

    /** The bound admin port, -1 when disabled. */
    public int adminPort() {
        return admin == null ? -1 : admin.port();
    }

    /** Server-wide counters. */
    @Override
    public ProxyStats stats() {
        return stats;
    }

    /** The balancer of the first pool in force (the only one of the {@code backends:} shorthand); it changes on reload. */
    @Override
    public LoadBalancer balancer() {
        return pools.all().get(0).balancer();
    }

    /** The cache, or null when disabled. */
    /** The fleet this node is one of; null unless {@code cluster:} is on. */
    @Override
    public Cluster cluster() {
        return cluster;
    }

    @Override
    public HttpCache cache() {
        return cache;
    }

    /**
     * Lets in-flight exchanges finish: idle connections close now, busy ones after their current
     * response; whatever is still open after {@code millis} is closed.
     */
    private void drain(long millis) {
        int open = clients.size();
        if (open == 0) {
            return;
        }
        LOG.info("draining {} client connections (up to {} ms)", open, millis);
        for (Channel ch : clients) {
            ch.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!clients.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!clients.isEmpty()) {
            LOG.warn("closing {} connections still busy after the {} ms drain", clients.size(), millis);
            clients.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }

    private void shutdownGroups() {
        if (bossGroup != null) {
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
