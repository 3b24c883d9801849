package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaders;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32C;

/**
 * A {@link DiskCacheStore}'s lookups: from memory when the index and the {@link HotTier} can answer (the future is
 * complete at once, no thread hop), else on the key's disk thread: the index again, the key's own file while the
 * index is still loading, the Vary marker's variant, and the entry's file, whose body checksum is verified on this
 * first read (and the body kept in memory when small).
 */
final class DiskLookup {
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);
    private static final CompletableFuture<CacheEntry> NONE = CompletableFuture.completedFuture(null);

    private final DiskCacheStore store;

    DiskLookup(DiskCacheStore store) {
        this.store = store;
    }

    CompletableFuture<CacheEntry> lookup(CacheKey key, HttpHeaders requestHeaders) {
        Digest primary = key.digest();
        CacheIndex.Slot slot = store.index().get(primary);
        if (slot == null) {
            return store.loader().done() ? NONE : onDisk(key, requestHeaders);
        }
        if (slot.isMarker()) {
            Digest variant = variant(key, slot, requestHeaders);
            slot = variant == null ? null : store.index().get(variant);
            if (slot == null) {
                return variant == null || store.loader().done() ? NONE : onDisk(key, requestHeaders);
            }
        }
        CacheEntry e = store.hot().get(slot.digest(), slot.version());
        if (e != null && e.key().equals(key.text()) && Vary.matches(e.varyValues(), requestHeaders)) {
            return CompletableFuture.completedFuture(e);
        }
        return onDisk(key, requestHeaders);
    }

    private Digest variant(CacheKey key, CacheIndex.Slot marker, HttpHeaders requestHeaders) {
        List<String> names = store.varyNames().names(marker.aux());
        return names == null ? null : EntryFile.variantDigest(key.digest(), key.text(), marker.version(),
                Vary.values(names, requestHeaders));
    }

    /** The lookup, finished on the key's disk thread: the index again, then the files. */
    private CompletableFuture<CacheEntry> onDisk(CacheKey key, HttpHeaders requestHeaders) {
        CompletableFuture<CacheEntry> found = new CompletableFuture<>();
        store.disk().of(key.digest()).execute(() -> {
            CacheEntry e = null;
            try {
                e = resolve(key, requestHeaders);
            } finally {
                found.complete(e);
            }
        });
        return found;
    }

    /** On the key's disk thread: what {@link #lookup} could not answer from memory. */
    private CacheEntry resolve(CacheKey key, HttpHeaders requestHeaders) {
        CacheIndex.Slot slot = store.index().get(key.digest());
        if (slot == null && !store.loader().done()) {
            slot = store.loader().load(key.digest()); // not indexed yet: the key's own file
        }
        if (slot != null && slot.isMarker()) {
            Digest variant = variant(key, slot, requestHeaders);
            slot = variant == null ? null : store.index().get(variant);
            if (slot == null && variant != null && !store.loader().done()) {
                slot = store.loader().load(variant);
            }
        }
        if (slot == null || slot.isMarker()) {
            return null;
        }
        CacheEntry hotEntry = store.hot().get(slot.digest(), slot.version());
        CacheEntry e = hotEntry != null ? hotEntry : read(slot);
        return e != null && e.key().equals(key.text()) && Vary.matches(e.varyValues(), requestHeaders) ? e : null;
    }

    /**
     * On the digest's disk thread: the entry of an indexed response, from its file, its body checksum verified on
     * this first read (and the body kept in memory when small). Null, and the file removed, if it is truncated,
     * corrupt, or not the version the index holds.
     */
    private CacheEntry read(CacheIndex.Slot slot) {
        Path file = EntryFile.path(store.directory(), slot.digest());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            int first = (int) Math.min(size, size <= DiskCacheStore.ONE_READ ? DiskCacheStore.ONE_READ : 4096);
            ByteBuf buf = Unpooled.directBuffer(first);
            try {
                ByteBuffer nio = buf.nioBuffer(0, first);
                EntryFile.readFully(ch, nio, 0);
                nio.flip();
                EntryFile.Header h = EntryFile.read(ch, nio.duplicate(), size);
                if (h.kind() != EntryFile.RESPONSE || h.version() != slot.version()) {
                    return null; // replaced since the index was read: the next lookup finds the new one
                }
                ByteBuf body = null;
                boolean verified = slot.verified();
                if (h.bodyLength() <= store.memoryBodyLimit()) {
                    ByteBuf read = buf;
                    buf = null;
                    body = memoryBody(ch, read, h, first);
                    verified = crc(body) == h.bodyCrc();
                } else if (!verified) {
                    verified = EntryFile.bodyCrc(ch, h.regionLength(), h.bodyLength()) == h.bodyCrc();
                }
                if (!verified) {
                    if (body != null) {
                        body.release();
                    }
                    throw new EntryFile.CorruptEntryException("body checksum mismatch");
                }
                store.index().addFlags(slot.digest(), slot.version(), CacheIndex.VERIFIED);
                CacheEntry e = store.newEntry(h.meta(), slot.digest(), h.version(), file, h.regionLength(), h.bodyLength(),
                        h.bodyCrc(), body);
                if (body != null) {
                    store.hot().putBody(slot.digest(), slot.version(), body);
                }
                store.hot().put(e);
                return e;
            } finally {
                if (buf != null) {
                    buf.release();
                }
            }
        } catch (NoSuchFileException gone) {
            store.index().remove(slot.digest(), slot.version());
        } catch (EntryFile.CorruptEntryException corrupt) {
            LOG.warn("Removing cache file {}: {}", file, corrupt.getMessage());
            store.index().remove(slot.digest(), slot.version());
            DiskCacheStore.deleteQuietly(file);
        } catch (IOException e) {
            LOG.debug("Could not read {}: {}", file, e.toString());
        }
        return null;
    }

    /** The body as a direct buffer of its own: sliced out of what was read already, the rest read now. */
    private static ByteBuf memoryBody(FileChannel ch, ByteBuf read, EntryFile.Header h, int have) throws IOException {
        int length = (int) h.bodyLength();
        int inRead = Math.max(0, Math.min(length, have - h.regionLength()));
        ByteBuf body = Unpooled.directBuffer(Math.max(1, length));
        try {
            body.writeBytes(read, h.regionLength(), inRead);
            if (inRead < length) {
                ByteBuffer rest = body.nioBuffer(inRead, length - inRead);
                EntryFile.readFully(ch, rest, h.regionLength() + (long) inRead);
                body.writerIndex(length);
            }
            return body;
        } catch (IOException | RuntimeException e) {
            body.release();
            throw e;
        } finally {
            read.release();
        }
    }

    private static int crc(ByteBuf body) {
        CRC32C crc = new CRC32C();
        crc.update(body.nioBuffer());
        return (int) crc.getValue();
    }

}
