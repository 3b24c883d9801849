package pibl.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.netty.buffer.ByteBuf;

/**
 * What a hit needs without the disk: the decoded headers of the hottest entries (on the heap, bounded by
 * {@code headerBytes}) and the bodies of the hottest small ones (direct memory, bounded by
 * {@code cache.memory-size}, and by count so that their bookkeeping on the heap is bounded too). Both are Caffeine caches (W-TinyLFU) keyed by the entry's digest and checked
 * against its version, so a newer version of a file never meets an older one's headers or body. A removed body
 * is released; an entry that still holds it finds it unusable and goes to the file.
 */
final class HotTier {
    /** A body in memory, for one version of one digest. */
    private record Body(int lo, int version, ByteBuf buf) {
    }

    /** What one body in memory costs the heap besides its bytes: the ByteBuf, its NIO buffer, Cleaner, Caffeine node. */
    static final int HEAP_PER_BODY = 320;

    /** The largest body the memory tier takes, whatever its size. */
    static final int MEMORY_BODY_CAP = 8 << 20;

    /**
     * The largest body kept in a memory tier of {@code memorySize} bytes: 1/32 of it (2 MiB for the default 64 MiB),
     * so the tier always holds at least 32 bodies, and at most {@link #MEMORY_BODY_CAP}. Sending from memory is one
     * copy into the socket; measured on io_uring, a 1 MiB hit costs ~330 us of proxy CPU from memory against ~950 us
     * spliced from its file (epoll's sendfile: ~390 us). Larger bodies are sent from their files.
     */
    static int bodyLimit(long memorySize) {
        return (int) Math.min(MEMORY_BODY_CAP, Math.max(0, memorySize / 32));
    }

    private final Cache<Long, CacheEntry> entries;
    private final Cache<Long, Body> bodies;
    private final int bodyOverhead;

    /**
     * @param headerBytes heap for the hot entries' headers
     * @param memoryBytes {@code cache.memory-size}: direct memory for bodies. Each body also weighs a share of it
     *                    for what it costs the heap, so that the bodies' heap stays under {@code headerBytes} too:
     *                    a tier of tiny bodies holds fewer of them, never more than the heap can carry.
     */
    HotTier(long headerBytes, long memoryBytes) {
        this.bodyOverhead = (int) Math.min(Integer.MAX_VALUE / 2,
                Math.max(HEAP_PER_BODY, memoryBytes * HEAP_PER_BODY / Math.max(1, headerBytes)));
        this.entries = Caffeine.newBuilder()
                .executor(Runnable::run)
                .maximumWeight(Math.max(1, headerBytes))
                .weigher((Long k, CacheEntry e) -> e.heapEstimate())
                .build();
        this.bodies = memoryBytes <= 0 ? null : Caffeine.newBuilder()
                .executor(Runnable::run)
                .maximumWeight(memoryBytes)
                .weigher((Long k, Body b) -> b.buf().readableBytes() + bodyOverhead)
                .removalListener((Long k, Body b, RemovalCause c) -> {
                    if (b != null) {
                        b.buf().release();
                    }
                })
                .build();
    }

    boolean hasMemoryTier() {
        return bodies != null;
    }

    /** The entry of {@code version} of {@code d}, with its body if that is in memory too; null if not hot. */
    CacheEntry get(Digest d, int version) {
        CacheEntry e = entries.getIfPresent(d.hi());
        if (e == null || e.digest().lo() != d.lo() || e.version() != version) {
            return null;
        }
        ByteBuf body = body(d, version);
        if (body != e.memoryBody()) { // the body came or went since: say so once, not on every hit
            e = e.withMemoryBody(body);
            entries.put(d.hi(), e);
        }
        return e;
    }

    /** The body of {@code version} of {@code d} in memory, owned by the tier, or null. */
    ByteBuf body(Digest d, int version) {
        if (bodies == null) {
            return null;
        }
        Body b = bodies.getIfPresent(d.hi());
        return b != null && b.lo() == d.lo() && b.version() == version ? b.buf() : null;
    }

    /** Keeps the entry's headers hot (and its reference to a body the tier owns, if any). */
    void put(CacheEntry e) {
        entries.put(e.digest().hi(), e);
    }

    /** Hands a body to the tier, which owns it from now on (and releases it if it does not keep it). */
    void putBody(Digest d, int version, ByteBuf body) {
        if (bodies == null) {
            body.release();
            return;
        }
        bodies.put(d.hi(), new Body(d.lo(), version, body));
    }

    /** Forgets {@code d} (every version): headers and body. */
    void invalidate(Digest d) {
        CacheEntry e = entries.getIfPresent(d.hi());
        if (e != null && e.digest().lo() == d.lo()) {
            entries.invalidate(d.hi());
        }
        if (bodies != null) {
            Body b = bodies.getIfPresent(d.hi());
            if (b != null && b.lo() == d.lo()) {
                bodies.invalidate(d.hi());
            }
        }
    }

    void clear() {
        entries.invalidateAll();
        if (bodies != null) {
            bodies.invalidateAll();
            bodies.cleanUp();
        }
    }
}
