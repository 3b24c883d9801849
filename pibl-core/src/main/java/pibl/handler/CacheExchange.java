package pibl.handler;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.ReferenceCounted;
import io.netty.util.concurrent.ScheduledFuture;
import pibl.cache.CacheEntry;
import pibl.cache.CacheFill;
import pibl.cache.CacheKey;
import pibl.cache.CachePhase;
import pibl.cache.RangeRequest;
import pibl.config.CacheConfig;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The {@link CacheHandler}'s part of one exchange. Which fields hold something follows from the exchange's
 * {@link CachePhase}:
 *
 * <pre>
 * always          exchange, key, rules (its route's cache settings), clientHeaders (the client's fields, whose
 *                 validators may turn an answer into a 304)
 * BYPASS          invalidates: an unsafe method, whose 2xx/3xx answer invalidates the key and its Location
 * LOOKUP          parked: the request, while the lookup is on a disk thread or behind another request's fetch
 *                 (with waitTimer bounding the wait)
 * MISS            parked too, for a moment, while the store's disk is far behind (a fill that waits costs less
 *                 than one that could not be stored)
 * MISS, REVALIDATING  fill: what the backend's response becomes; swallowing once it decided to serve a stored
 *                 entry instead (the 304 or error is dropped as it goes by); cutsRange when the backend was asked
 *                 without the client's Range, and then partial, the client's part cut from the whole 200
 * </pre>
 *
 * {@code range} is the client's range request (a GET's valid {@code Range}), or null: a stored answer is cut to it
 * ({@link StoredResponse}), and so is a streamed one ({@link PartialStream}) when the backend did not see it.
 */
final class CacheExchange {
    final Exchange exchange;
    final CacheKey key;
    /** The route's cache settings: {@code cache:} with its {@code enabled}, {@code ttl} and {@code ttl-mode}. */
    final CacheConfig rules;
    final HttpHeaders clientHeaders;
    final RangeRequest range;
    boolean invalidates;
    CacheFill fill;
    boolean swallowing;
    boolean cutsRange;
    PartialStream partial;
    /**
     * The body of the stored entry the fill may serve instead of the backend's response (revalidated, or standing
     * in on error), taken hold of before the backend was asked: a 304 that makes the store drop or rewrite the
     * entry, or an eviction while the backend answers, cannot take it away from this exchange.
     */
    private ReferenceCounted standIn;
    private FullHttpRequest parked;
    private ScheduledFuture<?> waitTimer;
    /** Counts parks: a wake belongs to the park it was made for. */
    private long parks;

    CacheExchange(Exchange exchange, CacheKey key, CacheConfig rules, HttpHeaders clientHeaders, RangeRequest range) {
        this.exchange = exchange;
        this.key = key;
        this.rules = rules;
        this.clientHeaders = clientHeaders;
        this.range = range;
    }

    /**
     * Holds {@code request} until {@code done} completes or {@code timeoutMillis} pass (0: no bound), then runs
     * {@code next} on the channel's executor, once, if this park is still the current one and the channel still
     * active (if it is not, the request is released). Whichever of the two wakes comes first wins; the other finds
     * the park over, even if the request was parked again meanwhile (each park has its own token).
     */
    void parkUntil(ChannelHandlerContext ctx, FullHttpRequest request, CompletableFuture<?> done, long timeoutMillis,
                   Runnable next) {
        long token = ++parks;
        parked = request;
        Runnable wake = () -> {
            if (resume(token, ctx.channel().isActive())) {
                next.run();
            }
        };
        waitTimer = timeoutMillis > 0 ? ctx.executor().schedule(wake, timeoutMillis, TimeUnit.MILLISECONDS) : null;
        done.whenComplete((v, t) -> ctx.executor().execute(wake));
    }

    /** True if park {@code token} is still on: it is over now, and its request the caller's (or released). */
    private boolean resume(long token, boolean channelActive) {
        if (parked == null || token != parks) {
            return false;
        }
        FullHttpRequest request = parked;
        parked = null;
        if (waitTimer != null) {
            waitTimer.cancel(false);
            waitTimer = null;
        }
        if (!channelActive) {
            request.release();
        }
        return channelActive;
    }

    /** Takes hold of {@code stored}'s body for a later {@link #takeStandIn}; false if it is gone. */
    boolean holdStandIn(CacheEntry stored) {
        releaseStandIn();
        if (!exchange.isHead()) { // HEAD needs no body
            try {
                standIn = stored.openBody();
            } catch (IOException gone) {
                return false;
            }
        }
        return true;
    }

    /** The body held by {@link #holdStandIn} (null: none needed), now the caller's. */
    ReferenceCounted takeStandIn() {
        ReferenceCounted b = standIn;
        standIn = null;
        return b;
    }

    void releaseStandIn() {
        ReferenceCounted b = takeStandIn();
        if (b != null) {
            b.release();
        }
    }

    /** The exchange is over (the connection closed, or the next request came): release whatever it holds. */
    void abandon() {
        releaseStandIn();
        if (fill != null) {
            fill.abort();
            fill = null;
        }
        if (parked != null) {
            resume(parks, false); // releases it
        }
    }
}
