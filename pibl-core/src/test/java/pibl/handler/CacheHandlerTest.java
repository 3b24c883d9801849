package pibl.handler;

import io.netty.buffer.ByteBufHolder;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.cache.CacheStatus;
import pibl.cache.HttpCache;
import pibl.cache.MemoryCacheStore;
import pibl.config.CacheConfig;
import pibl.config.LogConfig;
import pibl.handler.ScriptedBackend.Reply;
import pibl.handler.ScriptedBackend.Sent;
import pibl.runtime.ProxyStats;
import pibl.testing.NoLeaks;
import pibl.testing.TestClock;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cache segment as a specification, over an in-memory store and a scripted backend: the real pipeline's
 * exchange segments (pipelining, access log, cache, forward) in an {@code EmbeddedChannel}.
 */
@ExtendWith(NoLeaks.class)
class CacheHandlerTest {
    private final TestClock clock = new TestClock(1_700_000_000_000L);
    private final CacheConfig config = new CacheConfig(true, Path.of("unused"), Duration.ofSeconds(60),
            CacheConfig.TtlMode.DEFAULT, 1L << 30, 1L << 20, 1L << 20, false, Duration.ZERO);
    private final MemoryCacheStore store = new MemoryCacheStore(config);
    private final HttpCache cache = new HttpCache(config, clock, store);
    private final AtomicInteger served = new AtomicInteger();
    private final ScriptedBackend backend = new ScriptedBackend(s -> Reply.of(200, s.uri() + " #" + served.incrementAndGet(),
            "Cache-Control: max-age=60", "ETag: \"" + served.get() + "\""));
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    /** A response as the client got it. */
    record Response(HttpResponse head, String body) {
        String header(CharSequence name) {
            return head.headers().get(name);
        }

        int status() {
            return head.status().code();
        }
    }

    @AfterEach
    void tearDown() {
        for (EmbeddedChannel ch : channels) {
            assertThat(ch.finish()).as("nothing left unread on the channel").isFalse();
        }
        cache.close();
    }

    private EmbeddedChannel channel() {
        EmbeddedChannel ch = new EmbeddedChannel(new PipeliningHandler(TimeUnit.SECONDS.toNanos(60)),
                new AccessLogHandler(LogConfig.Format.DEFAULT, new ProxyStats()),
                new CacheHandler(cache, backend), new ForwardingHandler(backend));
        channels.add(ch);
        return ch;
    }

    private static FullHttpRequest request(HttpMethod method, String uri, String... headers) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        r.headers().set(HttpHeaderNames.HOST, "shop.example");
        for (String line : headers) {
            int colon = line.indexOf(':');
            r.headers().add(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
        }
        return r;
    }

    private static Response send(EmbeddedChannel ch, HttpMethod method, String uri, String... headers) {
        ch.writeInbound(request(method, uri, headers));
        ch.runPendingTasks();
        return read(ch);
    }

    private static Response get(EmbeddedChannel ch, String uri, String... headers) {
        return send(ch, HttpMethod.GET, uri, headers);
    }

    /** The next complete response on the channel, its parts released; null if none was written. */
    private static Response read(EmbeddedChannel ch) {
        Object first = ch.readOutbound();
        if (first == null) {
            return null;
        }
        HttpResponse head = (HttpResponse) first;
        StringBuilder body = new StringBuilder();
        Object part = first;
        while (!(part instanceof LastHttpContent)) {
            if (part != first || part instanceof HttpContent) {
                if (part instanceof ByteBufHolder holder) {
                    body.append(holder.content().toString(StandardCharsets.UTF_8));
                }
            }
            if (part != first) {
                ReferenceCountUtil.release(part);
            }
            part = ch.readOutbound();
            assertThat(part).as("the response was written to its last part").isNotNull();
        }
        if (part != first && part instanceof ByteBufHolder holder) {
            body.append(holder.content().toString(StandardCharsets.UTF_8));
        }
        if (part != first) {
            ReferenceCountUtil.release(part);
        }
        if (first instanceof ByteBufHolder holder) {
            body.append(holder.content().toString(StandardCharsets.UTF_8));
        }
        ReferenceCountUtil.release(first);
        return new Response(head, body.toString());
    }

    @Test
    void aMissIsForwardedAndStoredThenServedAsAHitWithItsAge() {
        EmbeddedChannel ch = channel();
        Response miss = get(ch, "/a");
        assertThat(miss.status()).isEqualTo(200);
        assertThat(miss.header("X-Cache")).isEqualTo("MISS");
        assertThat(miss.body()).isEqualTo("/a #1");

        clock.advance(Duration.ofSeconds(7));
        Response hit = get(ch, "/a");
        assertThat(hit.header("X-Cache")).isEqualTo("HIT");
        assertThat(hit.body()).as("the stored body, byte for byte").isEqualTo("/a #1");
        assertThat(hit.header("Age")).as("RFC 9111 4.2.3: resident seven seconds").isEqualTo("7");
        assertThat(hit.header("Via")).as("a stored response names this hop once").isEqualTo("1.1 pibl");
        assertThat(backend.sent()).as("the hit never reached the backend").hasSize(1);
        assertThat(cache.stats().count(CacheStatus.HIT)).isEqualTo(1);
        assertThat(cache.stats().count(CacheStatus.MISS)).isEqualTo(1);
    }

    @Test
    void headIsAnsweredFromAStoredGetWithoutBodyAndAHeadMissStoresNothing() {
        EmbeddedChannel ch = channel();
        Response headMiss = send(ch, HttpMethod.HEAD, "/h");
        assertThat(headMiss.header("X-Cache")).isEqualTo("MISS");
        assertThat(store.begun()).as("a HEAD response has no body to store").isZero();

        get(ch, "/h");
        Response head = send(ch, HttpMethod.HEAD, "/h");
        assertThat(head.header("X-Cache")).isEqualTo("HIT");
        assertThat(head.body()).isEmpty();
        assertThat(head.header("Content-Length")).as("the stored GET's length").isEqualTo("5");
        assertThat(backend.sent()).extracting(Sent::method).containsExactly("HEAD", "GET");
    }

    @Test
    void aStreamedUploadPassesUntouchedAndStillInvalidatesOnSuccess() {
        EmbeddedChannel ch = channel();
        get(ch, "/doc");
        assertThat(store.entryCount()).isEqualTo(1);
        backend.script(s -> Reply.of(204, ""));
        io.netty.handler.codec.http.HttpRequest head = new io.netty.handler.codec.http.DefaultHttpRequest(
                HttpVersion.HTTP_1_1, HttpMethod.PUT, "/doc");
        head.headers().set(HttpHeaderNames.HOST, "shop.example").set(HttpHeaderNames.CONTENT_LENGTH, 10);
        ch.writeInbound(head, Messages.part("01234"), Messages.last("56789")); // a body past the retry buffer
        ch.runPendingTasks();
        Response put = read(ch);

        assertThat(put.status()).isEqualTo(204);
        assertThat(put.header("X-Cache")).as("never looked up nor stored").isEqualTo("BYPASS");
        assertThat(backend.sent()).extracting(Sent::method).containsExactly("GET", "PUT");
        assertThat(store.entryCount()).as("a successful PUT invalidates, streamed or not").isZero();
    }

    @Test
    void anUnsafeMethodBypassesTheCacheAndInvalidatesTheTargetAndItsLocation() {
        EmbeddedChannel ch = channel();
        get(ch, "/cart");
        get(ch, "/cart/17");
        backend.script(s -> Reply.of(201, "created", "Location: /cart/17"));
        Response post = send(ch, HttpMethod.POST, "/cart");
        assertThat(post.header("X-Cache")).isEqualTo("BYPASS");
        assertThat(store.entryCount()).as("both /cart and its Location were invalidated").isZero();
    }

    @Test
    void aStaleEntryWithValidatorsIsRevalidatedAndA304RefreshesAndServesIt() {
        EmbeddedChannel ch = channel();
        get(ch, "/e");
        clock.advance(Duration.ofSeconds(61));
        backend.script(s -> Reply.of(304, "", "Cache-Control: max-age=60", "X-Refreshed: yes"));

        Response revalidated = get(ch, "/e", "If-None-Match: \"mine\"");
        assertThat(backend.sent().get(1).headers().get("If-None-Match"))
                .as("the stored validator, not the client's own (RFC 9111 4.3.1)").isEqualTo("\"1\"");
        assertThat(revalidated.status()).isEqualTo(200);
        assertThat(revalidated.header("X-Cache")).isEqualTo("REVALIDATED");
        assertThat(revalidated.body()).as("the stored body, not re-sent").isEqualTo("/e #1");
        assertThat(revalidated.header("X-Refreshed")).as("headers merged from the 304").isEqualTo("yes");

        Response hit = get(ch, "/e");
        assertThat(hit.header("X-Cache")).as("fresh again for 60 s from the 304").isEqualTo("HIT");
        assertThat(backend.sent()).hasSize(2);
    }

    @Test
    void a304ThatMakesTheEntryUnstorableStillServesTheBodyItVouchedFor() {
        EmbeddedChannel ch = channel();
        get(ch, "/ns");
        clock.advance(Duration.ofSeconds(61));
        backend.script(s -> Reply.of(304, "", "Cache-Control: no-store"));

        Response revalidated = get(ch, "/ns");
        assertThat(revalidated.status()).isEqualTo(200);
        assertThat(revalidated.body()).as("held since the revalidation began, though the store dropped it")
                .isEqualTo("/ns #1");
        assertThat(store.entryCount()).as("no-store from the 304: removed").isZero();
    }

    @Test
    void aNewResponseToARevalidationIsForwardedAsAMissAndReplacesTheEntry() {
        EmbeddedChannel ch = channel();
        get(ch, "/n");
        clock.advance(Duration.ofSeconds(61));
        Response replaced = get(ch, "/n");
        assertThat(replaced.header("X-Cache")).isEqualTo("MISS");
        assertThat(replaced.body()).isEqualTo("/n #2");
        assertThat(get(ch, "/n").body()).isEqualTo("/n #2");
    }

    @Test
    void aRangeOnARevalidatedEntryIsCutFromTheStoredBodyTheBackendVouchedFor() {
        EmbeddedChannel ch = channel();
        get(ch, "/e");
        clock.advance(Duration.ofSeconds(61));
        backend.script(s -> Reply.of(304, "", "Cache-Control: max-age=60"));
        Response part = get(ch, "/e", "Range: bytes=3-4", "If-Range: \"1\"");
        assertThat(backend.sent().get(1).headers().contains("Range")).as("a revalidation asks for the whole")
                .isFalse();
        assertThat(backend.sent().get(1).headers().contains("If-Range")).isFalse();
        assertThat(part.status()).isEqualTo(206);
        assertThat(part.header("X-Cache")).isEqualTo("REVALIDATED");
        assertThat(part.header("Content-Range")).isEqualTo("bytes 3-4/5");
        assertThat(part.body()).isEqualTo("#1");
    }

    @Test
    void aRangeOnANewResponseToARevalidationIsCutFromTheStream() {
        EmbeddedChannel ch = channel();
        get(ch, "/n");
        clock.advance(Duration.ofSeconds(61));
        Response part = get(ch, "/n", "Range: bytes=3-");
        assertThat(part.status()).isEqualTo(206);
        assertThat(part.header("X-Cache")).isEqualTo("MISS");
        assertThat(part.header("Content-Range")).isEqualTo("bytes 3-4/5");
        assertThat(part.body()).isEqualTo("#2");
        assertThat(get(ch, "/n").body()).as("stored whole").isEqualTo("/n #2");
    }

    @Test
    void aRangeOnAnEntryStandingInForAFailedBackendIsCutFromIt() {
        EmbeddedChannel ch = channel();
        backend.script(s -> Reply.of(200, "kept", "Cache-Control: max-age=1, stale-if-error=600"));
        get(ch, "/sie");
        clock.advance(Duration.ofSeconds(30));
        backend.script(s -> Reply.failing(502));
        Response part = get(ch, "/sie", "Range: bytes=-2");
        assertThat(part.status()).isEqualTo(206);
        assertThat(part.header("X-Cache")).isEqualTo("STALE");
        assertThat(part.body()).isEqualTo("pt");
    }

    @Test
    void aClientsConditionalIsAnswered304FromAFreshEntry() {
        EmbeddedChannel ch = channel();
        get(ch, "/c");
        Response notModified = get(ch, "/c", "If-None-Match: W/\"1\"");
        assertThat(notModified.status()).isEqualTo(304);
        assertThat(notModified.header("X-Cache")).isEqualTo("HIT");
        assertThat(notModified.body()).isEmpty();
    }

    @Test
    void staleWhileRevalidateServesTheStaleEntryAndRefreshesItInTheBackground() {
        EmbeddedChannel ch = channel();
        backend.script(s -> Reply.of(200, "v" + served.incrementAndGet(),
                "Cache-Control: max-age=10, stale-while-revalidate=30", "ETag: \"" + served.get() + "\""));
        get(ch, "/swr");
        clock.advance(Duration.ofSeconds(15));

        Response stale = get(ch, "/swr");
        assertThat(stale.header("X-Cache")).isEqualTo("STALE");
        assertThat(stale.body()).isEqualTo("v1");
        assertThat(backend.sent()).as("the refresh went out, conditionally").hasSize(2);
        assertThat(backend.sent().get(1).headers().get("If-None-Match")).isEqualTo("\"1\"");
        assertThat(ch.outboundMessages()).as("the background response goes nowhere near the client").isEmpty();

        Response fresh = get(ch, "/swr");
        assertThat(fresh.header("X-Cache")).isEqualTo("HIT");
        assertThat(fresh.body()).as("replaced by the background refresh").isEqualTo("v2");
    }

    @Test
    void aBackgroundRefreshIsNotStartedTwiceForOneKey() {
        EmbeddedChannel ch = channel();
        backend.script(s -> Reply.of(200, "v", "Cache-Control: max-age=10, stale-while-revalidate=30"));
        get(ch, "/once");
        clock.advance(Duration.ofSeconds(15));
        backend.hold();
        assertThat(get(ch, "/once").header("X-Cache")).isEqualTo("STALE");
        assertThat(get(ch, "/once").header("X-Cache")).isEqualTo("STALE");
        assertThat(backend.sent()).as("the second stale hit finds the refresh holding the key's lease").hasSize(2);
        backend.release();
        ch.runPendingTasks();
    }

    @Test
    void concurrentMissesForOneKeyMakeOneBackendRequest() {
        EmbeddedChannel first = channel();
        EmbeddedChannel second = channel();
        backend.hold();
        first.writeInbound(request(HttpMethod.GET, "/cold"));
        second.writeInbound(request(HttpMethod.GET, "/cold"));
        first.runPendingTasks();
        second.runPendingTasks();
        assertThat(backend.sent()).as("the second waits behind the first").hasSize(1);
        assertThat(read(second)).isNull();

        backend.release();
        first.runPendingTasks();
        assertThat(read(first).header("X-Cache")).isEqualTo("MISS");
        second.runPendingTasks();
        Response woken = read(second);
        assertThat(woken.header("X-Cache")).as("woken by the stored response").isEqualTo("HIT");
        assertThat(woken.body()).isEqualTo("/cold #1");
        assertThat(backend.sent()).hasSize(1);
    }

    @Test
    void anUnstorableResponseMakesLaterMissesOfItsKeySkipTheLock() {
        EmbeddedChannel first = channel();
        EmbeddedChannel second = channel();
        backend.script(s -> Reply.of(200, "private", "Cache-Control: no-store"));
        get(first, "/p");
        backend.hold();
        first.writeInbound(request(HttpMethod.GET, "/p"));
        second.writeInbound(request(HttpMethod.GET, "/p"));
        first.runPendingTasks();
        second.runPendingTasks();
        assertThat(backend.sent()).as("hit-for-miss: both go to the backend side by side").hasSize(3);
        backend.release();
        first.runPendingTasks();
        second.runPendingTasks();
        assertThat(read(first).header("X-Cache")).isEqualTo("MISS");
        assertThat(read(second).header("X-Cache")).isEqualTo("MISS");
    }

    @Test
    void anExpiredEntryStandsInWhenTheBackendFailsWithinStaleIfError() {
        EmbeddedChannel ch = channel();
        backend.script(s -> Reply.of(200, "kept", "Cache-Control: max-age=1, stale-if-error=600"));
        get(ch, "/sie");
        clock.advance(Duration.ofSeconds(30));
        backend.script(s -> Reply.failing(502));
        Response stale = get(ch, "/sie");
        assertThat(stale.status()).isEqualTo(200);
        assertThat(stale.header("X-Cache")).isEqualTo("STALE");
        assertThat(stale.body()).isEqualTo("kept");

        backend.script(s -> Reply.of(503, "down"));
        assertThat(get(ch, "/sie").header("X-Cache")).as("a 5xx response stands aside too").isEqualTo("STALE");
    }

    @Test
    void aLookupOnAStoreThreadParksTheRequestUntilItCompletes() {
        EmbeddedChannel ch = channel();
        get(ch, "/slow-disk");
        store.holdLookups();
        ch.writeInbound(request(HttpMethod.GET, "/slow-disk"));
        ch.runPendingTasks();
        assertThat(read(ch)).as("parked in LOOKUP").isNull();
        store.releaseLookups();
        ch.runPendingTasks();
        assertThat(read(ch).header("X-Cache")).isEqualTo("HIT");
    }

    @Test
    void aClientGoneWhileTheLookupIsPendingLeavesNothingHeld() {
        EmbeddedChannel ch = channel();
        store.holdLookups();
        ch.writeInbound(request(HttpMethod.GET, "/gone"));
        ch.close();
        store.releaseLookups();
        ch.runPendingTasks();
        assertThat(backend.sent()).isEmpty();
        assertThat(cache.missLock().inFlight()).isZero();
    }

    @Test
    void aClientGoneMidMissReleasesTheLockSoTheNextRequestIsNotBlocked() {
        EmbeddedChannel first = channel();
        backend.hold();
        first.writeInbound(request(HttpMethod.GET, "/abandoned"));
        first.runPendingTasks();
        assertThat(cache.missLock().inFlight()).isEqualTo(1);
        first.close();
        assertThat(cache.missLock().inFlight()).as("the lease went with the exchange").isZero();
        backend.release();
        first.runPendingTasks();

        EmbeddedChannel next = channel();
        backend.script(s -> Reply.of(200, "fresh", "Cache-Control: max-age=60"));
        assertThat(get(next, "/abandoned").body()).isEqualTo("fresh");
    }

    @Test
    void aMissWaitsWhileTheStoresDiskIsBehindThenGoesOn() {
        EmbeddedChannel ch = channel();
        store.behind();
        ch.writeInbound(request(HttpMethod.GET, "/queued"));
        ch.runPendingTasks();
        assertThat(backend.sent()).as("not forwarded while the disk catches up").isEmpty();
        assertThat((Object) ch.readOutbound()).as("nothing answered yet").isNull();
        store.caughtUp();
        ch.runPendingTasks();
        Response r = read(ch);
        assertThat(r.header("X-Cache")).isEqualTo("MISS");
        assertThat(backend.sent()).extracting(Sent::uri).containsExactly("/queued");
        assertThat(store.entryCount()).as("stored once the disk could take it").isGreaterThanOrEqualTo(1);
    }

    @Test
    void aMissWaitsForABehindDiskOneSecondAtMost() {
        EmbeddedChannel ch = channel();
        store.behind();
        ch.writeInbound(request(HttpMethod.GET, "/slow-disk-miss"));
        ch.runPendingTasks();
        assertThat(backend.sent()).isEmpty();
        ch.advanceTimeBy(1, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        ch.runPendingTasks();
        assertThat(read(ch).header("X-Cache")).as("forwarded anyway: a slow disk never stalls a client for long")
                .isEqualTo("MISS");
        store.caughtUp();
    }

    @Test
    void aWaiterWhoseLockTimedOutAndThenWaitsForTheDiskIsNotWokenTwice() {
        EmbeddedChannel leader = channel();
        EmbeddedChannel waiter = channel();
        backend.hold();
        leader.writeInbound(request(HttpMethod.GET, "/twice"));
        waiter.writeInbound(request(HttpMethod.GET, "/twice"));
        leader.runPendingTasks();
        waiter.runPendingTasks();
        store.behind();
        waiter.advanceTimeBy(5, TimeUnit.SECONDS);
        waiter.runScheduledPendingTasks(); // the lock wait times out: a miss of its own, parked for the disk
        waiter.runPendingTasks();
        assertThat(backend.sent()).as("parked for the disk, not yet forwarded").hasSize(1);

        backend.release(); // the leader is done: its wake must find the waiter's lock wait over
        leader.runPendingTasks();
        waiter.runPendingTasks();
        assertThat(read(leader).header("X-Cache")).isEqualTo("MISS");
        assertThat(read(waiter)).as("still parked for the disk").isNull();

        store.caughtUp();
        waiter.runPendingTasks();
        assertThat(read(waiter).header("X-Cache")).isEqualTo("MISS");
        assertThat(backend.sent()).hasSize(2);
    }

    @Test
    void aHitIsNeverHeldForABehindDisk() {
        EmbeddedChannel ch = channel();
        get(ch, "/h");
        store.behind();
        assertThat(get(ch, "/h").header("X-Cache")).isEqualTo("HIT");
        store.caughtUp();
    }

    @Test
    void onlyIfCachedWithNothingStoredIs504WithoutContactingTheBackend() {
        EmbeddedChannel ch = channel();
        Response r = get(ch, "/nothing", "Cache-Control: only-if-cached");
        assertThat(r.status()).isEqualTo(504);
        assertThat(r.header("X-Cache")).as("nothing was served from storage or fetched").isNull();
        assertThat(backend.sent()).isEmpty();
    }

    @Test
    void varyVariantsAreStoredAndServedSeparately() {
        EmbeddedChannel ch = channel();
        backend.script(s -> Reply.of(200, "lang=" + s.headers().get("Accept-Language"), "Cache-Control: max-age=60",
                "Vary: Accept-Language"));
        get(ch, "/v", "Accept-Language: es");
        get(ch, "/v", "Accept-Language: en");
        assertThat(get(ch, "/v", "Accept-Language: es").body()).isEqualTo("lang=es");
        Response en = get(ch, "/v", "Accept-Language: en");
        assertThat(en.body()).isEqualTo("lang=en");
        assertThat(en.header("X-Cache")).isEqualTo("HIT");
        assertThat(backend.sent()).hasSize(2);
    }

    @Test
    void purgeFromANonLoopbackClientIsForbidden() {
        EmbeddedChannel ch = channel();
        get(ch, "/x");
        Response r = send(ch, HttpMethod.valueOf("PURGE"), "/x");
        assertThat(r.status()).as("an embedded channel's peer is no loopback address").isEqualTo(403);
        assertThat(store.entryCount()).isEqualTo(1);
    }
}
