package pibl.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import pibl.runtime.ProxyStats;
import pibl.config.PiblConfig;
import pibl.cache.HttpCache;
import pibl.handler.AccessLogHandler;
import pibl.handler.CacheHandler;
import pibl.handler.ConnectionLimitHandler;
import pibl.handler.HeaderTimeoutHandler;
import pibl.handler.Forwarder;
import pibl.handler.ForwardingHandler;
import pibl.handler.PipeliningHandler;
import pibl.handler.RequestAggregator;
import pibl.handler.RequestGuardHandler;
import pibl.http.StrictHttpServerCodec;
import pibl.upstream.Upstream;


/**
 * The client connection's pipeline, one method per segment:
 *
 * <pre>
 * limit → codec → header-timeout → aggregator → pipelining → access-log → guard → [cache] → forward
 * </pre>
 *
 * The codec parses (strictly), the aggregator gathers each request body up to the retry buffer (a larger one
 * streams through, part by part, to the forward segment),
 * pipelining lets one exchange through at a time, the access log watches each exchange, the guard
 * answers what must not be forwarded, the cache answers what it can, and forward relays the rest. A WebSocket
 * handshake the backend accepts turns the connection into a tunnel: the codec and every segment after it give way
 * to one tunnel end (pibl.tunnel).
 */
final class ProxyChannelInitializer extends ChannelInitializer<Channel> {
    private volatile PiblConfig config;
    private final Forwarder forwarder;
    private final HttpCache cache;
    private final ProxyStats stats;
    private final ConnectionLimitHandler connectionLimit;
    private final ChannelGroup clients;

    /** {@code cache} is null when the cache is disabled. */
    ProxyChannelInitializer(PiblConfig config, Upstream upstream, HttpCache cache, ProxyStats stats,
                            ChannelGroup clients) {
        this.clients = clients;
        this.config = config;
        this.forwarder = Forwarder.to(upstream);
        this.cache = cache;
        this.stats = stats;
        this.connectionLimit = new ConnectionLimitHandler(stats, config.limits().maxConnections());
    }

    /** New connections get the new timeouts and limits; open ones keep theirs. */
    void update(PiblConfig next) {
        this.config = next;
        connectionLimit.max(next.limits().maxConnections());
    }

    @Override
    protected void initChannel(Channel ch) {
        clients.add(ch);
        ChannelPipeline p = ch.pipeline();
        PiblConfig c = config;
        addConnectionHandlers(p, c);
        addHttpHandlers(p, c);
        addExchangeHandlers(p, c);
    }

    private void addConnectionHandlers(ChannelPipeline p, PiblConfig config) {
        p.addLast("limit", connectionLimit);
    }

    private void addHttpHandlers(ChannelPipeline p, PiblConfig config) {
        p.addLast("codec", new StrictHttpServerCodec(config.limits().maxInitialLine(), config.limits().maxHeaderSize()));
        p.addLast("header-timeout", new HeaderTimeoutHandler(config.timeouts().clientHeader().toNanos()));
        p.addLast("aggregator", new RequestAggregator(config.limits().maxRequestBody(), config.limits().retryBuffer()));
    }

    private void addExchangeHandlers(ChannelPipeline p, PiblConfig config) {
        p.addLast("pipelining", new PipeliningHandler(config.timeouts().clientIdle().toNanos(),
                config.cache().targetedField()));
        p.addLast("access-log", new AccessLogHandler(config.log().format(), stats));
        p.addLast("guard", RequestGuardHandler.INSTANCE);
        if (cache != null) {
            p.addLast("cache", new CacheHandler(cache, forwarder));
        }
        p.addLast("forward", new ForwardingHandler(forwarder, stats, config.timeouts().tunnelIdle().toNanos()));
    }
}
