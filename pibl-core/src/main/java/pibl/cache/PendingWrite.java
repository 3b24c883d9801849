package pibl.cache;

import io.netty.handler.codec.http.HttpHeaders;

import java.nio.file.Path;

/**
 * What the store needs to write and index one entry ({@link DiskWrites#begin}): {@code meta} has everything but
 * the headers, which are {@code storedHeaders} (final once the body is); {@code marker} is the Vary marker to write
 * first, or null; {@code began} the invalidation epoch the writer began at.
 */
record PendingWrite(CacheKey key, Digest primary, Digest digest, int version, EntryFile.Meta meta,
                    HttpHeaders storedHeaders, EntryFile.Marker marker, int varyId, Path tmp, Path target,
                    long began) {
}
