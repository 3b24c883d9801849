package pibl.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-memory side of a {@link DiskCacheStore}: key text to {@link Variants} in a Caffeine cache weighed by file
 * size in KiB against {@code maxSize}, expiring each key at the latest {@link CacheEntry#keepUntil()} of its
 * variants (read from the injected clock), and a second Caffeine cache of small bodies bounded by
 * {@code memorySize}. Removal of a key, whatever the cause, deletes the files of its variants that the index no
 * longer references, on the given (disk) executor; removal of a memory body releases it.
 *
 * <p>Invalidation versus in-flight writers: {@link #invalidate} and {@link #clear} advance an epoch, and
 * {@link #install} refuses an entry whose writer began before the key's last invalidation, inside the same atomic
 * {@code compute} that would insert it.
 */
final class CacheIndex {
    private static final long MAX_EXPIRY_NANOS = TimeUnit.DAYS.toNanos(365);

    private final Clock clock;
    private final Cache<String, Variants> index;
    private final Cache<Path, ByteBuf> memory;
    private final Cache<String, Long> invalidatedAt;
    private final AtomicLong epoch = new AtomicLong();
    private final Executor disk;
    private volatile long clearedAt;
    private volatile boolean closed;

    CacheIndex(long maxSizeBytes, long memorySizeBytes, Clock clock, Executor executor) {
        this.clock = clock;
        this.disk = executor;
        // Caffeine's own upkeep (read-buffer drains, expiry) runs on the calling thread: handing it to
        // the disk pool woke a disk thread (an unpark syscall) on a share of cache hits. Only the file
        // deletion in onRemoval goes to the disk executor.
        this.index = Caffeine.newBuilder()
                .executor(Runnable::run)
                .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
                .maximumWeight(Math.max(1, maxSizeBytes / 1024))
                .weigher((String key, Variants v) -> v.weightKiB())
                .expireAfter(new KeepUntil())
                .removalListener(this::onRemoval)
                .build();
        this.memory = memorySizeBytes <= 0 ? null : Caffeine.newBuilder()
                .executor(Runnable::run)
                .maximumWeight(memorySizeBytes)
                .weigher((Path p, ByteBuf b) -> b.readableBytes())
                .removalListener((Path p, ByteBuf b, RemovalCause c) -> {
                    if (b != null) {
                        b.release();
                    }
                })
                .build();
        this.invalidatedAt = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(Duration.ofMinutes(10))
                .build();
    }

    boolean hasMemoryTier() {
        return memory != null;
    }

    /** The epoch a writer records when it begins. */
    long epoch() {
        return epoch.get();
    }

    /** The newest variant matching the request and not past its keep time; null if none. */
    CacheEntry lookup(String key, HttpHeaders requestHeaders) {
        Variants variants = index.getIfPresent(key);
        if (variants == null) {
            return null;
        }
        long now = clock.millis();
        CacheEntry best = null;
        for (CacheEntry e : variants.entries()) {
            if (e.keepUntil() > now && Vary.matches(e.varyValues(), requestHeaders)
                    && (best == null || e.responseTime() > best.responseTime()
                    || (e.responseTime() == best.responseTime() && e.version() > best.version()))) {
                best = e;
            }
        }
        return best;
    }

    /**
     * Adds a committed entry (and its memory body, which the index then owns), unless its key was invalidated or
     * the index cleared since {@code beganAt}. False if refused: the caller deletes the file.
     */
    boolean install(CacheEntry entry, HttpHeaders requestHeaders, long beganAt) {
        ByteBuf memoryBody = entry.memoryBody();
        if (memoryBody != null) {
            memory.put(entry.file(), memoryBody);
        }
        long now = clock.millis();
        boolean[] accepted = {false};
        index.asMap().compute(entry.key(), (k, old) -> {
            Long invalidated = invalidatedAt.getIfPresent(k);
            if (closed || clearedAt > beganAt || (invalidated != null && invalidated > beganAt)) {
                return old;
            }
            accepted[0] = true;
            return Variants.with(old, entry, requestHeaders, now);
        });
        if (!accepted[0] && memoryBody != null) {
            memory.invalidate(entry.file());
        }
        return accepted[0];
    }

    /** Adds an entry found on disk at start. */
    void restore(CacheEntry entry) {
        long now = clock.millis();
        index.asMap().compute(entry.key(), (k, old) -> Variants.with(old, entry, null, now));
    }

    /** Replaces (or with null removes) the variant stored in {@code file}; false if it is no longer indexed. */
    boolean replace(String key, Path file, CacheEntry replacement) {
        boolean[] replaced = {false};
        index.asMap().computeIfPresent(key, (k, old) -> {
            Variants updated = old.replacing(file, replacement);
            if (updated == null) {
                return old;
            }
            replaced[0] = true;
            return updated.entries().isEmpty() ? null : updated;
        });
        return replaced[0];
    }

    /** Points the index at the entry's new file if {@code current} is still what it holds; false otherwise. */
    boolean replaceIfCurrent(CacheEntry current, CacheEntry moved) {
        boolean[] swapped = {false};
        index.asMap().computeIfPresent(current.key(), (k, old) -> {
            Variants updated = old.find(current.file()) == current ? old.replacing(current.file(), moved) : null;
            swapped[0] = updated != null;
            return updated == null ? old : updated;
        });
        return swapped[0];
    }

    /** The variant stored in {@code file} as the index holds it now, or null. */
    CacheEntry indexed(String key, Path file) {
        Variants variants = index.getIfPresent(key);
        return variants == null ? null : variants.find(file);
    }

    void invalidate(String key) {
        invalidatedAt.put(key, epoch.incrementAndGet());
        index.invalidate(key);
    }

    void clear() {
        clearedAt = epoch.incrementAndGet();
        index.invalidateAll();
        cleanUp();
        if (memory != null) {
            memory.invalidateAll();
            memory.cleanUp();
        }
    }

    long entryCount() {
        return index.asMap().values().stream().mapToLong(v -> v.entries().size()).sum();
    }

    long bytes() {
        return index.asMap().values().stream().mapToLong(Variants::bytes).sum();
    }

    void cleanUp() {
        index.cleanUp();
        if (memory != null) {
            memory.cleanUp();
        }
    }

    /** Stops accepting entries; runs pending removals. Files stay. */
    void close() {
        closed = true;
        index.cleanUp();
    }

    /** Releases every memory body (after the executor stopped, so listeners run on this thread). */
    void releaseMemory() {
        if (memory != null) {
            memory.invalidateAll();
            memory.cleanUp();
        }
    }

    private void onRemoval(String key, Variants removed, RemovalCause cause) {
        if (removed == null) {
            return;
        }
        Variants current = index.getIfPresent(key);
        Set<Path> live = new HashSet<>();
        if (current != null) {
            current.entries().forEach(e -> live.add(e.file()));
        }
        for (CacheEntry e : removed.entries()) {
            if (!live.contains(e.file())) {
                if (memory != null) {
                    memory.invalidate(e.file());
                }
                Path file = e.file();
                try {
                    disk.execute(() -> DiskCacheStore.deleteQuietly(file));
                } catch (java.util.concurrent.RejectedExecutionException stopped) {
                    DiskCacheStore.deleteQuietly(file);
                }
            }
        }
    }

    /** Caffeine expiry: each key lives until the latest keep time of its variants. */
    private static final class KeepUntil implements Expiry<String, Variants> {
        @Override
        public long expireAfterCreate(String key, Variants value, long currentTime) {
            long millis = value.keepUntil() - TimeUnit.NANOSECONDS.toMillis(currentTime);
            if (millis <= 0) {
                return 0;
            }
            return millis >= TimeUnit.NANOSECONDS.toMillis(MAX_EXPIRY_NANOS)
                    ? MAX_EXPIRY_NANOS : TimeUnit.MILLISECONDS.toNanos(millis);
        }

        @Override
        public long expireAfterUpdate(String key, Variants value, long currentTime, long currentDuration) {
            return expireAfterCreate(key, value, currentTime);
        }

        @Override
        public long expireAfterRead(String key, Variants value, long currentTime, long currentDuration) {
            return currentDuration;
        }
    }
}
