package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import pibl.config.CacheConfig;

/**
 * What becomes of one backend response for the cache: stored, used to refresh a stored entry, or set aside for a
 * stored entry that may stand in for it. The one place a response is turned into cache state, for a client's
 * miss or revalidation (the response streams on to the client) and for a background refresh (it goes nowhere
 * else) alike. Holds the key's {@link MissLock} lease, if it leads, and releases it exactly once.
 *
 * <pre>
 * onHead(200, storable)           → FORWARD, body teed into a CacheWriter by onContent, committed by onEnd
 * onHead(200, not storable)       → FORWARD, the key remembered as pass-through (hit-for-miss)
 * onHead(200, above max-object-size, declared or found while streaming) → FORWARD, pass-through too: the next
 *                                   request's Range goes to the backend instead of fetching the whole again
 * onHead(304) for a stored entry  → SERVE_REFRESHED: headers merged (RFC 9111 4.3.4), {@link #toServe()} is the
 *                                   refreshed entry, the 304 itself goes nowhere
 * onHead(502) and the stored entry may serve on error → SERVE_STALE: {@link #toServe()} is the stored entry
 * onHead(200) to HEAD, a GET stored → FORWARD; the stored GET refreshed by it, or removed if it no longer matches
 * </pre>
 *
 * Used by one thread at a time (the exchange's event loop).
 */
public final class CacheFill {
    /** What to do with the response whose head {@link #onHead} just saw. */
    public enum Outcome {
        /** Send it on (to the client, or nowhere for a background refresh); {@link #onContent} tees its body. */
        FORWARD,
        /** The backend confirmed the stored entry: serve {@link #toServe()}, drop the 304. */
        SERVE_REFRESHED,
        /** The backend failed: serve the stored {@link #toServe()} instead, drop the error. */
        SERVE_STALE
    }

    private final HttpCache cache;
    private final CacheKey key;
    private final CacheConfig rules;
    private final HttpMethod method;
    private final HttpHeaders requestHeaders;
    private final long requestTime;
    private CacheEntry stored;
    private MissLock.Lease lease;
    private CacheWriter writer;
    /** Body bytes given to {@link #writer}. */
    private long received;

    /**
     * @param rules          the settings of the key's route ({@code cache:} with its changes): whether a response
     *                       without freshness of its own is storable depends on its TTL
     * @param requestHeaders the request's fields that select a Vary variant and decide storability
     * @param lease          the key's miss-lock lease, or null when this fill does not lead
     * @param stored         the stored entry being revalidated or that may stand in on error, or null
     */
    public CacheFill(HttpCache cache, CacheKey key, CacheConfig rules, HttpMethod method, HttpHeaders requestHeaders,
                     MissLock.Lease lease, CacheEntry stored) {
        this.cache = cache;
        this.key = key;
        this.rules = rules;
        this.method = method;
        this.requestHeaders = requestHeaders;
        this.lease = lease;
        this.stored = stored;
        this.requestTime = cache.now();
    }

    /** The backend's final response head, before it goes anywhere. */
    public Outcome onHead(HttpResponse head) {
        long now = cache.now();
        int code = head.status().code();
        if (stored != null && code == 304 && stored.hasValidators()) {
            stored = refresh(head.headers(), now);
            releaseLease();
            return Outcome.SERVE_REFRESHED;
        }
        if (stored != null && CachePolicy.isErrorForStale(code)
                && CachePolicy.canServeStaleOnError(stored.freshness(), now, rules)) {
            releaseLease();
            return Outcome.SERVE_STALE;
        }
        if (HttpMethod.HEAD.equals(method)) {
            if (stored != null && code == 200) {
                updateFromHead(head.headers(), now);
            }
            releaseLease();
            return Outcome.FORWARD;
        }
        if (CachePolicy.isStorable(method, requestHeaders, code, head.headers(), rules)) {
            if (RangeRequest.contentLength(head.headers()) > rules.maxObjectSize()) {
                cache.markPass(key); // the store would refuse it
            } else {
                writer = cache.store().begin(key, requestHeaders, code, head.status().reasonPhrase(),
                        CachePolicy.storedHeaders(head.headers(), now), requestTime, now);
                cache.clearPass(key);
            }
        } else if (HttpMethod.GET.equals(method) && code < 500 && code != 304) { // a 304 says nothing of storability
            cache.markPass(key);
        }
        if (writer == null) {
            releaseLease(); // waiters need not wait for a body that will not be stored
        }
        return Outcome.FORWARD;
    }

    /** The stored entry with its headers refreshed by {@code fresh} (RFC 9111 3.2); dropped if now unstorable. */
    private CacheEntry refresh(HttpHeaders fresh, long now) {
        HttpHeaders merged = StoredUpdate.updatedHeaders(stored.headers(), fresh, now, rules);
        CacheEntry refreshed = cache.store().refresh(stored, merged, requestTime, now);
        if (!StoredUpdate.isStorableAfterRefresh(merged, rules)) {
            cache.store().remove(refreshed);
        }
        return refreshed;
    }

    /**
     * RFC 9111 4.3.5: a 200 to HEAD speaks of the stored GET response. If it describes the same representation
     * ({@link StoredUpdate#headDescribes}), its fields refresh the entry as a 304 would; if not, the stored response
     * is out of date, and the key is invalidated (the RFC asks at least that it be treated as stale; invalidating
     * also frees the space now). Not {@code remove(stored)}: that removes only the version this exchange looked up,
     * and a header rewrite of an earlier refresh may have given the same response a new version meanwhile, which
     * would then be served on as if the HEAD had not spoken.
     */
    private void updateFromHead(HttpHeaders headResponse, long now) {
        if (StoredUpdate.headDescribes(stored.headers(), stored.bodyLength(), headResponse)) {
            stored = refresh(headResponse, now);
        } else {
            cache.store().invalidate(key);
        }
    }

    /** A part of the forwarded body; the caller keeps ownership of {@code chunk}. */
    public void onContent(ByteBuf chunk) {
        if (writer != null) {
            writer.write(chunk); // past max-object-size it gives up by itself; then the key is pass-through
            long before = received;
            received += chunk.readableBytes();
            if (before <= rules.maxObjectSize() && received > rules.maxObjectSize()) {
                cache.markPass(key);
            }
        }
    }

    /** The forwarded body is complete: commit what was stored; waiters wake once it is in place. */
    public void onEnd() {
        CacheWriter w = writer;
        writer = null;
        if (w == null) {
            releaseLease();
            return;
        }
        MissLock.Lease l = lease;
        lease = null;
        w.commit().whenComplete((entry, error) -> cache.missLock().release(l));
    }

    /** The exchange ended early: nothing is stored, waiters wake at once. Idempotent. */
    public void abort() {
        if (writer != null) {
            writer.abort();
            writer = null;
        }
        releaseLease();
    }

    /** After {@link Outcome#SERVE_REFRESHED} or {@link Outcome#SERVE_STALE}: the entry to serve. */
    public CacheEntry toServe() {
        return stored;
    }

    private void releaseLease() {
        cache.missLock().release(lease);
        lease = null;
    }
}
