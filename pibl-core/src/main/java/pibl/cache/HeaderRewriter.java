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

/** Persists headers refreshed by a 304 into the entry file of a {@link DiskCacheStore}, on a disk thread. */
final class HeaderRewriter {
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);

    private final DiskCacheStore store;

    HeaderRewriter(DiskCacheStore store) {
        this.store = store;
    }

    /**
     * Writes the indexed entry's current header into its file: in place when it fits the region (the body is not
     * touched, so concurrent readers are unaffected; a crash mid-write fails the header checksum at the next
     * start), otherwise into a new version of the file with the body copied by {@code transferTo}.
     */
    void rewrite(String key, Path file) {
        CacheEntry current = store.index().indexed(key, file);
        if (current == null) {
            return;
        }
        try {
            byte[] region = EntryFile.encode(DiskCacheStore.meta(current), (int) current.bodyOffset());
            if (region != null) {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    EntryFile.writeFully(ch, ByteBuffer.wrap(EntryFile.seal(region, current.bodyLength(),
                            current.bodyCrc())), 0);
                }
                return;
            }
            moveToLargerRegion(current);
        } catch (NoSuchFileException gone) {
            LOG.debug("Entry file vanished before its header was rewritten: {}", file);
        } catch (IOException e) {
            store.health().failed("rewriting the header of " + file, e);
        }
    }

    private void moveToLargerRegion(CacheEntry current) throws IOException {
        long version = store.nextVersion();
        Path tmp = EntryFile.tmpPath(store.directory(), current.variantHash(), version);
        Path target = EntryFile.path(store.directory(), current.variantHash(), version);
        byte[] region = EntryFile.encode(DiskCacheStore.meta(current), 0);
        if (region == null) {
            return;
        }
        Files.createDirectories(tmp.getParent());
        try (FileChannel src = FileChannel.open(current.file(), StandardOpenOption.READ);
             FileChannel dst = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
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
        Files.createDirectories(target.getParent());
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        CacheEntry moved = current.movedTo(target, version, region.length);
        if (!store.index().replaceIfCurrent(current, moved)) {
            DiskCacheStore.deleteQuietly(target);
        }
    }
}
