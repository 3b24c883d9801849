package pibl.demo;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;

/**
 * An {@link HttpObjectAggregator} that leaves the request headers exactly as they arrived.
 *
 * <p>The stock aggregator rewrites framing: it drops {@code Transfer-Encoding: chunked} and adds a
 * {@code Content-Length} to every aggregated request, even a bodiless {@code GET}. That would make {@code /api/info}
 * report headers the proxy never sent, so this one restores the received header list (same names, values and
 * order) and adds nothing. The body size is {@code content().readableBytes()}, never the headers.
 */
final class AsReceivedAggregator extends HttpObjectAggregator {

    AsReceivedAggregator(int maxContentLength) {
        super(maxContentLength);
    }

    @Override
    protected FullHttpMessage beginAggregation(HttpMessage start, ByteBuf content) throws Exception {
        HttpHeaders received = start.headers().copy();
        FullHttpMessage aggregated = super.beginAggregation(start, content);
        aggregated.headers().set(received);
        return aggregated;
    }

    @Override
    protected void finishAggregation(FullHttpMessage aggregated) {
        // Deliberately no Content-Length: the headers stay as received.
    }
}
