package pibl.cache;

import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.testing.NoLeaks;
import pibl.testing.TestClock;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.StoreFixture.body;
import static pibl.cache.StoreFixture.config;
import static pibl.cache.StoreFixture.files;
import static pibl.cache.StoreFixture.lookup;
import static pibl.cache.StoreFixture.opened;
import static pibl.cache.StoreFixture.store;
import static pibl.cache.StoreFixture.writeChunks;
import static pibl.cache.TestHeaders.T0;
import static pibl.cache.TestHeaders.h;

/** Purges by prefix and by tag on a real directory: what goes, what stays, and what cannot slip past. */
@ExtendWith(NoLeaks.class)
class DiskCacheStorePurgeTest {
    @TempDir
    Path dir;
    private final TestClock clock = new TestClock(T0);
    private DiskCacheStore store;

    @BeforeEach
    void open() throws Exception {
        store = opened(config(dir), clock);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static CacheKey key(String scheme, String path) {
        return CacheKey.of(scheme, "shop.example", path);
    }

    private void put(CacheKey key, String... extraHeaders) throws Exception {
        String[] lines = new String[extraHeaders.length + 1];
        lines[0] = "Cache-Control: max-age=600";
        System.arraycopy(extraHeaders, 0, lines, 1, extraHeaders.length);
        assertThat(store(store, key, h(), h(lines), body(100, 1), clock.millis())).isNotNull();
    }

    private boolean found(CacheKey key) throws Exception {
        return lookup(store, key, h()) != null;
    }

    private long purge(Ban ban) throws Exception {
        return store.purge(ban).get(30, TimeUnit.SECONDS);
    }

    @Test
    void aPrefixTakesTheKeysUnderItUnderBothSchemesAndNothingElse() throws Exception {
        put(key("http", "/static/a.css"));
        put(key("https", "/static/b/c.js"));
        put(key("http", "/staticky"));
        put(key("http", "/index.html"));
        put(CacheKey.of("http", "other.example", "/static/a.css"));

        assertThat(purge(Ban.prefix("SHOP.example:80", "/static/"))).isEqualTo(2);
        store.settle();
        assertThat(found(key("http", "/static/a.css"))).isFalse();
        assertThat(found(key("https", "/static/b/c.js"))).isFalse();
        assertThat(found(key("http", "/staticky"))).as("a prefix of the target, not of a word").isTrue();
        assertThat(found(key("http", "/index.html"))).isTrue();
        assertThat(found(CacheKey.of("http", "other.example", "/static/a.css"))).as("another host").isTrue();
        assertThat(store.entryCount()).isEqualTo(3);
        assertThat(files(dir)).hasSize(3);
    }

    @Test
    void aTagTakesEveryResponseThatCarriedItWhicheverFieldNamedIt() throws Exception {
        put(key("http", "/p/1"), "Surrogate-Key: sku-1 home");
        put(key("http", "/p/2"), "Cache-Tag: sku-2, home");
        put(key("http", "/p/3"), "Surrogate-Key: sku-3");
        put(key("http", "/p/4"), "Surrogate-Key: Home");
        put(key("http", "/p/5"));

        assertThat(purge(Ban.tags(Set.of("home")))).isEqualTo(2);
        store.settle();
        assertThat(found(key("http", "/p/1"))).isFalse();
        assertThat(found(key("http", "/p/2"))).isFalse();
        assertThat(found(key("http", "/p/3"))).isTrue();
        assertThat(found(key("http", "/p/4"))).as("tags are case-sensitive").isTrue();
        assertThat(found(key("http", "/p/5"))).isTrue();
        assertThat(files(dir)).hasSize(3);

        assertThat(purge(Ban.tags(Set.of("sku-3", "nothing")))).isEqualTo(1);
        assertThat(purge(Ban.tags(Set.of("sku-3")))).as("nothing left to take").isZero();
    }

    @Test
    void theVariantsOfAVaryingKeyGoWithItsPrefixMarkerAndAll() throws Exception {
        CacheKey k = key("http", "/v/page");
        HttpHeaders resp = h("Vary: Accept-Encoding", "Cache-Control: max-age=600");
        long now = clock.millis();
        assertThat(store(store, k, h("Accept-Encoding: gzip"), resp, body(50, 2), now)).isNotNull();
        assertThat(store(store, k, h("Accept-Encoding: br"), resp, body(50, 3), now)).isNotNull();
        assertThat(purge(Ban.prefix("shop.example", "/v/"))).as("two responses; the marker is not counted")
                .isEqualTo(2);
        store.settle();
        assertThat(lookup(store, k, h("Accept-Encoding: gzip"))).isNull();
        assertThat(files(dir)).as("the Vary marker went too").isEmpty();
    }

    @Test
    void aWriterBegunBeforeTheBanStoresNothingItMatchesAndAResponseAfterItStays() throws Exception {
        long now = clock.millis();
        CacheWriter early = store.begin(key("http", "/w/1"), h(), 200, "OK",
                CachePolicy.storedHeaders(h("Cache-Control: max-age=600", "Surrogate-Key: t"), now), now, now);
        CacheWriter untagged = store.begin(key("http", "/w/2"), h(), 200, "OK",
                CachePolicy.storedHeaders(h("Cache-Control: max-age=600"), now), now, now);
        assertThat(purge(Ban.tags(Set.of("t")))).isZero();
        writeChunks(early, body(100, 4), 40);
        writeChunks(untagged, body(100, 5), 40);
        assertThat(early.commit().get(10, TimeUnit.SECONDS)).as("it began before the purge").isNull();
        assertThat(untagged.commit().get(10, TimeUnit.SECONDS)).as("the purge does not match it").isNotNull();

        clock.advance(java.time.Duration.ofSeconds(1));
        put(key("http", "/w/1"), "Surrogate-Key: t");
        assertThat(found(key("http", "/w/1"))).as("fetched again after the purge: stored").isTrue();
    }

    @Test
    void aLookupDropsAMatchingResponseTheSweepHasNotReachedYet() throws Exception {
        put(key("http", "/l/1"), "Surrogate-Key: x");
        Object ban = store.invalidations().ban(Ban.tags(Set.of("x")), clock.millis()); // no sweep: only the ban
        assertThat(found(key("http", "/l/1"))).isFalse();
        assertThat(store.entryCount()).as("and it left the index").isZero();
        store.invalidations().swept(ban, clock.millis());
        clock.advance(java.time.Duration.ofMillis(Invalidations.BAN_RETENTION + 1));
        store.invalidations().retireBans(clock.millis());
        assertThat(store.invalidations().hasBans()).as("retired after its retention").isFalse();
    }
}
