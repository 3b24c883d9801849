package pibl.handler;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import pibl.cache.RangeRequest;
import pibl.http.ByteRanges;

/**
 * A client's range cut from the whole 200 that streams in from the backend on a ranged miss: the cache gets every
 * byte, the client only those of its range (the way Varnish answers a range on a miss).
 *
 * <pre>
 * client   GET /v, Range: bytes=100-199        backend, asked without Range: 200, Content-Length: 1000, 3 parts
 * client ← 206, Content-Range: bytes 100-199/1000, Content-Length: 100
 *   part   0-399  → its bytes 100-199                   every part is stored whole, as it comes
 *   part 400-799  → nothing
 *   part 800-999  → the empty last part: the response ends when the backend's body has all arrived
 * </pre>
 *
 * The client's response ends with the backend's, not with its last byte, so that the exchange (and the fill) last
 * until the body is stored. An unsatisfiable range gets a 416 head and no body the same way.
 */
final class PartialStream {
    private final ByteRanges.Selection selection;
    /** Body bytes of the backend's response gone by so far. */
    private long offset;

    private PartialStream(ByteRanges.Selection selection) {
        this.selection = selection;
    }

    /**
     * For the backend's response {@code head}: the cut to apply to its body and the head the client gets instead,
     * or null when the client gets the response whole (not a 200, no {@code Content-Length}, If-Range failed,
     * several ranges; or PIBL's own complete response, which is never a 200).
     */
    static PartialStream of(RangeRequest range, HttpResponse head) {
        if (head instanceof HttpContent) {
            return null;
        }
        HttpHeaders h = head.headers();
        ByteRanges.Selection s = range.select(head.status().code(), h, RangeRequest.contentLength(h));
        return s.kind() == ByteRanges.Kind.WHOLE ? null : new PartialStream(s);
    }

    /** The head the client gets in place of the backend's. */
    HttpResponse head(HttpResponse backendHead) {
        HttpHeaders h;
        if (selection.kind() == ByteRanges.Kind.PART) {
            h = backendHead.headers().copy();
            RangeRequest.describePart(h, selection);
        } else {
            h = RangeRequest.unsatisfiedHeaders(selection, backendHead.headers());
        }
        return new DefaultHttpResponse(backendHead.protocolVersion(),
                RangeRequest.status(selection, backendHead.status()), h);
    }

    /**
     * What of {@code content} (taken) the client gets: a part holding the bytes of its range, the last part
     * (empty if the range ended before it), or null for nothing.
     */
    HttpContent cut(HttpContent content) {
        ByteBuf bytes = content.content();
        long start = offset;
        long end = start + bytes.readableBytes(); // exclusive
        offset = end;
        long from = Math.max(start, selection.first());
        long to = Math.min(end, selection.last() + 1);
        boolean last = content instanceof LastHttpContent;
        if (from >= to) {
            content.release();
            return last ? LastHttpContent.EMPTY_LAST_CONTENT : null;
        }
        ByteBuf part = bytes.retainedSlice(bytes.readerIndex() + (int) (from - start), (int) (to - from));
        content.release();
        return last ? new DefaultLastHttpContent(part) : new DefaultHttpContent(part);
    }
}
