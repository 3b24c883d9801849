package pibl.cache;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Where one exchange stands with the cache, in the manner of Pingora's {@code CachePhase}. Every exchange starts
 * in {@link #UNINIT}; the legal moves are the table below, the only place they are written, and
 * {@link #moveTo} refuses any other (the exchange's state is then a bug, and failing loudly beats serving the
 * wrong thing).
 *
 * <pre>
 * UNINIT       → BYPASS        the cache is not consulted (unsafe method, preconditions, PURGE)
 * UNINIT       → LOOKUP        GET or HEAD: looking the key up
 * LOOKUP       → LOOKUP        woken after another request's fetch of the key: look again
 * LOOKUP       → HIT           fresh stored response served
 * LOOKUP       → STALE         stale stored response served (the client's max-stale)
 * LOOKUP       → STALE_UPDATING stale served while a background refresh fetches a new one (stale-while-revalidate)
 * LOOKUP       → REVALIDATING  stale with validators: a conditional request went to the backend
 * LOOKUP       → MISS          nothing usable stored: the backend's response is forwarded (and maybe stored)
 * REVALIDATING → REVALIDATED   the backend said 304: the stored response, refreshed, is served
 * REVALIDATING → MISS          the backend sent a new response: forwarded (and maybe stored)
 * REVALIDATING → STALE         the backend failed and the stored response may stand in (stale-if-error)
 * MISS         → STALE         the backend failed and an expired stored response may stand in (stale-if-error)
 * </pre>
 *
 * HIT, STALE, STALE_UPDATING, REVALIDATED and BYPASS are final; so is MISS once its response is on its way.
 */
public enum CachePhase {
    /** The cache has not looked at the exchange (yet): PIBL's own refusals stay here. */
    UNINIT(null),
    /** Not consulted: X-Cache BYPASS. */
    BYPASS(CacheStatus.BYPASS),
    /** Looking the key up (possibly on a disk thread, possibly waiting behind another request's fetch). */
    LOOKUP(null),
    /** A fresh stored response was served. */
    HIT(CacheStatus.HIT),
    /** The backend's response is forwarded, and stored if it may be. */
    MISS(CacheStatus.MISS),
    /** A stale stored response was served. */
    STALE(CacheStatus.STALE),
    /** A stale stored response was served and a background refresh started. */
    STALE_UPDATING(CacheStatus.STALE),
    /** A conditional request for a stored response is with the backend. */
    REVALIDATING(CacheStatus.MISS),
    /** The backend confirmed the stored response (304); it was refreshed and served. */
    REVALIDATED(CacheStatus.REVALIDATED);

    private static final Map<CachePhase, Set<CachePhase>> NEXT = new EnumMap<>(CachePhase.class);

    static {
        NEXT.put(UNINIT, Collections.unmodifiableSet(EnumSet.of(BYPASS, LOOKUP)));
        NEXT.put(LOOKUP, Collections.unmodifiableSet(EnumSet.of(LOOKUP, HIT, STALE, STALE_UPDATING, REVALIDATING,
                MISS)));
        NEXT.put(REVALIDATING, Collections.unmodifiableSet(EnumSet.of(REVALIDATED, MISS, STALE)));
        NEXT.put(MISS, Collections.unmodifiableSet(EnumSet.of(STALE)));
        for (CachePhase p : values()) {
            NEXT.putIfAbsent(p, Collections.unmodifiableSet(EnumSet.noneOf(CachePhase.class)));
        }
    }

    private final CacheStatus status;

    CachePhase(CacheStatus status) {
        this.status = status;
    }

    /** What X-Cache and the access log say for an exchange that ends in this phase; null for none. */
    public CacheStatus status() {
        return status;
    }

    /** The phases this one may move to. */
    public Set<CachePhase> next() {
        return NEXT.get(this);
    }

    /** {@code next}, if this phase may move there; otherwise an {@link IllegalStateException}. */
    public CachePhase moveTo(CachePhase next) {
        if (!next().contains(next)) {
            throw new IllegalStateException("cache phase " + this + " cannot move to " + next);
        }
        return next;
    }
}
