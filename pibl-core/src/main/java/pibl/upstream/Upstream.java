package pibl.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import pibl.config.LimitConfig;
import pibl.config.TimeoutConfig;
import pibl.lb.Backend;
import pibl.lb.LoadBalancer;
import pibl.runtime.Transport;
import pibl.tls.BackendTls;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The backend side of PIBL: sends a request to a backend chosen by the {@link LoadBalancer} of its pool over a
 * pooled keep-alive connection and hands the response to a {@link ResponseSink}. The call keeps that balancer for
 * every attempt, retries too: a request routed before a reload finishes on the pool it started on.
 *
 * <p>Each event loop has its own {@link ConnectionPool}; connections are opened on the loop of the
 * client connection that needs them, so a request and its backend connection share one thread.
 */
public final class Upstream {
    /** Pooled connections idle longer than this are closed rather than reused. */
    static final long POOL_MAX_IDLE_NANOS = TimeUnit.SECONDS.toNanos(50);
    /**
     * A request that cannot be resent (a non-idempotent method, or a streamed body: {@link RetryPolicy#resendable})
     * may only go over a connection used this recently: it cannot be retried if the backend closed the connection
     * meanwhile, so older ones are not risked.
     */
    static final long NON_IDEMPOTENT_REUSE_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final int MAX_IDLE_PER_BACKEND = 512;
    /** The name of a backend connection's HTTP codec, which an {@link Upgraded} connection removes. */
    static final String CODEC = "codec";
    /** The name of a TLS backend connection's first handler. */
    static final String TLS = "tls";

    private final Transport transport;
    private volatile TimeoutConfig timeouts;
    private volatile LimitConfig limits;
    private final int maxResponseHeaderSize;
    private final AttemptLog attemptLog = new AttemptLog();
    private final FastThreadLocal<ConnectionPool> pools = new FastThreadLocal<>() {
        @Override
        protected ConnectionPool initialValue() {
            return new ConnectionPool(MAX_IDLE_PER_BACKEND, POOL_MAX_IDLE_NANOS);
        }

        @Override
        protected void onRemoval(ConnectionPool pool) {
            pool.closeAll(); // a loop ending before closeIdle: nothing left to wait for
        }
    };

    public Upstream(Transport transport, TimeoutConfig timeouts, LimitConfig limits) {
        this.transport = transport;
        this.timeouts = timeouts;
        this.limits = limits;
        this.maxResponseHeaderSize = 64 * 1024;
    }

    /** {@link #send(EventLoop, HttpRequest, LoadBalancer, String, ResponseSink)} for a client of unknown address. */
    public UpstreamCall send(EventLoop loop, HttpRequest request, LoadBalancer balancer, ResponseSink sink) {
        return send(loop, request, balancer, "-", sink);
    }

    /**
     * Starts sending {@code request} (ownership passes to the call) from {@code loop}, which must be
     * the caller's own event loop, to a backend {@code balancer} picks. A {@code FullHttpRequest} carries its body;
     * any other request is a head whose body follows through {@link Call#sendBody}. {@code clientAddress} is the
     * client's address as the exchange has it, which a {@code hash.key: client-ip} balancer hashes.
     */
    public UpstreamCall send(EventLoop loop, HttpRequest request, LoadBalancer balancer, String clientAddress,
                             ResponseSink sink) {
        UpstreamCall call = new UpstreamCall(this, loop, request, balancer, clientAddress, sink);
        call.start();
        return call;
    }

    /**
     * After a reload: every event loop of {@code loops} closes its idle connections to the backends the reload
     * removed (they would otherwise linger until they age out); connections still serving a request close when it
     * ends.
     */
    public void closeRetired(EventLoopGroup loops) {
        for (EventExecutor loop : loops) {
            loop.execute(() -> pools.get().closeRetired());
        }
    }

    /**
     * At shutdown, before {@code loops} stop: every event loop closes its idle connections through their pipelines,
     * and this waits (at most {@code millis}) until they are closed. A TLS connection sends close_notify and closes
     * once it is written, which needs its loop still running: left to the loop's own end, the connection would be
     * cut without one (the backend logs a truncated session) and the alert's buffer could be left unwritten.
     */
    public void closeIdle(EventLoopGroup loops, long millis) {
        List<Future<List<ChannelFuture>>> asked = new ArrayList<>();
        for (EventExecutor loop : loops) {
            asked.add(loop.submit(() -> pools.get().closeAll()));
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (Future<List<ChannelFuture>> f : asked) {
            if (f.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
                    && f.isSuccess()) {
                for (ChannelFuture closed : f.getNow()) {
                    closed.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                }
            }
        }
    }

    /** The log of failed attempts: one full line, then a summary per backend per second. */
    AttemptLog attemptLog() {
        return attemptLog;
    }

    /** Applies new timeouts and limits to the requests that start from now on. */
    public void reconfigure(TimeoutConfig newTimeouts, LimitConfig newLimits) {
        this.timeouts = newTimeouts;
        this.limits = newLimits;
    }

    TimeoutConfig timeouts() {
        return timeouts;
    }

    int retries() {
        return limits.retries();
    }

    /** The pool of the current event loop. */
    ConnectionPool pool() {
        return pools.get();
    }

    /**
     * A new connection to {@code backend}, ready for a request: connected and, for a TLS backend, handshaken, all
     * within {@code timeouts.connect}. A handshake that fails is a {@link BackendTls.HandshakeFailure}; one not done
     * in time a {@link ConnectTimeoutException}, as a connect that takes too long is.
     */
    Future<Channel> connect(EventLoop loop, Backend backend) {
        ConnectionPool pool = pool();
        BackendTls.Peer tls = backend.tls();
        long connectMillis = Math.max(1, Math.min(Integer.MAX_VALUE, timeouts.connect().toMillis()));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(connectMillis);
        Promise<Channel> ready = loop.newPromise();
        ChannelFuture connect = new Bootstrap()
                .group(loop)
                .channel(transport.clientChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(TLS, tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(CODEC, new HttpClientCodec(8192, maxResponseHeaderSize, 64 * 1024));
                        ch.pipeline().addLast("backend", new BackendHandler(backend, pool));
                    }
                })
                .connect(backend.address());
        connect.addListener(f -> {
            Channel ch = connect.channel();
            if (!f.isSuccess()) {
                ready.tryFailure(f.cause());
            } else if (tls == null) {
                ready.trySuccess(ch);
            } else {
                handshake(ch, tls, ready, deadline - System.nanoTime(), connectMillis);
            }
        });
        return ready;
    }

    /** Completes {@code ready} once the handshake is done, or fails it (and closes) when it fails or takes too long. */
    private static void handshake(Channel ch, BackendTls.Peer tls, Promise<Channel> ready, long leftNanos,
                                  long connectMillis) {
        ScheduledFuture<?> timer = ch.eventLoop().schedule(() -> {
            if (ready.tryFailure(new ConnectTimeoutException("TLS handshake not done within " + connectMillis
                    + " ms"))) {
                ch.close();
            }
        }, Math.max(0, leftNanos), TimeUnit.NANOSECONDS);
        ch.pipeline().get(SslHandler.class).handshakeFuture().addListener(h -> {
            timer.cancel(false);
            if (h.isSuccess()) {
                ready.trySuccess(ch);
            } else if (ready.tryFailure(tls.failure(h.cause()))) {
                ch.close();
            }
        });
    }
}
