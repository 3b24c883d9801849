package pibl.handler;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.cache.CacheEntry;
import pibl.cache.CacheFill;
import pibl.cache.CacheKey;
import pibl.cache.HotCopies;
import pibl.cache.CachePhase;
import pibl.cache.CachePolicy;
import pibl.cache.Conditionals;
import pibl.cache.HttpCache;
import pibl.cache.Invalidation;
import pibl.cache.MissLock;
import pibl.cache.RangeRequest;
import pibl.cluster.Cluster;
import pibl.config.CacheConfig;
import pibl.http.HttpMethods;
import pibl.http.Upgrades;
import pibl.lb.Backend;
import pibl.route.Route;
import pibl.upstream.Upstream;

import java.util.concurrent.CompletableFuture;

/**
 * The cache segment: answers from storage what it can, and lets the rest through to the {@link ForwardingHandler},
 * watching (and sometimes replacing) the response on its way back. It moves the exchange's {@link CachePhase};
 * every RFC 9111 decision is {@link CachePolicy}'s, and what a backend response becomes is {@link CacheFill}'s.
 *
 * <pre>
 * GET /a, fresh entry              LOOKUP → HIT            served from storage, no backend contact
 * GET /a, nothing stored           LOOKUP → MISS           forwarded (one per key: {@link MissLock}), body teed in
 * GET /a, stale, ETag "v1"         LOOKUP → REVALIDATING   If-None-Match: "v1" to the backend; on 304 →
 *                                  REVALIDATED             the entry, refreshed, is served
 * GET /a, stale-while-revalidate   LOOKUP → STALE_UPDATING stale served, a {@link BackgroundRefresh} started
 * GET /a, stale, backends down     … → STALE               the entry, if stale-if-error or the grace allow it
 * HEAD /a, stale, backend 200      LOOKUP → MISS           forwarded; the stored GET refreshed by the 200's fields
 *                                                          if its validators match, removed if not (9111 4.3.5)
 * POST /a answered 2xx/3xx         BYPASS                  /a (and Location, Content-Location) invalidated
 * PURGE /a from loopback           (no phase)              {@link Purge}: entry removed, 200 (403 from elsewhere)
 * GET /ws, a WebSocket handshake   BYPASS                  never looked up, its answer never stored
 * GET /api, its route cache: { enabled: false }   BYPASS  the same; a route's ttl and ttl-mode decide its storing
 * GET /a, Range: bytes=0-99, fresh LOOKUP → HIT            206 from storage ({@link RangeRequest})
 * GET /a, Range: bytes=0-99, none  LOOKUP → MISS           the backend asked without Range; its 200 stored whole,
 *                                                          the client's part cut from it ({@link PartialStream})
 * </pre>
 *
 * One exchange at a time per channel ({@link CacheExchange}), all on the channel's event loop; it needs nothing
 * of the channel but its executor and {@link Exchange}, so an HTTP/2 stream channel can host it.
 */
public final class CacheHandler extends ChannelDuplexHandler {
    private static final Logger LOG = LogManager.getLogger(CacheHandler.class);
    /** Misses for a key being fetched wait at most this long for the leader (nginx's proxy_cache_lock_timeout). */
    private static final long LOCK_TIMEOUT_MILLIS = 5_000;
    /** A miss waits at most this long for a store whose disk is behind; then it is forwarded anyway. */
    private static final long DISK_WAIT_MILLIS = 1_000;

    private final HttpCache cache;
    private final Forwarder forwarder;
    /** Null outside cluster mode. */
    private final Cluster cluster;
    private final PeerPurge peerPurge;
    /** What a hot copy without Content-Length counts for against {@code hot-copy.max-size}. */
    private static final long HOT_COPY_UNKNOWN_LENGTH = 1 << 20;
    private ChannelHandlerContext ctx;
    private CacheExchange current;

    public CacheHandler(HttpCache cache, Forwarder forwarder) {
        this(cache, forwarder, null, null);
    }

    /**
     * In cluster mode: a cacheable request whose key another node owns goes there, and nothing is stored here; a
     * PURGE goes to every node, through {@code upstream}.
     */
    public CacheHandler(HttpCache cache, Forwarder forwarder, Cluster cluster, Upstream upstream) {
        this.cache = cache;
        this.forwarder = forwarder;
        this.cluster = cluster;
        this.peerPurge = cluster == null ? null : new PeerPurge(cluster, upstream);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest head)) {
            ctx.fireChannelRead(msg); // the parts of a streamed body pass untouched
            return;
        }
        end();
        Exchange ex = Exchange.current(ctx.channel());
        CacheExchange c = current = new CacheExchange(ex,
                CacheKey.of(ex.scheme(), head.headers().get(HttpHeaderNames.HOST, ""), head.uri()), rules(ex),
                head.headers(), RangeRequest.of(head.method(), head.headers()));
        if (!(head instanceof FullHttpRequest request)) {
            // A streamed body (an upload past the retry buffer): never looked up nor stored; an unsafe method's
            // success still invalidates, as it would have aggregated.
            ex.phase(CachePhase.BYPASS);
            c.invalidates = !HttpMethods.isSafe(head.method());
            ctx.fireChannelRead(head);
        } else if (Purge.is(request)) {
            Purge.answer(ctx, cache, c.key, request, peerPurge);
        } else if (!c.rules.enabled()) { // the route's cache: { enabled: false }
            ex.phase(CachePhase.BYPASS);
            c.invalidates = !HttpMethods.isSafe(request.method());
            ctx.fireChannelRead(request);
        } else if (Upgrades.isWebSocket(request)) {
            ex.phase(CachePhase.BYPASS); // a handshake: never answered from storage, its answer never stored
            ctx.fireChannelRead(request);
        } else if (!CachePolicy.isLookupAllowed(request.method(), request.headers())) {
            ex.phase(CachePhase.BYPASS);
            c.invalidates = !HttpMethods.isSafe(request.method());
            ctx.fireChannelRead(request);
        } else if (ownedElsewhere(ex, c.key, request)) {
            ex.toOwner(cluster); // the owner looks up, fetches and stores; its X-Cache comes back to the client
            CacheKey copy = cache.hotCopies() == null ? null : cache.hotCopies().ask(c.key);
            if (copy == null) {
                ctx.fireChannelRead(request);
            } else { // hot here: looked up as its local copy; a miss is fetched from the owner and kept a while
                current = new CacheExchange(ex, copy, c.rules, head.headers(), c.range);
                ex.phase(CachePhase.LOOKUP);
                lookup(current, request, true);
            }
        } else {
            ex.phase(CachePhase.LOOKUP);
            lookup(c, request, true);
        }
    }

    /**
     * Whether another node of the fleet owns the key of this cacheable request: never for a peer's request (the
     * loop guard), nor for one with {@code Authorization} or a key this node has learnt is not stored (an owner's
     * answer it could not have stored either): those go to the backends with no extra hop.
     */
    private boolean ownedElsewhere(Exchange ex, CacheKey key, FullHttpRequest request) {
        if (cluster == null || ex.fromPeer() || request.headers().contains(HttpHeaderNames.AUTHORIZATION)
                || cache.isPass(key)) {
            return false;
        }
        return !cluster.isSelf(cluster.owner(Cluster.key(key)));
    }

    private void lookup(CacheExchange c, FullHttpRequest request, boolean mayWait) {
        CompletableFuture<CacheEntry> found = cache.store().lookup(c.key, request.headers());
        if (found.isDone()) {
            decide(c, request, found.getNow(null), mayWait);
            return;
        }
        c.parkUntil(ctx, request, found, 0, () -> decide(c, request, found.getNow(null), mayWait));
    }

    private void decide(CacheExchange c, FullHttpRequest request, CacheEntry stored, boolean mayWait) {
        if (stored == null) {
            if (CachePolicy.onlyIfCached(request.headers())) {
                respond(request, HttpResponseStatus.GATEWAY_TIMEOUT); // stays in LOOKUP: nothing served, none asked
            } else {
                miss(c, request, null, mayWait);
            }
            return;
        }
        switch (CachePolicy.reuse(stored.freshness(), request.headers(), cache.now())) {
            case FRESH -> serve(c, request, stored, CachePhase.HIT, mayWait);
            case STALE -> serve(c, request, stored, CachePhase.STALE, mayWait);
            case STALE_WHILE_REVALIDATE -> serve(c, request, stored, CachePhase.STALE_UPDATING, mayWait);
            case GATEWAY_TIMEOUT -> respond(request, HttpResponseStatus.GATEWAY_TIMEOUT);
            case REVALIDATE -> {
                if (stored.hasValidators()) {
                    revalidate(c, request, stored, mayWait);
                } else {
                    miss(c, request, stored, mayWait); // refetched; the expired entry may still stand in on error
                }
            }
        }
    }

    /** Serves {@code e} in {@code phase}; if its body is gone since the lookup, the request is a miss instead. */
    private void serve(CacheExchange c, FullHttpRequest request, CacheEntry e, CachePhase phase, boolean mayWait) {
        StoredResponse response = StoredResponse.open(e, request.headers(), c.range, c.exchange.isHead());
        if (response == null) {
            LOG.debug("cache body of {} is gone since the lookup; fetching instead", e.key());
            miss(c, request, null, mayWait);
            return;
        }
        if (phase == CachePhase.STALE_UPDATING) {
            BackgroundRefresh.start(cache, forwarder, ctx.channel().eventLoop(), c.exchange, c.key, c.rules, request,
                    e);
        }
        request.release();
        c.exchange.phase(phase);
        record(c.exchange);
        response.write(ctx, cache.now(), Http2StreamHandler.HTTP_2.equals(c.exchange.version()));
        if (current == c) {
            end(); // served: nothing of the exchange is needed here any more (an HTTP/2 stream's channel, and all
                   // it references, can outlive its exchange by a while: see Http2Stats.HELD_PER_OPEN)
        }
    }

    private void miss(CacheExchange c, FullHttpRequest request, CacheEntry expired, boolean mayWait) {
        if (!HttpMethod.GET.equals(request.method())) {
            c.exchange.phase(CachePhase.MISS); // HEAD: answered from a stored GET only, else passed through,
            if (expired != null && c.holdStandIn(expired)) { // its 200 refreshing or dropping the stored GET
                c.fill = new CacheFill(cache, c.key, c.rules, request.method(), fillHeaders(c, request.headers()),
                        null, expired);
            }
            ctx.fireChannelRead(request);
            return;
        }
        MissLock.Ticket ticket = ticket(c, request,
                mayWait && !Conditionals.isConditional(request.headers()) && !cache.isPass(c.key));
        if (ticket.leaderDone() != null) {
            return; // parked behind the request that fetches the key
        }
        c.exchange.phase(CachePhase.MISS);
        if (expired != null && !c.holdStandIn(expired)) {
            expired = null; // its body is gone: it cannot stand in on error
        }
        if (!cache.isPass(c.key)) { // the whole response, to store; the client's range is cut from it
            RangeRequest.removeFrom(request.headers());
            c.cutsRange = c.range != null;
        } // else a key known not to be stored (or too large): the backend answers the Range itself
        c.fill = new CacheFill(cache, c.key, c.rules, request.method(), fillHeaders(c, request.headers()),
                ticket.lease(), expired);
        CompletableFuture<Void> writable = cache.store().whenWritable();
        if (writable.isDone()) {
            ctx.fireChannelRead(request);
        } else { // the disk is far behind: let it catch up (bounded) rather than send what it could not store
            c.parkUntil(ctx, request, writable, DISK_WAIT_MILLIS, () -> ctx.fireChannelRead(request));
        }
    }

    /** Stale with validators: ask the backend whether the stored response still holds (one request per key). */
    private void revalidate(CacheExchange c, FullHttpRequest request, CacheEntry stored, boolean mayWait) {
        if (!c.holdStandIn(stored)) { // its body is gone since the lookup: nothing to revalidate
            miss(c, request, null, mayWait);
            return;
        }
        MissLock.Ticket ticket = ticket(c, request, mayWait);
        if (ticket.leaderDone() != null) {
            c.releaseStandIn(); // it looks again once the leader is done
            return;
        }
        c.exchange.phase(CachePhase.REVALIDATING);
        FullHttpRequest conditional = CachePolicy.upstreamRequest(request, stored); // without Range
        c.cutsRange = c.range != null;
        request.release(); // its headers live on in c.clientHeaders, for the client's own validators
        c.fill = new CacheFill(cache, c.key, c.rules, conditional.method(), fillHeaders(c, conditional.headers()),
                ticket.lease(), stored);
        ctx.fireChannelRead(conditional);
    }

    /**
     * The settings this exchange's requests are cached by: its route's ({@code cache:} with the route's changes), or
     * {@code cache:} itself outside of a route (a segment test).
     */
    private CacheConfig rules(Exchange ex) {
        return ex.route() == null ? cache.config() : ex.route().cache();
    }

    /**
     * The request's fields as the fill judges storability and records Vary values by: the client's. Forwarding
     * changes the request's fields in place; PIBL's own hop rules (hop-by-hop fields out, X-Forwarded-* in; Range
     * went before, read into {@code c.range}) touch none that decide storability or select a variant, so no copy is
     * made, but a route's {@code request-set} or {@code request-remove} may, so then the fill gets a copy: a variant
     * is stored under what the client sent, which is what the next client's request is compared with.
     */
    private static HttpHeaders fillHeaders(CacheExchange c, HttpHeaders headers) {
        Route route = c.exchange.route();
        return route != null && route.rewritesRequest() ? headers.copy() : headers;
    }

    /**
     * With {@code lock}, the key's miss-lock ticket: its lease if this request leads the fetch; else the leader's
     * future, and the request is parked until the leader is done (at most {@link #LOCK_TIMEOUT_MILLIS}), then looks
     * again without the lock. Without {@code lock}, {@link MissLock#NO_LOCK}: fetch, leading nobody.
     */
    private MissLock.Ticket ticket(CacheExchange c, FullHttpRequest request, boolean lock) {
        MissLock.Ticket ticket = lock ? cache.missLock().enter(c.key.text()) : MissLock.NO_LOCK;
        if (ticket.leaderDone() != null) {
            c.parkUntil(ctx, request, ticket.leaderDone(), LOCK_TIMEOUT_MILLIS, () -> {
                c.exchange.phase(CachePhase.LOOKUP);
                lookup(c, request, false);
            });
        }
        return ticket;
    }

    private void respond(FullHttpRequest request, HttpResponseStatus status) {
        request.release();
        ErrorResponses.send(ctx, status);
    }

    /** Outbound: the backend's response (or PIBL's error page) on its way to the client. */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        CacheExchange c = current;
        if (c == null || ResponseHeads.isInterim(msg)) { // a 103 before the response is neither stored nor served
            ctx.write(msg, promise);
            return;
        }
        if (msg instanceof HttpResponse head && head.status().code() >= 200) {
            onResponseHead(c, head);
            if (c.cutsRange && !c.swallowing) {
                c.partial = PartialStream.of(c.range, head);
                if (c.partial != null) {
                    msg = c.partial.head(head);
                }
            }
        }
        boolean last = msg instanceof LastHttpContent;
        if (c.swallowing) {
            ReferenceCountUtil.release(msg);
            promise.trySuccess();
            if (last) {
                serveInstead(c);
            }
            return;
        }
        if (c.fill != null && msg instanceof HttpContent content) {
            c.fill.onContent(content.content());
        }
        if (c.partial != null && msg instanceof HttpContent content) {
            msg = c.partial.cut(content); // the whole went to the fill; the client gets its range of it
            if (msg == null) {
                promise.trySuccess();
                return;
            }
        }
        ctx.write(msg, promise);
        if (last && c.fill != null) {
            c.fill.onEnd();
            c.fill = null;
        }
        if (last && current == c) {
            end(); // the response is all written: what the exchange held here goes now, not with the next one
        }
    }

    private void onResponseHead(CacheExchange c, HttpResponse head) {
        Exchange ex = c.exchange;
        if (c.invalidates) {
            for (CacheKey k : Invalidation.invalidationKeys(ex.method(), head.status().code(), c.key, head.headers())) {
                cache.store().invalidate(k);
                if (peerPurge != null && !ex.fromPeer()) { // the fleet's entry is its owner's; and any copy here
                    cache.store().invalidate(HotCopies.copyOf(k));
                    peerPurge.invalidateAtOwner(ctx.channel().eventLoop(), k, ex.client());
                }
            }
        }
        if (c.fill == null) {
            if (ex.toOwner() != null) {
                rememberUnstorable(c, head);
            }
            record(ex);
            return;
        }
        CacheFill.Outcome outcome = c.fill.onHead(head);
        switch (outcome) {
            case FORWARD -> {
                if (HotCopies.isCopy(c.key) && cache.hotCopies() != null) {
                    long length = RangeRequest.contentLength(head.headers());
                    cache.hotCopies().storing(c.key, length >= 0 ? length : HOT_COPY_UNKNOWN_LENGTH);
                }
                c.releaseStandIn(); // a new response, forwarded as any miss: the stored one will not be served
                if (ex.phase() == CachePhase.REVALIDATING) {
                    ex.phase(CachePhase.MISS);
                }
                record(ex);
            }
            case SERVE_REFRESHED, SERVE_STALE -> { // swallowed as it goes by; then the stored entry is served
                ex.phase(outcome == CacheFill.Outcome.SERVE_STALE ? CachePhase.STALE : CachePhase.REVALIDATED);
                c.swallowing = true;
            }
        }
    }

    /**
     * The owner's answer to a GET it could not store (private, no-store, too large, ...): the key's next requests
     * here go straight to the backends, as the owner's own would.
     */
    private void rememberUnstorable(CacheExchange c, HttpResponse head) {
        int code = head.status().code();
        if (HttpMethod.GET.equals(c.exchange.method()) && code < 500 && code != 304
                && (!CachePolicy.isStorable(HttpMethod.GET, c.clientHeaders, code, head.headers(), c.rules)
                || RangeRequest.contentLength(head.headers()) > c.rules.maxObjectSize())) {
            cache.markPass(c.key);
        }
    }

    /** The backend's 304 or error has gone by, unseen by the client: serve the stored entry in its place. */
    private void serveInstead(CacheExchange c) {
        StoredResponse response = StoredResponse.open(c.fill.toServe(), c.takeStandIn(), c.clientHeaders, c.range,
                c.exchange.isHead());
        c.fill = null;
        c.swallowing = false;
        record(c.exchange);
        response.write(ctx, cache.now(), Http2StreamHandler.HTTP_2.equals(c.exchange.version()));
    }

    private void record(Exchange ex) {
        if (ex.cacheStatus() != null) {
            cache.stats().record(ex.cacheStatus());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        end();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        end();
    }

    /** Abandons what the exchange still holds: a half-stored response and its lease, a parked request. */
    private void end() {
        CacheExchange c = current;
        current = null;
        if (c != null) {
            c.abandon();
        }
    }
}
