package pibl.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * When each key was last invalidated, as an epoch, so that nothing begun before (a writer streaming the old
 * response, the loader or a lookup reading the old file) can put the key back into the index afterwards. Bounded:
 * keys are remembered for {@link #REMEMBER} at most and {@link #MAX_KEYS} of them; when one is forgotten (for room
 * or age), its epoch becomes a floor that every earlier beginning fails, so forgetting never lets stale content in
 * (it can only refuse a little more than needed).
 */
final class Invalidations {
    static final int MAX_KEYS = 16_384;
    static final Duration REMEMBER = Duration.ofMinutes(10);

    private final AtomicLong epoch = new AtomicLong();
    private final AtomicLong floor = new AtomicLong();
    private final Cache<Long, Long> invalidatedAt;

    Invalidations() {
        invalidatedAt = Caffeine.newBuilder()
                .executor(Runnable::run)
                .maximumSize(MAX_KEYS)
                .expireAfterWrite(REMEMBER)
                .removalListener((Long k, Long at, RemovalCause cause) -> {
                    if (cause.wasEvicted() && at != null) { // forgotten for room or age: a floor instead
                        floor.accumulateAndGet(at, Math::max);
                    }
                })
                .build();
    }

    /** The epoch a writer, a load or a lookup records when it begins. */
    long now() {
        return epoch.get();
    }

    /** {@code key} is invalidated now. */
    void invalidate(Digest key) {
        invalidatedAt.put(key.hi(), epoch.incrementAndGet());
    }

    /** Everything is invalidated now ({@code clear()}). */
    void invalidateAll() {
        floor.accumulateAndGet(epoch.incrementAndGet(), Math::max);
    }

    /** Whether something begun at {@code began} for {@code key} may still enter the index. */
    boolean admits(Digest key, long began) {
        if (floor.get() > began) {
            return false;
        }
        Long at = invalidatedAt.getIfPresent(key.hi());
        return at == null || at <= began;
    }
}
