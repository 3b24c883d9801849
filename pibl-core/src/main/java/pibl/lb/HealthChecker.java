package pibl.lb;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.config.HealthCheckConfig;
import pibl.tls.BackendTls;

import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Active health checks: every {@code interval}, a fresh connection to each backend and
 *
 * <pre>
 * GET /health HTTP/1.1
 * Host: 127.0.0.1:9001
 * Connection: close
 * User-Agent: pibl-health-check
 * </pre>
 *
 * A TLS backend is checked over TLS, as its requests go (the same SNI name and verification), the handshake
 * within the same {@code timeout}. A 2xx or 3xx head within {@code timeout} is a good check (the body is not
 * read); any other status, a refused or reset connection, or silence is a failed one. {@code fall} failed checks in
 * a row take the backend out of rotation, {@code rise} good ones bring it back; the
 * {@link Backend} logs each change.
 *
 * <p>Each backend is checked from one event loop of the given group, scheduled, never blocking;
 * the next check starts {@code interval} after the previous one started, or right after it ended
 * when it took longer. A backend's counts live on its loop and need no lock.
 */
public final class HealthChecker implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(HealthChecker.class);

    private final HealthCheckConfig config;
    private final Consumer<FullHttpRequest> decorate;
    private final Class<? extends Channel> channelClass;
    private final List<Probe> probes;
    private final long intervalNanos;
    private final long timeoutNanos;
    private volatile boolean started;
    private volatile boolean closed;

    public HealthChecker(List<Backend> backends, HealthCheckConfig config, EventLoopGroup group,
                         Class<? extends Channel> channelClass) {
        this(backends, config, group, channelClass, r -> { });
    }

    /** @param decorate adds to each check's request (a fleet's peers: the mark that makes it a peer's) */
    public HealthChecker(List<Backend> backends, HealthCheckConfig config, EventLoopGroup group,
                         Class<? extends Channel> channelClass, Consumer<FullHttpRequest> decorate) {
        this.decorate = decorate;
        this.config = config;
        this.channelClass = channelClass;
        this.intervalNanos = config.interval().toNanos();
        this.timeoutNanos = config.timeout().toNanos();
        this.probes = backends.stream().map(b -> new Probe(b, group.next())).toList();
    }

    /** Starts checking; the first round goes out at once. */
    public synchronized HealthChecker start() {
        if (started || closed) {
            return this;
        }
        started = true;
        LOG.info("health checks: GET {} on {} backend{} every {}, timeout {}, fall {}, rise {}", config.path(),
                probes.size(), probes.size() == 1 ? "" : "s", Failures.human(config.interval()),
                Failures.human(config.timeout()), config.fall(), config.rise());
        for (Probe p : probes) {
            p.schedule(0);
        }
        return this;
    }

    /** Stops checking; checks under way are abandoned and change nothing. */
    @Override
    public void close() {
        closed = true;
        for (Probe p : probes) {
            p.stop();
        }
    }

    /** One backend's checks, confined to one event loop. */
    private final class Probe {
        private final Backend backend;
        private final EventLoop loop;
        private int passes;
        private int fails;
        private long startedNanos;
        private volatile ScheduledFuture<?> next;
        private volatile Channel channel;

        Probe(Backend backend, EventLoop loop) {
            this.backend = backend;
            this.loop = loop;
        }

        void schedule(long delayNanos) {
            if (closed) {
                return;
            }
            try {
                next = loop.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                LOG.debug("health checks of {} stop: event loop shut down", backend);
            }
        }

        void stop() {
            ScheduledFuture<?> n = next;
            if (n != null) {
                n.cancel(false);
            }
            Channel ch = channel;
            if (ch != null) {
                ch.close();
            }
        }

        private void check() {
            if (closed) {
                return;
            }
            startedNanos = System.nanoTime();
            Check check = new Check(this);
            BackendTls.Peer tls = backend.tls();
            check.timer = loop.schedule(() -> check.finish("no answer within " + Failures.human(config.timeout())),
                    timeoutNanos, TimeUnit.NANOSECONDS);
            ChannelFuture connect = new Bootstrap()
                    .group(loop)
                    .channel(channelClass)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                            (int) Math.max(1, Math.min(Integer.MAX_VALUE, config.timeout().toMillis())))
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            if (tls != null) {
                                // The request waits in it until the handshake is done; check.timer bounds both.
                                SslHandler ssl = tls.newHandler(ch.alloc());
                                ssl.handshakeFuture().addListener(h -> {
                                    if (!h.isSuccess()) {
                                        check.finish("TLS handshake failed: " + tls.describe(h.cause()));
                                    }
                                });
                                ch.pipeline().addLast("tls", ssl);
                            }
                            ch.pipeline().addLast("codec", new HttpClientCodec(4096, 8192, 8192));
                            ch.pipeline().addLast("check", check);
                        }
                    })
                    .connect(backend.address());
            check.channel = connect.channel();
            channel = check.channel;
            connect.addListener(f -> {
                if (!f.isSuccess()) {
                    check.finish(Failures.describe(f.cause()));
                }
            });
        }

        /** On the loop: the verdict of one check, {@code failure == null} when it was good. */
        void done(String failure) {
            channel = null;
            if (closed) {
                return;
            }
            if (failure == null) {
                fails = 0;
                passes++;
                backend.activeCheckPassed();
                if (passes >= config.rise()) {
                    backend.markActivelyUp(passes);
                }
            } else {
                passes = 0;
                fails++;
                LOG.debug("health check of {} failed ({} in a row): {}", backend, fails, failure);
                if (fails >= config.fall()) {
                    backend.markActivelyDown(fails, failure);
                }
            }
            long elapsed = System.nanoTime() - startedNanos;
            schedule(Math.max(0, intervalNanos - elapsed));
        }

        FullHttpRequest request() {
            FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, config.path(),
                    Unpooled.EMPTY_BUFFER);
            r.headers().set(HttpHeaderNames.HOST, backend.label());
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            r.headers().set(HttpHeaderNames.USER_AGENT, "pibl-health-check");
            decorate.accept(r);
            return r;
        }
    }

    /** One check's connection; every event and the timer run on the probe's loop. */
    private static final class Check extends ChannelInboundHandlerAdapter {
        private final Probe probe;
        private ScheduledFuture<?> timer;
        private Channel channel;
        private boolean finished;

        Check(Probe probe) {
            this.probe = probe;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(probe.request()).addListener(f -> {
                if (!f.isSuccess()) {
                    finish(Failures.describe(f.cause()));
                }
            });
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpResponse head) {
                    if (head.decoderResult().isFailure()) {
                        finish("bad response: " + Failures.describe(head.decoderResult().cause()));
                    } else {
                        int code = head.status().code();
                        finish(code >= 200 && code < 400 ? null : "HTTP " + code);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            finish("connection closed before a response");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            finish(Failures.describe(cause));
        }

        void finish(String failure) {
            if (finished) {
                return;
            }
            finished = true;
            if (timer != null) {
                timer.cancel(false);
            }
            if (channel != null) {
                channel.close();
            }
            probe.done(failure);
        }
    }
}
