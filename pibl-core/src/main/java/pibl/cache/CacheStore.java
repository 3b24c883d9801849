package pibl.cache;

import io.netty.handler.codec.http.HttpHeaders;

import java.util.concurrent.CompletableFuture;

/**
 * Stored responses by key and variant. Thread-safe; every method may be called from any event loop and none of
 * them blocks on the disk (except {@link #clear()} and {@link #close()}).
 *
 * <p>The store does not judge cacheability: callers ask {@link CachePolicy} first, then {@link #begin} only for
 * storable responses, and decide reuse with {@link CachePolicy#reuse} on what {@link #lookup} returns.
 */
public interface CacheStore extends AutoCloseable {

    /**
     * The newest stored variant whose {@code Vary} values match the request, or null. In memory only, never
     * touches the disk. The entry may be stale: deciding what to do with it is {@link CachePolicy}'s job.
     */
    CacheEntry lookup(CacheKey key, HttpHeaders requestHeaders);

    /**
     * Starts storing a response whose headers have just arrived, or returns null if the store will not take it
     * (disabled, {@code Content-Length} above {@code maxObjectSize}, the disk recently failed, closed).
     * Hop-by-hop fields are dropped, a missing {@code Date} is added, and {@code Content-Length} is set to the
     * stored body's length.
     *
     * @param requestTime  when the request was sent to the backend, epoch millis
     * @param responseTime when the response headers were received, epoch millis
     */
    CacheWriter begin(CacheKey key, HttpHeaders requestHeaders, int status, String reason,
                      HttpHeaders responseHeaders, long requestTime, long responseTime);

    /**
     * Refreshes an entry after the backend answered its revalidation with 304 (RFC 9111 4.3.4): headers merged per
     * {@link CachePolicy#updatedHeaders}, times and freshness renewed, same body. The returned future completes at
     * once with the refreshed entry, which serves the current request; the index holds it unless the 304 made the
     * response unstorable ({@code no-store}, {@code private}), in which case the variant is removed. The file's
     * header is rewritten afterwards on a disk thread.
     */
    CompletableFuture<CacheEntry> updateHeaders(CacheEntry entry, HttpHeaders notModifiedHeaders, long requestTime,
                                                long responseTime);

    /** Removes every variant of the key; files are deleted on a disk thread. Writers begun earlier store nothing. */
    void invalidate(CacheKey key);

    /** Removes every entry and every entry file (used for {@code --clear-cache} and tests). */
    void clear();

    /** Stored variants. */
    long entryCount();

    /** Bytes of the stored variants' files. */
    long bytes();

    /** Waits for pending disk work, stops the disk threads, releases memory bodies. Files stay for the next start. */
    @Override
    void close();
}
