package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import pibl.testing.LogCapture;
import pibl.testing.NoLeaks;
import pibl.testing.TestClock;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static pibl.cache.StoreFixture.body;
import static pibl.cache.StoreFixture.config;
import static pibl.cache.StoreFixture.files;
import static pibl.cache.StoreFixture.lookup;
import static pibl.cache.StoreFixture.opened;
import static pibl.cache.StoreFixture.store;
import static pibl.cache.StoreFixture.writeChunks;
import static pibl.cache.TestHeaders.T0;
import static pibl.cache.TestHeaders.h;

/** Responses the store must refuse, and disks that fail under it: callers never see an exception. */
@ExtendWith(NoLeaks.class)
class DiskCacheStoreFailureTest {
    private static final CacheKey KEY = CacheKey.of("http", "example.com", "/a");

    @TempDir
    Path dir;
    private final TestClock clock = new TestClock(T0);

    @Test
    void aDeclaredLengthAboveMaxObjectSizeGetsNoWriter() throws Exception {
        try (DiskCacheStore store = opened(config(dir, 1 << 20, 1000, 0), clock)) {
            assertThat(store.begin(KEY, h(), 200, "OK", h("Content-Length: 1001"), T0, T0)).isNull();
            assertThat(store.begin(KEY, h(), 200, "OK", h("Content-Length: 1000"), T0, T0)).isNotNull()
                    .satisfies(CacheWriter::abort);
            assertThat(store.begin(KEY, h(), 200, "OK", h("Content-Length: lots"), T0, T0)).isNull();
        }
    }

    @Test
    void aChunkedBodyGrowingPastMaxObjectSizeAbortsSilently() throws Exception {
        try (DiskCacheStore store = opened(config(dir, 1 << 20, 1000, 1 << 20), clock)) {
            CacheWriter w = store.begin(KEY, h(), 200, "OK", h(), T0, T0);
            writeChunks(w, body(1001, 1), 100);
            assertThat(w.commit().get(5, TimeUnit.SECONDS)).isNull();
            store.settle();
            assertThat(files(dir)).as("the temporary file is gone").isEmpty();
            assertThat(lookup(store, KEY, h())).isNull();
        }
    }

    @Test
    void aLargeStreamedBodyGrowingPastMaxObjectSizeLeavesNoTemporaryFile() throws Exception {
        try (DiskCacheStore store = opened(config(dir, 64L << 20, 1_000_000, 0), clock)) {
            CacheWriter w = store.begin(KEY, h(), 200, "OK", h(), T0, T0);
            writeChunks(w, body(1_000_001, 1), 64 * 1024); // past the gathering limit: streamed, then too large
            assertThat(w.commit().get(5, TimeUnit.SECONDS)).isNull();
            store.settle();
            assertThat(files(dir)).isEmpty();
        }
    }

    @Test
    void aBodyShorterThanItsContentLengthIsNotStored() throws Exception {
        try (DiskCacheStore store = opened(config(dir), clock)) {
            CacheWriter w = store.begin(KEY, h(), 200, "OK", h("Content-Length: 500"), T0, T0);
            writeChunks(w, body(499, 1), 100);
            assertThat(w.commit().get(5, TimeUnit.SECONDS)).as("the backend died mid-body").isNull();
            store.settle();
            assertThat(files(dir)).isEmpty();
        }
    }

    @Test
    void aFileWhereTheDirectoryShouldBeDisablesWritesWithoutThrowing() throws Exception {
        Path notADir = dir.resolve("cache");
        Files.writeString(notADir, "I am a file");
        try (LogCapture log = new LogCapture(DiskCacheStore.class.getName(), org.apache.logging.log4j.Level.WARN)) {
            assertThatCode(() -> {
                try (DiskCacheStore store = opened(config(notADir), clock)) {
                    assertThat(store.begin(KEY, h(), 200, "OK", h(), T0, T0)).as("backing off").isNull();
                    assertThat(lookup(store, KEY, h())).isNull();

                    clock.advance(Duration.ofMillis(DiskHealth.BACKOFF_MILLIS));
                    CacheWriter w = store.begin(KEY, h(), 200, "OK", h(), T0, T0);
                    assertThat(w).as("retried after the back-off").isNotNull();
                    writeChunks(w, body(100, 1), 10);
                    assertThat(w.commit().get(5, TimeUnit.SECONDS)).isNull();
                    assertThat(store.begin(KEY, h(), 200, "OK", h(), T0, T0)).isNull();
                }
            }).doesNotThrowAnyException();
            assertThat(log.messages()).as("one warning, not one per failed write").hasSize(1)
                    .allMatch(m -> m.startsWith("WARN Cache disk failure"));
        }
        assertThat(Files.readString(notADir)).isEqualTo("I am a file");
    }

    @Test
    void aDirectoryThatBreaksLaterMakesWritersAbortAndRecovers() throws Exception {
        try (DiskCacheStore store = opened(config(dir), clock)) {
            Path keyDir = EntryFile.directory(dir, KEY.digest());
            Files.createDirectories(keyDir.getParent());
            Files.deleteIfExists(keyDir);
            Files.writeString(keyDir, "blocks the key's directory");

            CacheWriter w = store.begin(KEY, h(), 200, "OK", h(), T0, T0);
            ByteBuf chunk = Unpooled.copiedBuffer(body(100, 1));
            w.write(chunk);
            w.write(chunk);
            assertThat(chunk.refCnt()).as("the caller still owns its buffer").isEqualTo(1);
            chunk.release();
            assertThat(w.commit().get(5, TimeUnit.SECONDS)).isNull();
            assertThat(store.begin(KEY, h(), 200, "OK", h(), T0, T0)).as("backing off").isNull();

            Files.delete(keyDir);
            clock.advance(Duration.ofMillis(DiskHealth.BACKOFF_MILLIS));
            assertThat(store(store, KEY, h(), h(), body(100, 1), T0)).as("the directory works again").isNotNull();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
            "/a/../../../../../../tmp/x", "http://../../etc/passwd", "/\u0000/..\\..\\x"})
    void noRequestTargetEverBecomesAPath(String target) throws Exception {
        Path cacheDir = dir.resolve("cache");
        try (DiskCacheStore store = opened(config(cacheDir), clock)) {
            CacheKey key = CacheKey.of("http", "../../host", target);
            CacheEntry e = store(store, key, h(), h(), body(10, 1), T0);
            assertThat(e.file().normalize()).startsWith(cacheDir);
            assertThat(cacheDir.relativize(e.file()).toString()).matches("[0-9a-f]/[0-9a-f]{2}/[0-9a-f]{24}");
            assertThat(lookup(store, key, h())).isSameAs(e);
        }
        assertThat(files(dir)).allMatch(name -> name.startsWith("cache/"));
    }
}
