package pibl.handler;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.cache.CacheEntry;
import pibl.cache.CacheKey;
import pibl.cache.CachePolicy;
import pibl.cache.CacheStatus;
import pibl.cache.CacheWriter;
import pibl.cache.Conditionals;
import pibl.cache.HttpCache;
import pibl.cache.Invalidation;
import pibl.cache.MissLock;
import pibl.http.ProxyHeaders;
import pibl.lb.Backend;
import pibl.upstream.ResponseSink;
import pibl.upstream.Upstream;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Answers from the disk cache what it can, and stores what passes by on its way to the client.
 * It sits between the guard and the forwarding handler: inbound it decides, outbound it watches
 * (and sometimes replaces) the backend's response.
 *
 * <pre>
 * GET /a, fresh entry                     → served from storage, X-Cache: HIT, no backend contact
 * GET /a, nothing stored                  → forwarded (one request per key: {@link MissLock}),
 *                                           body teed into a {@link CacheWriter}, X-Cache: MISS
 * GET /a, stale entry with ETag "v1"      → forwarded with If-None-Match: "v1"; a 304 is swallowed,
 *                                           the entry refreshed and served, X-Cache: REVALIDATED
 * GET /a, stale entry, every backend down → the stale entry if stale-if-error or the grace allow, X-Cache: STALE
 * POST /a answered 2xx/3xx                → /a (and Location, Content-Location) invalidated, X-Cache: BYPASS
 * PURGE /a from loopback                  → entry removed, 200 (403 from anywhere else)
 * </pre>
 *
 * The RFC 9111 decisions are {@link CachePolicy}'s; this class only wires them to the exchange.
 * One exchange at a time per connection (the {@link PipeliningHandler} sees to it), all on the
 * connection's event loop.
 */
public final class CacheHandler extends ChannelDuplexHandler {
    private static final Logger LOG = LogManager.getLogger(CacheHandler.class);
    private static final AsciiString X_CACHE = AsciiString.cached("X-Cache");
    private static final String PURGE = "PURGE";
    /** Misses for a key being fetched wait at most this long for the leader (nginx's proxy_cache_lock_timeout). */
    private static final long LOCK_TIMEOUT_MILLIS = 5_000;

    private static final HttpHeadersFactory TRUSTED_HEADERS =
            DefaultHttpHeadersFactory.headersFactory().withValidation(false);

    private enum Mode { NONE, PASS, STORE, REVALIDATE, INVALIDATE }

    /** What to serve once a swallowed backend response has gone by. */
    private enum Swallow { NONE, REFRESH, STALE }

    private final HttpCache cache;
    private final Upstream upstream;
    private ChannelHandlerContext ctx;

    // The exchange in progress.
    private Mode mode = Mode.NONE;
    private CacheStatus status;
    private CacheKey key;
    private HttpMethod method;
    private boolean keepAlive;
    private HttpVersion clientVersion;
    private HttpHeaders requestHeaders;
    private HttpHeaders clientHeaders;
    private CacheEntry entry;
    private CacheWriter writer;
    private MissLock.Lease lease;
    private long requestTime;
    private Swallow swallow = Swallow.NONE;
    private HttpHeaders notModifiedHeaders;
    private long notModifiedTime;
    private FullHttpRequest waiting;
    private ScheduledFuture<?> waitTimer;

    public CacheHandler(HttpCache cache, Upstream upstream) {
        this.cache = cache;
        this.upstream = upstream;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    // ---- inbound: decide ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        endExchange();
        handle(request, true);
    }

    private void handle(FullHttpRequest request, boolean mayWait) {
        method = request.method();
        keepAlive = HttpUtil.isKeepAlive(request);
        clientVersion = request.protocolVersion();
        HttpHeaders headers = request.headers();
        key = CacheKey.of("http", headers.get(HttpHeaderNames.HOST, ""), request.uri());
        if (PURGE.equals(method.name())) {
            purge(request);
            return;
        }
        if (!CachePolicy.isLookupAllowed(method, headers)) {
            boolean safe = method.equals(HttpMethod.OPTIONS) || method.equals(HttpMethod.TRACE)
                    || method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
            forward(request, safe ? Mode.PASS : Mode.INVALIDATE, CacheStatus.BYPASS);
            return;
        }
        long now = cache.now();
        CacheEntry stored = cache.store().lookup(key, headers);
        if (stored != null) {
            switch (CachePolicy.reuse(stored.freshness(), headers, now)) {
                case FRESH -> {
                    if (serve(stored, CacheStatus.HIT, headers)) {
                        request.release();
                        return;
                    }
                }
                case STALE -> {
                    if (serve(stored, CacheStatus.STALE, headers)) {
                        request.release();
                        return;
                    }
                }
                case STALE_WHILE_REVALIDATE -> {
                    if (serve(stored, CacheStatus.STALE, headers)) {
                        refreshInBackground(stored, request);
                        return;
                    }
                }
                case GATEWAY_TIMEOUT -> {
                    request.release();
                    ctx.writeAndFlush(ErrorResponses.create(HttpResponseStatus.GATEWAY_TIMEOUT, !keepAlive));
                    return;
                }
                case REVALIDATE -> {
                    entry = stored;
                    if (stored.hasValidators()) {
                        revalidate(request, stored);
                        return;
                    }
                }
            }
        } else if (CachePolicy.onlyIfCached(headers)) {
            request.release();
            ctx.writeAndFlush(ErrorResponses.create(HttpResponseStatus.GATEWAY_TIMEOUT, !keepAlive));
            return;
        }
        if (!method.equals(HttpMethod.GET)) {
            forward(request, Mode.PASS, CacheStatus.MISS); // HEAD: answered from a stored GET only
            return;
        }
        boolean conditional = headers.contains(HttpHeaderNames.IF_NONE_MATCH)
                || headers.contains(HttpHeaderNames.IF_MODIFIED_SINCE);
        if (mayWait && !conditional && !cache.isPass(key)) {
            MissLock.Ticket ticket = cache.missLock().enter(key.text());
            if (ticket.lease() == null) {
                await(request, ticket.leaderDone());
                return;
            }
            lease = ticket.lease();
        }
        // No copy: forwarding only strips hop-by-hop fields and adds X-Forwarded-*, none of which
        // decide storability or select a Vary variant.
        requestHeaders = headers;
        forward(request, Mode.STORE, CacheStatus.MISS);
    }

    private void forward(FullHttpRequest request, Mode newMode, CacheStatus newStatus) {
        mode = newMode;
        status = newStatus;
        requestTime = cache.now();
        ctx.fireChannelRead(request);
    }

    /** Stale with validators: ask the backend whether the stored response still holds. */
    private void revalidate(FullHttpRequest request, CacheEntry stored) {
        HttpHeaders headers = request.headers();
        requestHeaders = headers.copy();
        clientHeaders = requestHeaders;
        headers.remove(HttpHeaderNames.IF_NONE_MATCH);
        headers.remove(HttpHeaderNames.IF_MODIFIED_SINCE);
        headers.add(Conditionals.revalidationHeaders(stored.headers()));
        forward(request, Mode.REVALIDATE, CacheStatus.MISS);
    }

    /** Another request is fetching this key: wait for it (bounded), then look again without the lock. */
    private void await(FullHttpRequest request, CompletableFuture<Void> leaderDone) {
        waiting = request;
        waitTimer = ctx.executor().schedule(() -> resume(request), LOCK_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        leaderDone.whenComplete((v, t) -> ctx.executor().execute(() -> resume(request)));
    }

    private void resume(FullHttpRequest request) {
        if (waiting != request) {
            return;
        }
        waiting = null;
        if (waitTimer != null) {
            waitTimer.cancel(false);
            waitTimer = null;
        }
        if (!ctx.channel().isActive()) {
            request.release();
            return;
        }
        handle(request, false);
    }

    private void purge(FullHttpRequest request) {
        request.release();
        boolean local = ctx.channel().remoteAddress() instanceof InetSocketAddress inet
                && inet.getAddress().isLoopbackAddress();
        status = null;
        if (!local) {
            ctx.writeAndFlush(ErrorResponses.create(HttpResponseStatus.FORBIDDEN, !keepAlive));
            return;
        }
        cache.store().invalidate(key);
        cache.clearPass(key);
        LOG.info("purged {}", key.text());
        ByteBuf body = Unpooled.copiedBuffer("purged " + key.target() + "\n", StandardCharsets.UTF_8);
        var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.OK, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        connectionHeader(response.headers());
        ctx.writeAndFlush(response);
    }

    // ---- serving from storage ----

    /**
     * Writes the stored response (or a 304 when the client's validators match it). False if the
     * body file cannot be opened: the entry is dropped and nothing was written.
     */
    private boolean serve(CacheEntry e, CacheStatus how, HttpHeaders validatorsFrom) {
        boolean notModified = validatorsFrom != null
                && (validatorsFrom.contains(HttpHeaderNames.IF_NONE_MATCH)
                || validatorsFrom.contains(HttpHeaderNames.IF_MODIFIED_SINCE))
                && Conditionals.isNotModified(validatorsFrom, e.status(), e.headers());
        boolean bodiless = notModified || method.equals(HttpMethod.HEAD) || e.bodyLength() == 0;
        Object body = null;
        if (!bodiless) {
            ByteBuf memory = e.retainedMemoryBody();
            if (memory != null) {
                body = new DefaultLastHttpContent(memory);
            } else {
                try {
                    body = e.newBodyRegion();
                } catch (IOException missing) {
                    // Replaced or evicted between lookup and open: the index already moved on; treat as a miss.
                    LOG.debug("cache file for {} is gone ({}); fetching instead", e.key(), missing.toString());
                    return false;
                }
            }
        }
        HttpResponse head;
        if (notModified) {
            head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED,
                    Conditionals.notModifiedHeaders(e.headers()));
        } else {
            // The stored headers were validated when they first arrived: copying them needs no second check.
            HttpHeaders h = TRUSTED_HEADERS.newHeaders();
            for (Iterator<Map.Entry<CharSequence, CharSequence>> it = e.headers().iteratorCharSequence(); it.hasNext(); ) {
                Map.Entry<CharSequence, CharSequence> field = it.next();
                h.add(field.getKey(), field.getValue()); // AsciiString both: no String copies, hash cached
            }
            head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(e.status(), e.reason()), h);
        }
        HttpHeaders h = head.headers();
        h.set(HttpHeaderNames.AGE, e.freshness().ageSeconds(cache.now()));
        h.set(X_CACHE, how.name());
        connectionHeader(h);
        record(how);
        ctx.write(head, ctx.voidPromise());
        if (body == null) {
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, ctx.voidPromise());
        } else if (body instanceof FileRegion region) {
            ctx.write(region, ctx.voidPromise());
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, ctx.voidPromise());
        } else {
            ctx.writeAndFlush(body, ctx.voidPromise());
        }
        return true;
    }

    private void connectionHeader(HttpHeaders h) {
        if (!keepAlive) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (clientVersion.equals(HttpVersion.HTTP_1_0)) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
    }

    private void record(CacheStatus how) {
        cache.stats().record(how);
        Exchange exchange = Exchange.current(ctx.channel());
        if (exchange != null) {
            exchange.cacheStatus(how.name());
        }
    }

    // ---- outbound: watch the backend's response ----

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse head && head.status().code() >= 200 && mode != Mode.NONE) {
            onResponseHead(head);
        }
        if (swallow != Swallow.NONE) {
            boolean last = msg instanceof LastHttpContent;
            ReferenceCountUtil.release(msg);
            promise.trySuccess();
            if (last) {
                afterSwallowed();
            }
            return;
        }
        if (writer != null && msg instanceof HttpContent content) {
            writer.write(content.content());
        }
        ctx.write(msg, promise);
        if (msg instanceof LastHttpContent && mode != Mode.NONE) {
            onResponseEnd();
        }
    }

    private void onResponseHead(HttpResponse head) {
        int code = head.status().code();
        long now = cache.now();
        switch (mode) {
            case REVALIDATE -> {
                if (code == 304) {
                    swallow = Swallow.REFRESH;
                    notModifiedHeaders = head.headers().copy();
                    notModifiedTime = now;
                    return;
                }
                if (staleAllowedOnError(code, now)) {
                    return;
                }
                startStoring(head, now);
            }
            case STORE -> {
                if (staleAllowedOnError(code, now)) {
                    return;
                }
                startStoring(head, now);
            }
            case INVALIDATE -> {
                for (CacheKey k : Invalidation.invalidationKeys(method, code, key, head.headers())) {
                    cache.store().invalidate(k);
                }
            }
            default -> {
            }
        }
        head.headers().set(X_CACHE, status.name());
        record(status);
    }

    /** A backend error while a stored response exists: serve that instead, if its headers allow. */
    private boolean staleAllowedOnError(int code, long now) {
        if (entry != null && CachePolicy.isErrorForStale(code)
                && CachePolicy.canServeStaleOnError(entry.freshness(), now, cache.config())) {
            swallow = Swallow.STALE;
            return true;
        }
        return false;
    }

    private void startStoring(HttpResponse head, long responseTime) {
        int code = head.status().code();
        if (requestHeaders != null
                && CachePolicy.isStorable(method, requestHeaders, code, head.headers(), cache.config())) {
            writer = cache.store().begin(key, requestHeaders, code, head.status().reasonPhrase(), head.headers(),
                    requestTime, responseTime);
            cache.clearPass(key);
        } else if (code < 500) {
            cache.markPass(key);
        }
        if (writer == null) {
            cache.missLock().release(lease); // waiters need not wait for a body that will not be stored
            lease = null;
        }
    }

    private void afterSwallowed() {
        Swallow what = swallow;
        swallow = Swallow.NONE;
        CacheEntry e = entry;
        if (what == Swallow.REFRESH) {
            CacheEntry refreshed = cache.store().updateHeaders(e, notModifiedHeaders, requestTime, notModifiedTime)
                    .getNow(null);
            e = refreshed != null ? refreshed : e;
        }
        HttpHeaders validators = clientHeaders;
        endExchangeState();
        if (!serve(e, what == Swallow.REFRESH ? CacheStatus.REVALIDATED : CacheStatus.STALE, validators)) {
            ctx.close(); // the stored body vanished after the backend vouched for it: nothing honest to send
        }
    }

    private void onResponseEnd() {
        CacheWriter w = writer;
        MissLock.Lease l = lease;
        writer = null;
        lease = null;
        if (w != null) {
            w.commit().whenComplete((stored, error) -> cache.missLock().release(l));
        } else {
            cache.missLock().release(l);
        }
        endExchangeState();
    }

    // ---- background refresh (stale-while-revalidate) ----

    private void refreshInBackground(CacheEntry stale, FullHttpRequest request) {
        CacheKey refreshKey = key;
        if (!cache.startRefresh(refreshKey)) {
            request.release();
            return;
        }
        HttpHeaders varyFrom = request.headers().copy();
        FullHttpRequest refresh = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, request.uri(),
                Unpooled.EMPTY_BUFFER, request.headers().copy(), EmptyHttpHeaders.INSTANCE);
        request.release();
        refresh.headers().remove(HttpHeaderNames.IF_NONE_MATCH).remove(HttpHeaderNames.IF_MODIFIED_SINCE);
        refresh.headers().add(Conditionals.revalidationHeaders(stale.headers()));
        Exchange exchange = Exchange.current(ctx.channel());
        ProxyHeaders.toBackend(refresh, exchange != null ? exchange.clientAddress() : "unknown");
        upstream.send(ctx.channel().eventLoop(), refresh, new RefreshSink(stale, refreshKey, varyFrom, cache.now()));
    }

    /** Receives a background refresh: a 304 renews the entry, a storable 200 replaces it. */
    private final class RefreshSink implements ResponseSink {
        private final CacheEntry stale;
        private final CacheKey refreshKey;
        private final HttpHeaders varyFrom;
        private final long sentAt;
        private CacheWriter refreshWriter;

        RefreshSink(CacheEntry stale, CacheKey refreshKey, HttpHeaders varyFrom, long sentAt) {
            this.stale = stale;
            this.refreshKey = refreshKey;
            this.varyFrom = varyFrom;
            this.sentAt = sentAt;
        }

        @Override
        public void onResponse(HttpResponse head, Backend backend) {
            long now = cache.now();
            int code = head.status().code();
            ProxyHeaders.stripHopByHop(head.headers());
            if (code == 304) {
                cache.store().updateHeaders(stale, head.headers(), sentAt, now);
            } else if (CachePolicy.isStorable(HttpMethod.GET, varyFrom, code, head.headers(), cache.config())) {
                refreshWriter = cache.store().begin(refreshKey, varyFrom, code, head.status().reasonPhrase(),
                        head.headers(), sentAt, now);
            }
        }

        @Override
        public void onContent(HttpContent content) {
            try {
                if (refreshWriter != null) {
                    refreshWriter.write(content.content());
                    if (content instanceof LastHttpContent) {
                        refreshWriter.commit();
                        refreshWriter = null;
                    }
                }
            } finally {
                content.release();
            }
            if (content instanceof LastHttpContent) {
                cache.endRefresh(refreshKey);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void onError(Throwable cause, boolean responseStarted) {
            if (refreshWriter != null) {
                refreshWriter.abort();
                refreshWriter = null;
            }
            cache.endRefresh(refreshKey);
        }
    }

    // ---- the end of an exchange or of the connection ----

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        endExchange();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        endExchange();
    }

    /** Abandons whatever the exchange still holds: a half-written entry, a lease, a waiting request. */
    private void endExchange() {
        if (writer != null) {
            writer.abort();
            writer = null;
        }
        cache.missLock().release(lease);
        lease = null;
        if (waiting != null) {
            FullHttpRequest w = waiting;
            waiting = null;
            w.release();
        }
        if (waitTimer != null) {
            waitTimer.cancel(false);
            waitTimer = null;
        }
        swallow = Swallow.NONE;
        endExchangeState();
    }

    private void endExchangeState() {
        mode = Mode.NONE;
        entry = null;
        requestHeaders = null;
        clientHeaders = null;
        notModifiedHeaders = null;
    }
}
