package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import pibl.config.CacheConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link CacheStore} in memory, for tests of what sits on top of the store contract (the cache segment): bodies
 * in buffers the store owns, variants by their Vary values, commits visible at once. With {@link #holdLookups()}
 * lookups stay pending until {@link #releaseLookups()}, as a disk lookup would. Not thread-safe: one test thread.
 */
public final class MemoryCacheStore implements CacheStore {
    private final CacheConfig config;
    private final Map<String, List<CacheEntry>> entries = new HashMap<>();
    private final List<Runnable> heldLookups = new ArrayList<>();
    private boolean hold;
    private int versions;
    private int begun;

    public MemoryCacheStore(CacheConfig config) {
        this.config = config;
    }

    /** From now on, lookups complete only when {@link #releaseLookups()} is called. */
    public MemoryCacheStore holdLookups() {
        hold = true;
        return this;
    }

    /** Completes the held lookups, with what the store holds now. */
    public void releaseLookups() {
        hold = false;
        List<Runnable> pending = new ArrayList<>(heldLookups);
        heldLookups.clear();
        pending.forEach(Runnable::run);
    }

    private CompletableFuture<Void> writable = CompletableFuture.completedFuture(null);

    /** From now on the store says its disk is behind, until {@link #caughtUp()}. */
    public void behind() {
        writable = new CompletableFuture<>();
    }

    public void caughtUp() {
        writable.complete(null);
    }

    @Override
    public CompletableFuture<Void> whenWritable() {
        return writable;
    }

    /** Writers begun so far: how many responses the cache tried to store. */
    public int begun() {
        return begun;
    }

    @Override
    public CompletableFuture<CacheEntry> lookup(CacheKey key, HttpHeaders requestHeaders) {
        if (!hold) {
            return CompletableFuture.completedFuture(find(key, requestHeaders));
        }
        CompletableFuture<CacheEntry> later = new CompletableFuture<>();
        heldLookups.add(() -> later.complete(find(key, requestHeaders)));
        return later;
    }

    private CacheEntry find(CacheKey key, HttpHeaders requestHeaders) {
        CacheEntry best = null;
        for (CacheEntry e : entries.getOrDefault(key.text(), List.of())) {
            if (Vary.matches(e.varyValues(), requestHeaders) && (best == null || e.version() > best.version())) {
                best = e;
            }
        }
        return best;
    }

    @Override
    public CacheWriter begin(CacheKey key, HttpHeaders requestHeaders, int status, String reason,
                             HttpHeaders storedHeaders, long requestTime, long responseTime) {
        begun++;
        HttpHeaders headers = new DefaultHttpHeaders().add(storedHeaders);
        Map<String, String> vary = Vary.values(Vary.names(headers), requestHeaders);
        ByteBuf body = Unpooled.directBuffer();
        return new CacheWriter() {
            private boolean closed;

            @Override
            public void write(ByteBuf chunk) {
                if (!closed) {
                    body.writeBytes(chunk, chunk.readerIndex(), chunk.readableBytes());
                }
            }

            @Override
            public CompletableFuture<CacheEntry> commit() {
                if (closed) {
                    return CompletableFuture.completedFuture(null);
                }
                closed = true;
                headers.set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
                CacheEntry e = entry(key, vary, status, reason, headers, requestTime, responseTime, body);
                List<CacheEntry> list = entries.computeIfAbsent(key.text(), k -> new ArrayList<>());
                list.removeIf(old -> old.varyValues().equals(vary) && release(old));
                list.add(e);
                return CompletableFuture.completedFuture(e);
            }

            @Override
            public void abort() {
                if (!closed) {
                    closed = true;
                    body.release();
                }
            }
        };
    }

    private CacheEntry entry(CacheKey key, Map<String, String> vary, int status, String reason, HttpHeaders headers,
                             long requestTime, long responseTime, ByteBuf body) {
        Freshness f = CachePolicy.freshness(headers, requestTime, responseTime, config);
        return new CacheEntry(key.text(), key.digest(), ++versions, status, reason, headers, vary, requestTime,
                responseTime, body.readableBytes(), 0, null, 0, body, f, Long.MAX_VALUE, 0);
    }

    @Override
    public CacheEntry refresh(CacheEntry entry, HttpHeaders mergedHeaders, long requestTime, long responseTime) {
        Freshness f = CachePolicy.freshness(mergedHeaders, requestTime, responseTime, config);
        CacheEntry refreshed = entry.refreshed(mergedHeaders, requestTime, responseTime, f, Long.MAX_VALUE);
        List<CacheEntry> list = entries.get(entry.key());
        if (list != null && list.remove(entry)) {
            list.add(refreshed); // same body buffer, still owned by the store
        }
        return refreshed;
    }

    @Override
    public void remove(CacheEntry entry) {
        List<CacheEntry> list = entries.get(entry.key());
        if (list != null) {
            list.removeIf(e -> e.version() == entry.version() && release(e));
        }
    }

    @Override
    public boolean invalidate(CacheKey key) {
        List<CacheEntry> gone = entries.remove(key.text());
        if (gone != null) {
            gone.forEach(MemoryCacheStore::release);
        }
        return gone != null;
    }

    @Override
    public CompletableFuture<Long> purge(Ban ban) {
        long gone = 0;
        for (List<CacheEntry> variants : entries.values()) {
            for (var it = variants.iterator(); it.hasNext(); ) {
                CacheEntry e = it.next();
                if (ban.matches(e.key(), e.headers())) {
                    it.remove();
                    release(e);
                    gone++;
                }
            }
        }
        entries.values().removeIf(List::isEmpty);
        return CompletableFuture.completedFuture(gone);
    }

    @Override
    public void clear() {
        entries.values().forEach(list -> list.forEach(MemoryCacheStore::release));
        entries.clear();
    }

    @Override
    public long entryCount() {
        return entries.values().stream().mapToLong(List::size).sum();
    }

    @Override
    public long bytes() {
        return entries.values().stream().flatMap(List::stream).mapToLong(CacheEntry::bodyLength).sum();
    }

    @Override
    public void close() {
        clear();
    }

    private static boolean release(CacheEntry e) {
        e.memoryBody().release();
        return true;
    }
}
