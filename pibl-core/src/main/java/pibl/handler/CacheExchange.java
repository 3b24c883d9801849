package pibl.handler;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.concurrent.ScheduledFuture;
import pibl.cache.CacheFill;
import pibl.cache.CacheKey;
import pibl.cache.CachePhase;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The {@link CacheHandler}'s part of one exchange. Which fields hold something follows from the exchange's
 * {@link CachePhase}:
 *
 * <pre>
 * always          exchange, key, clientHeaders (the client's fields, whose validators may turn an answer into a 304)
 * BYPASS          invalidates: an unsafe method, whose 2xx/3xx answer invalidates the key and its Location
 * LOOKUP          parked: the request, while the lookup is on a disk thread or behind another request's fetch
 *                 (with waitTimer bounding the wait)
 * MISS            parked too, for a moment, while the store's disk is far behind (a fill that waits costs less
 *                 than one that could not be stored)
 * MISS, REVALIDATING  fill: what the backend's response becomes; swallowing once it decided to serve a stored
 *                 entry instead (the 304 or error is dropped as it goes by)
 * </pre>
 */
final class CacheExchange {
    final Exchange exchange;
    final CacheKey key;
    final HttpHeaders clientHeaders;
    boolean invalidates;
    CacheFill fill;
    boolean swallowing;
    private FullHttpRequest parked;
    private ScheduledFuture<?> waitTimer;

    CacheExchange(Exchange exchange, CacheKey key, HttpHeaders clientHeaders) {
        this.exchange = exchange;
        this.key = key;
        this.clientHeaders = clientHeaders;
    }

    /**
     * Holds {@code request} until {@code done} completes or {@code timeoutMillis} pass (0: no bound), then runs
     * {@code next} on the channel's executor, if the request is still parked here and the channel still active
     * (if it is not, the request is released).
     */
    void parkUntil(ChannelHandlerContext ctx, FullHttpRequest request, CompletableFuture<?> done, long timeoutMillis,
                   Runnable next) {
        Runnable wake = () -> {
            if (resume(request, ctx.channel().isActive())) {
                next.run();
            }
        };
        park(request, timeoutMillis > 0 ? ctx.executor().schedule(wake, timeoutMillis, TimeUnit.MILLISECONDS) : null);
        done.whenComplete((v, t) -> ctx.executor().execute(wake));
    }

    /** Holds {@code request} until {@link #unpark}; {@code timer} (or null) bounds the wait. */
    void park(FullHttpRequest request, ScheduledFuture<?> timer) {
        parked = request;
        waitTimer = timer;
    }

    /** True, and the request is the caller's again, if it was parked here; false if already taken or abandoned. */
    boolean unpark(FullHttpRequest request) {
        if (parked != request) {
            return false;
        }
        parked = null;
        if (waitTimer != null) {
            waitTimer.cancel(false);
            waitTimer = null;
        }
        return true;
    }

    /**
     * True if {@code request} was parked here and the exchange goes on with it; false if it was already taken or
     * abandoned, or if the channel is gone (the request is then released).
     */
    boolean resume(FullHttpRequest request, boolean channelActive) {
        if (!unpark(request)) {
            return false;
        }
        if (!channelActive) {
            request.release();
        }
        return channelActive;
    }

    /** The exchange is over (the connection closed, or the next request came): release whatever it holds. */
    void abandon() {
        if (fill != null) {
            fill.abort();
            fill = null;
        }
        FullHttpRequest r = parked;
        if (r != null && unpark(r)) {
            r.release();
        }
    }
}
