package pibl.demo;

import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Answers the requests of one connection strictly one after another, in the order they arrived.
 *
 * <pre>
 *   in:  GET /a?delay=300   GET /b   GET /c        (pipelined, one TCP segment)
 *   out: 200 /a  (after 300 ms)  200 /b  200 /c    (the same order, whatever each one costs)
 * </pre>
 *
 * Requests queue here; the next one is routed only when the last write of the previous response has completed. A
 * {@code ?delay=MS} (any path), plus the instance's own {@code --delay-ms}, capped at {@value #MAX_DELAY_MS} ms
 * together, is a task scheduled on the channel's event loop, never a sleeping thread, so one event loop serves any number of delayed requests. While
 * {@value #MAX_QUEUED} requests wait, the connection stops reading, so a client cannot pile up requests without limit.
 *
 * <p>Every request is released once its reply is built; requests still queued when the connection closes, and a
 * request whose delay is pending, are released in {@link #channelInactive}.
 */
final class ExchangeHandler extends ChannelInboundHandlerAdapter {

    /** The longest {@code ?delay=} honoured; longer delays are cut to this. */
    static final long MAX_DELAY_MS = 120_000;

    private static final int MAX_QUEUED = 32;

    private final Instance instance;
    private final Router router;
    private final ReplyWriter writer;
    private final AccessLog accessLog;

    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private boolean busy;
    private Pending delayed;
    private ScheduledFuture<?> delayTask;

    /** A request waiting for its turn, numbered on arrival. */
    private record Pending(Exchange exchange, long receivedNanos) {
        FullHttpRequest request() {
            return exchange.request();
        }
    }

    ExchangeHandler(Instance instance, Router router, AccessLog accessLog) {
        this.instance = instance;
        this.router = router;
        this.writer = new ReplyWriter(instance.name());
        this.accessLog = accessLog;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        long number = instance.requests().incrementAndGet();
        Exchange exchange = Exchange.of(request, ctx.channel().remoteAddress(), ctx.channel().localAddress(), number,
                instance);
        queue.add(new Pending(exchange, System.nanoTime()));
        if (queue.size() >= MAX_QUEUED) {
            ctx.channel().config().setAutoRead(false);
        }
        if (!busy) {
            next(ctx);
        }
    }

    private void next(ChannelHandlerContext ctx) {
        ChannelConfig config = ctx.channel().config();
        if (!config.isAutoRead() && queue.size() < MAX_QUEUED / 2) {
            config.setAutoRead(true);
        }
        Pending pending = queue.poll();
        busy = pending != null;
        if (pending == null) {
            return;
        }
        long delay = delayMillis(pending.exchange());
        if (delay >= 0) {
            delay += instance.delayMillis();
        }
        if (delay <= 0) {
            answer(ctx, pending, delay < 0);
            return;
        }
        delayed = pending;
        delayTask = ctx.executor().schedule(() -> {
            delayed = null;
            delayTask = null;
            answer(ctx, pending, false);
        }, Math.min(delay, MAX_DELAY_MS), TimeUnit.MILLISECONDS);
    }

    private void answer(ChannelHandlerContext ctx, Pending pending, boolean badDelay) {
        FullHttpRequest request = pending.request();
        String requestLine = request.method() + " " + request.uri() + " " + request.protocolVersion();
        boolean head = HttpMethod.HEAD.equals(request.method());
        boolean http10 = HttpVersion.HTTP_1_0.equals(request.protocolVersion());
        Reply reply;
        boolean keepAlive;
        try {
            reply = route(pending.exchange(), badDelay);
            keepAlive = ReplyWriter.keepAlive(request, reply);
        } finally {
            request.release();
        }
        long length = ReplyWriter.bodyLength(reply, head);
        int status = reply.status().code();
        ChannelFuture written = writer.write(ctx, reply, head, keepAlive, http10);
        written.addListener(future -> {
            accessLog.log(logLine(pending, requestLine, status, length, future.isSuccess()));
            if (!future.isSuccess() || !keepAlive) {
                ctx.close();
            } else {
                next(ctx);
            }
        });
    }

    private Reply route(Exchange exchange, boolean badDelay) {
        FullHttpRequest request = exchange.request();
        if (request.decoderResult().isFailure()) {
            return Reply.badRequest("malformed request: " + request.decoderResult().cause().getMessage()).closing();
        }
        if (badDelay) {
            return Reply.badRequest("delay must be a whole number of milliseconds >= 0");
        }
        Reply reply;
        try {
            reply = router.route(exchange);
        } catch (RuntimeException e) {
            return Reply.text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + e + "\n").closing();
        }
        if (exchange.isGetOrHead() && reply.status().code() == 200
                && Conditionals.notModified(request.headers(), reply.headers())) {
            return Conditionals.notModifiedReply(reply);
        }
        return reply;
    }

    /** {@code <time> <name> <client> "<request line>" <status> <body bytes> <ms since received>ms [aborted]} */
    private String logLine(Pending pending, String requestLine, int status, long length, boolean complete) {
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - pending.receivedNanos());
        return Instant.now() + " " + instance.name() + " " + pending.exchange().remoteText() + " \"" + requestLine
                + "\" " + status + " " + length + " " + millis + "ms" + (complete ? "" : " aborted");
    }

    /** The {@code ?delay=} of the request in milliseconds, 0 when absent, -1 when malformed. */
    private static long delayMillis(Exchange exchange) {
        String value = exchange.param("delay");
        if (value == null) {
            return 0;
        }
        try {
            long millis = Long.parseLong(value.trim());
            return millis < 0 ? -1 : millis;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (delayTask != null) {
            delayTask.cancel(false);
            delayed.request().release();
            delayTask = null;
            delayed = null;
        }
        for (Pending pending; (pending = queue.poll()) != null; ) {
            pending.request().release();
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A reset or a protocol error ends the conversation; there is no one to tell.
        ctx.close();
    }
}
