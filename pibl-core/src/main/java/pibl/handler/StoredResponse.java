package pibl.handler;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCounted;
import pibl.cache.CacheEntry;
import pibl.cache.Conditionals;

import java.io.IOException;
import java.util.Iterator;
import java.util.Map;

/**
 * A stored response about to answer a request: its head with {@code Age}, then the body from the memory tier or,
 * zero-copy, from its file; or a 304 when the client's own validators match it; no body for HEAD.
 * {@link ResponseHeads} then finishes the head as for any other response.
 *
 * <pre>
 *   StoredResponse r = StoredResponse.open(entry, clientHeaders, head);   // null: the body is gone
 *   exchange.phase(HIT);  r.write(ctx, now);
 * </pre>
 */
final class StoredResponse {
    /** The stored headers were validated when they first arrived: copying them needs no second check. */
    private static final HttpHeadersFactory TRUSTED_HEADERS =
            DefaultHttpHeadersFactory.headersFactory().withValidation(false);

    private final CacheEntry entry;
    private final boolean notModified;
    private final ReferenceCounted body;

    private StoredResponse(CacheEntry entry, boolean notModified, ReferenceCounted body) {
        this.entry = entry;
        this.notModified = notModified;
        this.body = body;
    }

    /**
     * Takes hold of the body of {@code e} (a retained memory buffer, or an open file region), or returns null if it
     * can be neither taken from memory nor opened (the entry was evicted and its file deleted since the lookup).
     *
     * @param validatorsFrom the client's request fields: {@code If-None-Match}/{@code If-Modified-Since} may turn
     *                       the answer into a 304
     * @param head           a HEAD request: no body
     */
    static StoredResponse open(CacheEntry e, HttpHeaders validatorsFrom, boolean head) {
        boolean notModified = notModified(e, validatorsFrom);
        ReferenceCounted body = null;
        if (!notModified && !head) {
            try {
                body = e.openBody();
            } catch (IOException gone) {
                return null;
            }
        }
        return new StoredResponse(e, notModified, body);
    }

    /**
     * As {@link #open(CacheEntry, HttpHeaders, boolean)}, with the body taken hold of before
     * ({@link CacheEntry#openBody()}, when a revalidation or a fetch that {@code e} may stand in for began, so that
     * nothing the store does meanwhile can take it away). Takes {@code held}; never null.
     */
    static StoredResponse open(CacheEntry e, ReferenceCounted held, HttpHeaders validatorsFrom, boolean head) {
        boolean notModified = notModified(e, validatorsFrom);
        if ((notModified || head) && held != null) {
            held.release();
            held = null;
        }
        return new StoredResponse(e, notModified, held);
    }

    private static boolean notModified(CacheEntry e, HttpHeaders validatorsFrom) {
        return Conditionals.isConditional(validatorsFrom)
                && Conditionals.isNotModified(validatorsFrom, e.status(), e.headers());
    }

    /** Writes the response and flushes; the body's ownership passes to the channel. */
    void write(ChannelHandlerContext ctx, long now) {
        HttpResponse response = notModified
                ? new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED,
                        Conditionals.notModifiedHeaders(entry.headers()))
                : new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.valueOf(entry.status(), entry.reason()), copy(entry.headers()));
        response.headers().set(HttpHeaderNames.AGE, entry.freshness().ageSeconds(now));
        ctx.write(response, ctx.voidPromise());
        if (body == null) {
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, ctx.voidPromise());
        } else if (body instanceof FileRegion region) {
            ctx.write(region, ctx.voidPromise());
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, ctx.voidPromise());
        } else {
            ctx.writeAndFlush(new DefaultLastHttpContent((ByteBuf) body), ctx.voidPromise());
        }
    }

    private static HttpHeaders copy(HttpHeaders stored) {
        HttpHeaders h = TRUSTED_HEADERS.newHeaders();
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = stored.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> field = it.next();
            h.add(field.getKey(), field.getValue()); // AsciiString both: no String copies, hash cached
        }
        return h;
    }
}
