package pibl.cache;

import io.netty.buffer.ByteBuf;

import java.util.concurrent.CompletableFuture;

/**
 * Streams one backend response body into the cache while the same bytes go to the client. Used by one thread at
 * a time (the exchange's event loop); never blocks it: disk writes run on the store's disk threads.
 *
 * <pre>
 *   CacheWriter w = store.begin(key, req, 200, "OK", respHeaders, sentAt, receivedAt);   // null: do not cache
 *   for each HttpContent c:  w.write(c.content());  ctx.write(c);    // write() does not take ownership
 *   on LastHttpContent:      w.commit();           // the entry becomes visible once the file is in place
 *   on backend/client error: w.abort();
 * </pre>
 *
 * Every writer must end with {@link #commit()} or {@link #abort()}; a second call, or any call after the writer
 * gave up by itself (object too large, disk failure, disk too far behind), is ignored.
 */
public interface CacheWriter {

    /**
     * Appends a chunk of the body. The caller keeps ownership of {@code chunk} and its reader index; the writer
     * retains what it needs. Past {@code maxObjectSize} (or the declared {@code Content-Length}) the writer aborts
     * itself silently.
     */
    void write(ByteBuf chunk);

    /**
     * Ends the body: the file is completed, checksummed and moved into place, and the entry indexed (replacing the
     * variant the request selected). Completes with the new entry, or with null if nothing was stored (aborted,
     * body shorter than its {@code Content-Length}, disk failure, or the key was invalidated meanwhile); never
     * completes exceptionally. Callbacks run on a disk thread.
     */
    CompletableFuture<CacheEntry> commit();

    /** Gives up: nothing is stored and the temporary file is removed. */
    void abort();
}
