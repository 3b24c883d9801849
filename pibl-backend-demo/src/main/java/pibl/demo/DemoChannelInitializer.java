package pibl.demo;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.stream.ChunkedWriteHandler;

/**
 * The pipeline of every accepted connection:
 * <pre>
 *   socket -&gt; HttpServerCodec -&gt; AsReceivedAggregator(10 MiB) -&gt; WebSocket handshake -&gt; WebSocketEcho
 *          -&gt; ChunkedWriteHandler -&gt; ExchangeHandler
 * </pre>
 * The codec parses requests and frames responses (and knows a {@code HEAD} response has no body); the aggregator
 * (an {@code HttpObjectAggregator} that keeps the headers as received) turns each request into one
 * {@code FullHttpRequest}, answering {@code 413} above {@value #MAX_REQUEST_BODY} bytes and {@code 100 Continue}
 * when asked; a WebSocket handshake on {@code /ws} turns the connection into a {@link WebSocketEcho} (Netty then
 * swaps the codec for frame codecs); the chunked writer streams large bodies only while the socket keeps up.
 */
final class DemoChannelInitializer extends ChannelInitializer<Channel> {

    /** The largest request body accepted, e.g. by {@code /echo}. */
    static final int MAX_REQUEST_BODY = 10 * 1024 * 1024;

    private final Instance instance;
    private final Router router;
    private final AccessLog accessLog;
    private final ChannelGroup connections;

    DemoChannelInitializer(Instance instance, Router router, AccessLog accessLog, ChannelGroup connections) {
        this.instance = instance;
        this.router = router;
        this.accessLog = accessLog;
        this.connections = connections;
    }

    @Override
    protected void initChannel(Channel channel) {
        connections.add(channel);
        channel.pipeline()
                .addLast("http", new HttpServerCodec())
                .addLast("aggregator", new AsReceivedAggregator(MAX_REQUEST_BODY))
                .addLast("websocket", WebSocketEcho.protocol())
                .addLast("echo", new WebSocketEcho())
                .addLast("chunked", new ChunkedWriteHandler())
                .addLast("exchange", new ExchangeHandler(instance, router, accessLog));
    }
}
