package pibl.handler;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCounted;
import pibl.cache.CacheEntry;
import pibl.cache.Conditionals;
import pibl.cache.RangeRequest;
import pibl.cache.StoredBody;
import pibl.http.ByteRanges;

import java.io.IOException;

/**
 * A stored response about to answer a request: its head with {@code Age}, then the body from the memory tier or,
 * zero-copy, from its file; or a 304 when the client's own validators match it; no body for HEAD. A range
 * request gets a 206 with just its part (a slice of the buffer, or a region of the file from the part's offset)
 * or a 416 ({@link RangeRequest}); the validators are evaluated first, so a 304 wins. {@link ResponseHeads} then
 * finishes the head as for any other response; a 200 or 206 head reads the stored fields in place, under its own
 * ({@link HitHeaders}).
 *
 * <pre>
 *   StoredResponse r = StoredResponse.open(entry, clientHeaders, range, head);   // null: the body is gone
 *   exchange.phase(HIT);  r.write(ctx, now);
 * </pre>
 */
final class StoredResponse {
    private final CacheEntry entry;
    private final boolean notModified;
    /** What of the body to send: whole, a part, or nothing (416). */
    private final ByteRanges.Selection selection;
    private final ReferenceCounted body;

    private StoredResponse(CacheEntry entry, boolean notModified, ByteRanges.Selection selection,
                           ReferenceCounted body) {
        this.entry = entry;
        this.notModified = notModified;
        this.selection = selection;
        this.body = body;
    }

    /**
     * Takes hold of the body of {@code e} (a retained memory buffer, or an open file region), or returns null if it
     * can be neither taken from memory nor opened (the entry was evicted and its file deleted since the lookup).
     *
     * @param validatorsFrom the client's request fields: {@code If-None-Match}/{@code If-Modified-Since} may turn
     *                       the answer into a 304
     * @param range          the client's range request, or null
     * @param head           a HEAD request: no body
     */
    static StoredResponse open(CacheEntry e, HttpHeaders validatorsFrom, RangeRequest range, boolean head) {
        boolean notModified = notModified(e, validatorsFrom);
        ReferenceCounted body = null;
        if (!notModified && !head) {
            try {
                body = e.openBody();
            } catch (IOException gone) {
                return null;
            }
        }
        return open(e, body, notModified, range);
    }

    /**
     * As {@link #open(CacheEntry, HttpHeaders, RangeRequest, boolean)}, with the body taken hold of before
     * ({@link CacheEntry#openBody()}, when a revalidation or a fetch that {@code e} may stand in for began, so that
     * nothing the store does meanwhile can take it away). Takes {@code held}; never null.
     */
    static StoredResponse open(CacheEntry e, ReferenceCounted held, HttpHeaders validatorsFrom, RangeRequest range,
                               boolean head) {
        boolean notModified = notModified(e, validatorsFrom);
        if ((notModified || head) && held != null) {
            held.release();
            held = null;
        }
        return open(e, held, notModified, range);
    }

    /** Narrows {@code body} (taken) to what the range selects. */
    private static StoredResponse open(CacheEntry e, ReferenceCounted body, boolean notModified, RangeRequest range) {
        ByteRanges.Selection s = notModified || range == null ? null
                : range.select(e.status(), e.headers(), e.bodyLength());
        if (s != null && s.kind() != ByteRanges.Kind.WHOLE && body != null) {
            body = s.kind() == ByteRanges.Kind.PART ? StoredBody.part(body, s.first(), s.partLength()) : release(body);
        }
        return new StoredResponse(e, notModified, s, body);
    }

    private static ReferenceCounted release(ReferenceCounted body) {
        body.release();
        return null;
    }

    private static boolean notModified(CacheEntry e, HttpHeaders validatorsFrom) {
        return Conditionals.isConditional(validatorsFrom)
                && Conditionals.isNotModified(validatorsFrom, e.status(), e.headers());
    }

    /**
     * Writes the response and flushes; the body's ownership passes to the channel.
     *
     * @param http2 the exchange is an HTTP/2 stream: the head reads the stored fields under lower-case names,
     *              which the HTTP/2 encoder then takes as they are
     */
    void write(ChannelHandlerContext ctx, long now, boolean http2) {
        ByteRanges.Kind kind = selection == null ? ByteRanges.Kind.WHOLE : selection.kind();
        HttpResponse response;
        if (notModified) {
            response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED,
                    Conditionals.notModifiedHeaders(entry.headers()));
        } else if (kind == ByteRanges.Kind.UNSATISFIABLE) {
            response = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                    RangeRequest.unsatisfiedHeaders(selection, entry.headers()));
        } else {
            HttpResponseStatus stored = HttpResponseStatus.valueOf(entry.status(), entry.reason());
            response = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                    kind == ByteRanges.Kind.PART ? HttpResponseStatus.PARTIAL_CONTENT : stored,
                    new HitHeaders(http2 ? entry.lowerCaseHeaders() : entry.headers()));
            if (kind == ByteRanges.Kind.PART) {
                RangeRequest.describePart(response.headers(), selection);
            }
            if (entry.status() == 200) {
                RangeRequest.advertise(response.headers());
            }
        }
        response.headers().set(HttpHeaderNames.AGE, entry.freshness().ageSeconds(now));
        ctx.write(response, ctx.voidPromise());
        if (body == null) {
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, ctx.voidPromise());
        } else if (body instanceof FileRegion region) {
            ctx.write(region, ctx.voidPromise());
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, ctx.voidPromise());
        } else {
            // No trailers: the shared empty set spares each hit an empty table of its own.
            ctx.writeAndFlush(new DefaultLastHttpContent((ByteBuf) body, EmptyHttpHeaders.INSTANCE), ctx.voidPromise());
        }
    }

}
