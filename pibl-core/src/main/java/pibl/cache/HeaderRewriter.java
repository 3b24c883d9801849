package pibl.cache;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Persists headers refreshed by a 304 into the entry's file, on the key's disk thread (where every write, rename
 * and deletion of that file happens, so nothing can change it in between).
 */
final class HeaderRewriter {
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);

    private final DiskCacheStore store;

    HeaderRewriter(DiskCacheStore store) {
        this.store = store;
    }

    /**
     * Writes {@code refreshed}'s header into its file if the index still holds that version: in place when it fits
     * the region (the body is not touched, so concurrent readers are unaffected; a crash mid-write fails the header
     * checksum at the next start and the file is removed), otherwise as a new version of the file, the body copied
     * by {@code transferTo}, renamed over the old one.
     */
    void rewrite(CacheEntry refreshed) {
        CacheIndex.Slot slot = store.index().peek(refreshed.digest());
        if (slot == null || slot.version() != refreshed.version()) {
            return; // replaced or removed since: nothing to rewrite
        }
        Path file = refreshed.file();
        try {
            byte[] region = EntryFile.encode(meta(refreshed), refreshed.version(), (int) refreshed.bodyOffset());
            if (region != null) {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    EntryFile.writeFully(ch, ByteBuffer.wrap(EntryFile.seal(region, refreshed.bodyLength(),
                            refreshed.bodyCrc())), 0);
                }
                return;
            }
            rewriteLarger(refreshed, slot);
        } catch (NoSuchFileException gone) {
            LOG.debug("Entry file vanished before its header was rewritten: {}", file);
        } catch (IOException e) {
            store.health().failed("rewriting the header of " + file, e);
        }
    }

    private void rewriteLarger(CacheEntry current, CacheIndex.Slot slot) throws IOException {
        int version = store.nextVersion();
        Path tmp = EntryFile.tmpPath(store.directory(), current.digest(), store.run(), version);
        byte[] region = EntryFile.encode(meta(current), version, 0);
        if (region == null) {
            return;
        }
        try (FileChannel src = FileChannel.open(current.file(), StandardOpenOption.READ);
             FileChannel dst = EntryFile.create(tmp)) {
            EntryFile.writeFully(dst, ByteBuffer.wrap(EntryFile.seal(region, current.bodyLength(),
                    current.bodyCrc())), 0);
            dst.position(region.length);
            long done = 0;
            while (done < current.bodyLength()) {
                done += src.transferTo(current.bodyOffset() + done, current.bodyLength() - done, dst);
            }
        } catch (IOException e) {
            DiskCacheStore.deleteQuietly(tmp);
            throw e;
        }
        Files.move(tmp, current.file(), StandardCopyOption.ATOMIC_MOVE);
        int kib = (int) Math.min(Integer.MAX_VALUE, CacheIndex.blocksKiB(region.length + current.bodyLength()));
        if (store.index().update(current.digest(), current.version(), version, kib, slot.keepUntil(), 0)) {
            store.hot().invalidate(current.digest());
            store.hot().put(current.rewritten(version, region.length));
        }
    }

    static EntryFile.Meta meta(CacheEntry e) {
        return new EntryFile.Meta(e.key(), e.status(), e.reason(), e.requestTime(), e.responseTime(),
                e.headers().entries(), e.varyValues(), e.generation());
    }
}
