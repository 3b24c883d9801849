package pibl.cache;

import io.netty.handler.codec.http.HttpHeaders;

import java.util.concurrent.CompletableFuture;

/**
 * Stored responses by key and variant: the mechanism, no policy. Thread-safe; every method may be called from any
 * event loop and none of them blocks on the disk (but {@link #clear()} and {@link #close()}).
 *
 * <p>The store does not judge cacheability: callers ask {@link CachePolicy} first ({@code isStorable},
 * {@code storedHeaders}) and {@link StoredUpdate} ({@code updatedHeaders}, {@code isStorableAfterRefresh}), then call {@link #begin} only for
 * storable responses, and decide reuse with {@link CachePolicy#reuse} on what {@link #lookup} returns. The store
 * refuses only what it cannot hold (too large, a failing disk, closed).
 */
public interface CacheStore extends AutoCloseable {

    /**
     * The newest stored variant whose {@code Vary} values match the request, or null. The future is complete at
     * once when memory can answer; otherwise it completes on a store thread. It never completes exceptionally.
     * The entry may be stale: deciding what to do with it is {@link CachePolicy}'s job.
     */
    CompletableFuture<CacheEntry> lookup(CacheKey key, HttpHeaders requestHeaders);

    /**
     * Starts storing a response whose headers have just arrived, or returns null if the store cannot take it
     * (its {@code Content-Length} is above {@code maxObjectSize}, the disk recently failed, closed).
     *
     * @param storedHeaders what to store, from {@link CachePolicy#storedHeaders}, made for this write: the store
     *                      keeps them (the caller must not touch them afterwards) and sets {@code Content-Length}
     *                      to the stored body's length
     * @param requestTime   when the request was sent to the backend, epoch millis
     * @param responseTime  when the response headers were received, epoch millis
     */
    CacheWriter begin(CacheKey key, HttpHeaders requestHeaders, int status, String reason, HttpHeaders storedHeaders,
                      long requestTime, long responseTime);

    /**
     * Replaces a stored entry's headers after the backend answered its revalidation with 304 (RFC 9111 4.3.4):
     * {@code mergedHeaders} from {@link CachePolicy#updatedHeaders}, times and freshness renewed, same body.
     * Returns the refreshed entry at once (it serves the current request); the index holds it from now on, and
     * the entry file's header is rewritten afterwards on a disk thread.
     */
    CacheEntry refresh(CacheEntry entry, HttpHeaders mergedHeaders, long requestTime, long responseTime);

    /** Removes one stored variant (a 304 made it unstorable); its file is deleted on a disk thread. */
    void remove(CacheEntry entry);

    /**
     * Removes every variant of the key; files are deleted on a disk thread. Writers begun earlier store nothing.
     *
     * @return whether the key was indexed (an entry, or the marker of its variants); false also for a key whose
     * file the index is still loading, which goes all the same
     */
    boolean invalidate(CacheKey key);

    /**
     * Removes every stored response {@code ban} matches (by key prefix or by tag), and, for a prefix, the Vary
     * markers of the keys it matches. In force at once: a lookup never returns a response received before the ban
     * that it matches, and a writer begun before it that it matches stores nothing. Completes, when every entry
     * has been looked at, with how many stored responses went; never exceptionally.
     */
    CompletableFuture<Long> purge(Ban ban);

    /** Removes every entry and every entry file (used for {@code --clear-cache} and tests). */
    void clear();

    /** Stored variants. */
    long entryCount();

    /** Bytes of the stored variants' files. */
    long bytes();

    /**
     * Where the store's index stands: still being rebuilt from the directory, how many files the rebuild has
     * looked at, how many slots are in use of how many; and since start, how many responses were stored and how
     * many entries the index evicted to make room (at {@code max-entries} or {@code max-size}).
     */
    record StoreStatus(boolean loading, long scanned, long slots, long maxSlots, long stored, long evicted) {
    }

    /**
     * Completes when the store can take a new response without falling further behind its disk: at once, unless
     * its writes are queued up. A miss may wait for it (bounded) before it is forwarded; a hit never does.
     */
    default CompletableFuture<Void> whenWritable() {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Starts what the store does in the background (a disk store rebuilds its index from its directory). The
     * proxy calls it once it listens, so that a large cache never delays the port. Idempotent.
     */
    default void startLoading() {
    }

    /**
     * From now on, a key's stored responses are given their freshness (on storing, refreshing, and reading them
     * back from disk) by {@code rules}; before, by the store's own configuration. A store that computes no
     * freshness of its own ignores it.
     */
    default void rules(CacheRules rules) {
    }

    /** Where the index stands; a store without one is always loaded. */
    default StoreStatus status() {
        return new StoreStatus(false, 0, entryCount(), entryCount(), 0, 0);
    }

    /** Waits for pending disk work, stops the disk threads, releases memory bodies. Files stay for the next start. */
    @Override
    void close();
}
