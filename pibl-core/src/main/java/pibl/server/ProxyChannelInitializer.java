package pibl.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.WeightedFairQueueByteDistributor;
import pibl.runtime.ProxyStats;
import pibl.cluster.Cluster;
import pibl.config.PiblConfig;
import pibl.cache.HttpCache;
import pibl.handler.AccessLogHandler;
import pibl.handler.CacheHandler;
import pibl.handler.ConnectionLimitHandler;
import pibl.handler.HeaderTimeoutHandler;
import pibl.handler.HttpsRedirectHandler;
import pibl.handler.Http2ConnectionGuard;
import pibl.handler.Http2StreamBudget;
import pibl.handler.Http2StreamHandler;
import pibl.handler.Forwarder;
import pibl.handler.ForwardingHandler;
import pibl.handler.PeerHandler;
import pibl.handler.PipeliningHandler;
import pibl.handler.RequestAggregator;
import pibl.handler.RequestGuardHandler;
import pibl.handler.RouteHandler;
import pibl.route.Router;
import pibl.http.StrictHttpServerCodec;
import pibl.upstream.Upstream;

import java.util.List;
import java.util.function.Supplier;


/**
 * The client connection's pipeline, one method per segment:
 *
 * <pre>
 * HTTP/1.1   limit → [h2c-detect] → codec → header-timeout → aggregator → pipelining → access-log → guard → route
 *              → [cache] → forward
 * HTTP/2     limit → h2 (frame codec) → h2-streams (one child channel per stream) → h2-guard
 *   a stream            h2-budget → h2-codec → [chunked] → aggregator → stream → access-log → guard → route
 *                         → [cache] → forward
 * </pre>
 *
 * The codec parses (strictly), the aggregator gathers each request body up to the retry buffer (a larger one
 * streams through, part by part, to the forward segment),
 * pipelining lets one exchange through at a time, the access log watches each exchange, the guard
 * answers what must not be forwarded, the route picks the pool (or answers 404, 403, 429), the cache answers what
 * it can, and forward relays the rest to the route's pool. A WebSocket
 * handshake the backend accepts turns the connection into a tunnel: the codec and every segment after it give way
 * to one tunnel end (pibl.tunnel).
 *
 * <p>An HTTP/2 stream is one exchange through the same segments ({@link #addExchangeSegments}); its
 * {@link Http2StreamHandler} stands where pipelining stands, and the connection's concerns are the
 * {@link Http2ConnectionGuard}'s. On the cleartext port a {@link PrefaceDetector} picks h2c by prior knowledge;
 * the TLS listener calls {@link #addHttp2} when ALPN picks {@code h2}.
 *
 * <p>The TLS listener's pipeline ({@link TlsChannelInitializer}) adds its handshake after {@code limit} and then,
 * once ALPN has chosen, {@link #addHttp1} or {@link #addHttp2} as here. With {@code tls.redirect-http} the
 * cleartext port's cache and forward segments are replaced by {@link HttpsRedirectHandler}.
 */
class ProxyChannelInitializer extends ChannelInitializer<Channel> {
    /** RST_STREAM frames a client may send per window before its connection is closed (Netty's default too). */
    static final int MAX_RESETS = 200;
    static final int RESET_WINDOW_SECONDS = 30;
    /** Control frames (SETTINGS/PING acks, RST_STREAM) queued unwritten before the connection is closed. */
    static final int MAX_QUEUED_CONTROL_FRAMES = 10_000;
    /** Consecutive CONTINUATION frames under 8 KiB, none ending the header block (CVE-2024-27316). */
    static final int MAX_SMALL_CONTINUATIONS = 16;
    /**
     * The most of one stream's response body the connection sends before it moves to the next stream with data
     * waiting: one DATA frame at the default SETTINGS_MAX_FRAME_SIZE. Netty's default (1 KiB) cuts every body into
     * 1 KiB frames as soon as two streams send at once; see {@link ServerCodecBuilder}.
     */
    static final int DATA_QUANTUM = 16 * 1024;

    private volatile PiblConfig config;
    private volatile int httpsPort;
    private final Forwarder forwarder;
    private final HttpCache cache;
    /** Null unless {@code cluster:} is on (and the cache too). */
    private final Cluster cluster;
    private final PeerHandler peers;
    private final Upstream upstream;
    private final Supplier<Router> router;
    final ProxyStats stats;
    private final ConnectionLimitHandler connectionLimit;
    /** Gives an HTTP/2 stream's place in {@code http2.max-open-streams} back; one for every listener. */
    private final Http2StreamBudget streamBudget;
    private final ChannelGroup clients;

    /**
     * @param cache  null when the cache is disabled
     * @param router the routes in force, read by each exchange's route segment
     */
    ProxyChannelInitializer(PiblConfig config, Upstream upstream, HttpCache cache, Cluster cluster, ProxyStats stats,
                            ChannelGroup clients, Supplier<Router> router) {
        this.clients = clients;
        this.config = config;
        this.forwarder = Forwarder.to(upstream);
        this.cache = cache;
        this.cluster = cluster;
        this.peers = cluster == null ? null : new PeerHandler(cluster);
        this.upstream = upstream;
        this.router = router;
        this.stats = stats;
        this.connectionLimit = new ConnectionLimitHandler(stats, config.limits().maxConnections());
        this.streamBudget = new Http2StreamBudget(stats.http2());
    }

    /** Another listener's pipeline with the same segments, state and connection limit (one limit for both ports). */
    ProxyChannelInitializer(ProxyChannelInitializer shared) {
        this.clients = shared.clients;
        this.config = shared.config;
        this.forwarder = shared.forwarder;
        this.cache = shared.cache;
        this.cluster = shared.cluster;
        this.peers = shared.peers;
        this.upstream = shared.upstream;
        this.router = shared.router;
        this.stats = shared.stats;
        this.connectionLimit = shared.connectionLimit;
        this.streamBudget = shared.streamBudget;
    }

    /** The bound TLS port, where {@code tls.redirect-http} sends cleartext requests. */
    void httpsPort(int port) {
        this.httpsPort = port;
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
        addProtocolHandlers(p, c);
    }

    void addConnectionHandlers(ChannelPipeline p, PiblConfig config) {
        p.addLast("limit", connectionLimit);
    }

    /** Cleartext: HTTP/1.1 from the first byte, or h2c when the connection starts with the HTTP/2 preface. */
    void addProtocolHandlers(ChannelPipeline p, PiblConfig config) {
        if (config.http2().enabled()) {
            p.addLast("h2c-detect", new PrefaceDetector(this::switchToHttp2));
        }
        addHttp1(p, config);
    }

    /** An HTTP/1.1 connection's handlers, after the connection's own ({@code limit}, and TLS's). */
    final void addHttp1(ChannelPipeline p, PiblConfig config) {
        addHttpHandlers(p, config);
        addExchangeHandlers(p, config);
    }

    /** The connection is TLS: its requests are https, and never redirected. */
    boolean secure() {
        return false;
    }

    /** The preface came: every HTTP/1.1 handler after the detector gives way to the HTTP/2 connection's. */
    private void switchToHttp2(ChannelHandlerContext detector) {
        ChannelPipeline p = detector.pipeline();
        List<String> names = p.names();
        for (String name : names.subList(names.indexOf(detector.name()) + 1, names.size())) {
            if (p.context(name) != null) {
                p.remove(name);
            }
        }
        addHttp2(p);
    }

    /**
     * The HTTP/2 connection's handlers, added last to {@code p} (an h2c connection after its preface, or a TLS one
     * whose ALPN said {@code h2}). The limits, in SETTINGS and in the codec:
     *
     * <pre>
     * SETTINGS_MAX_CONCURRENT_STREAMS  http2.max-concurrent-streams; one more stream gets RST_STREAM REFUSED_STREAM
     * open streams, all connections     http2.max-open-streams; one more gets RST_STREAM REFUSED_STREAM too
     * SETTINGS_MAX_HEADER_LIST_SIZE    limits.max-header-size; a header block past it (however many CONTINUATION
     *                                  frames carry it) ends the connection with GOAWAY, and so do more than
     *                                  {@link #MAX_SMALL_CONTINUATIONS} small CONTINUATION frames in a row
     * SETTINGS_MAX_FRAME_SIZE          16 KiB (the default): a larger frame is FRAME_SIZE_ERROR
     * RST_STREAM from the client       more than {@link #MAX_RESETS} in {@link #RESET_WINDOW_SECONDS} s: GOAWAY
     *                                  ENHANCE_YOUR_CALM (rapid reset)
     * SETTINGS and PING acks unread    more than {@link #MAX_QUEUED_CONTROL_FRAMES} queued: GOAWAY, closed
     * </pre>
     */
    void addHttp2(ChannelPipeline p) {
        PiblConfig c = config;
        Http2FrameCodec codec = new ServerCodecBuilder()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(c.http2().maxConcurrentStreams())
                        .maxHeaderListSize(c.limits().maxHeaderSize()))
                .decoderEnforceMaxRstFramesPerWindow(MAX_RESETS, RESET_WINDOW_SECONDS)
                .encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES)
                .decoderEnforceMaxSmallContinuationFrames(MAX_SMALL_CONTINUATIONS)
                .gracefulShutdownTimeoutMillis(c.timeouts().drain().toMillis())
                .build();
        p.addLast("h2", codec);
        p.addLast("h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                if (!stats.http2().tryOpenStream(c.http2().maxOpenStreams())) {
                    // Past the server's budget: refused before any of it is read (RFC 9113 section 8.7: not
                    // processed, the client may retry it); its frames fall through to the pipeline's end, released.
                    ch.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM));
                    return;
                }
                // Its places are given back when the stream channel closes and when it is deregistered.
                ch.pipeline().addLast("h2-budget", streamBudget);
                addHttp2Stream(ch.pipeline(), c);
            }
        }));
        p.addLast("h2-guard", new Http2ConnectionGuard(codec.connection(), stats.http2(),
                c.timeouts().clientIdle().toNanos(), c.timeouts().clientHeader().toNanos()));
    }

    /**
     * {@code Http2FrameCodecBuilder.forServer()}, with a connection whose flow controller hands each stream
     * {@link #DATA_QUANTUM} bytes a turn. Netty's {@code WeightedFairQueueByteDistributor} gives every stream with
     * data its allocation quantum per turn, 1 KiB by default: with ten streams of 64 KiB hits in flight a
     * connection sent ~600 DATA frames of 1 KiB for 640 KiB (nghttp -nv -m 10), each one a frame header, a
     * promise and a part of a TLS record to compose, where 40 frames of 16 KiB carry the same. Streams still take
     * turns, so a small response waits for at most one frame of each larger one ahead of it (nginx's
     * http2_chunk_size is 8 KiB for the same reason).
     */
    private static final class ServerCodecBuilder extends Http2FrameCodecBuilder {
        ServerCodecBuilder() {
            DefaultHttp2Connection connection = new DefaultHttp2Connection(true);
            WeightedFairQueueByteDistributor turns = new WeightedFairQueueByteDistributor(connection);
            turns.allocationQuantum(DATA_QUANTUM);
            // Set before build(): the encoder makes a default controller only when the connection has none.
            connection.remote().flowController(new DefaultHttp2RemoteFlowController(connection, turns));
            connection(connection);
            gracefulShutdownTimeoutMillis(0); // as forServer(); addHttp2 sets timeouts.drain
        }
    }

    /** One stream: turned into HTTP objects, then the exchange segments behind {@link Http2StreamHandler}. */
    private void addHttp2Stream(ChannelPipeline p, PiblConfig c) {
        stats.http2().streamOpened();
        p.addLast(Http2StreamHandler.CODEC, new Http2StreamFrameToHttpObjectCodec(true));
        p.addLast("aggregator", new RequestAggregator(c.limits().maxRequestBody(), c.limits().retryBuffer()));
        p.addLast("stream", new Http2StreamHandler(c.cache().targetedField()));
        addExchangeSegments(p, c);
    }

    private void addHttpHandlers(ChannelPipeline p, PiblConfig config) {
        p.addLast("codec", new StrictHttpServerCodec(config.limits().maxInitialLine(), config.limits().maxHeaderSize()));
        p.addLast("header-timeout", new HeaderTimeoutHandler(config.timeouts().clientHeader().toNanos()));
        p.addLast("aggregator", new RequestAggregator(config.limits().maxRequestBody(), config.limits().retryBuffer()));
    }

    private void addExchangeHandlers(ChannelPipeline p, PiblConfig config) {
        p.addLast("pipelining", new PipeliningHandler(config.timeouts().clientIdle().toNanos(),
                config.cache().targetedField()));
        addExchangeSegments(p, config);
    }

    /** What every exchange goes through, an HTTP/1.1 request or an HTTP/2 stream. */
    private void addExchangeSegments(ChannelPipeline p, PiblConfig config) {
        p.addLast("access-log", new AccessLogHandler(config.log().format(), stats, config.log().traceContext()));
        p.addLast("guard", RequestGuardHandler.INSTANCE);
        if (peers != null) {
            p.addLast("peer", peers); // before the redirect: the peers speak cleartext to each other on this port
        }
        if (!secure() && config.tls().enabled() && config.tls().redirectHttp()) {
            p.addLast("redirect", new HttpsRedirectHandler(httpsPort));
            if (peers == null) {
                return; // nothing but the redirect is ever served here
            }
        }
        p.addLast("route", new RouteHandler(router));
        if (cache != null) {
            p.addLast("cache", new CacheHandler(cache, forwarder, cluster, upstream));
        }
        p.addLast("forward", new ForwardingHandler(forwarder, stats, config.timeouts().tunnelIdle().toNanos()));
    }
}
