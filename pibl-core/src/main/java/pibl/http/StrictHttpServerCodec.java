package pibl.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;

/**
 * The server-side HTTP/1.1 codec, as Netty's {@code HttpServerCodec} but strict about framing.
 *
 * <p>A request with both {@code Content-Length} and {@code Transfer-Encoding} is the classic
 * request-smuggling vector (RFC 9112 section 6.3, point 3): two hops that disagree on where the
 * body ends see two different requests. Netty's decoder quietly drops the {@code Content-Length};
 * this one marks the message as failed so it is answered 400 and never forwarded. Two different
 * {@code Content-Length} values already fail in Netty's decoder. The request line is held to
 * {@link RequestLine}: a malformed one fails the message (400), an HTTP-version of another major (505).
 *
 * <p>After a WebSocket handshake ({@link Upgrades#isWebSocket}) the decoder holds whatever follows it unparsed,
 * and stops reading once it holds anything: those bytes are frames if the backend answers {@code 101} (they go
 * to the tunnel when this codec is removed, as {@code ByteToMessageDecoder} passes on what it holds), and the next
 * request otherwise (parsed once the final response to the handshake is written).
 */
public final class StrictHttpServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {

    public StrictHttpServerCodec(int maxInitialLineLength, int maxHeaderSize) {
        Queue<HttpMethod> methods = new ArrayDeque<>(4);
        StrictRequestDecoder decoder = new StrictRequestDecoder(methods, new HttpDecoderConfig()
                .setMaxInitialLineLength(maxInitialLineLength)
                .setMaxHeaderSize(maxHeaderSize)
                .setMaxChunkSize(64 * 1024)
                .setAllowDuplicateContentLengths(false));
        init(decoder, new MethodAwareEncoder(methods, decoder));
    }

    /**
     * Knows which request each response answers, as {@code HttpServerCodec}'s encoder does: a
     * response to HEAD never carries a body on the wire, whoever wrote it (a backend, the cache, or
     * an error page), so the next response on the connection is never corrupted.
     */
    private static final class MethodAwareEncoder extends HttpResponseEncoder {
        private final Queue<HttpMethod> methods;
        private final StrictRequestDecoder decoder;

        MethodAwareEncoder(Queue<HttpMethod> methods, StrictRequestDecoder decoder) {
            this.methods = methods;
            this.decoder = decoder;
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // 100 Continue: the final response is still to come
            }
            decoder.answered(); // the final answer to a handshake: no tunnel, what follows is HTTP again
            HttpMethod method = methods.poll();
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }
    }

    /** Thrown into the decoder result of a request whose length is ambiguous. */
    public static final class AmbiguousLengthException extends IllegalArgumentException {
        public AmbiguousLengthException() {
            super("both Content-Length and Transfer-Encoding");
        }
    }

    private static final class StrictRequestDecoder extends HttpRequestDecoder {
        private final Queue<HttpMethod> methods;
        private ChannelHandlerContext ctx;
        /** A WebSocket handshake was decoded: what follows is held, unparsed, until it is answered. */
        private boolean holding;
        /** While holding, the final responses still to go out until the handshake's (it may be pipelined). */
        private int answersToHandshake;

        StrictRequestDecoder(Queue<HttpMethod> methods, HttpDecoderConfig config) {
            super(config);
            this.methods = methods;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
            this.ctx = ctx;
            super.handlerAdded(ctx);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            if (holding) {
                if (buffer.isReadable()) {
                    ctx.channel().config().setAutoRead(false); // held bytes stay bounded by one read
                }
                return;
            }
            int before = out.size();
            super.decode(ctx, buffer, out);
            for (int i = before; i < out.size(); i++) {
                if (out.get(i) instanceof HttpRequest request) {
                    methods.add(request.method());
                    if (request.decoderResult().isSuccess() && Upgrades.isWebSocket(request)) {
                        holding = true;
                        answersToHandshake = methods.size(); // those before it are answered first, in order
                    }
                }
            }
        }

        /** While holding, no read is asked for on a read that decoded nothing (the decoder's default). */
        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
            if (holding) {
                discardSomeReadBytes();
                ctx.fireChannelReadComplete();
                return;
            }
            super.channelReadComplete(ctx);
        }

        /**
         * A final response went out; if it answers the handshake, parse what was held, from the event loop's next
         * turn.
         */
        void answered() {
            if (!holding || --answersToHandshake > 0) {
                return;
            }
            holding = false;
            ChannelHandlerContext c = ctx;
            if (c == null || internalBuffer() == null || !internalBuffer().isReadable()) {
                return;
            }
            c.executor().execute(() -> {
                if (c.isRemoved()) {
                    return;
                }
                try {
                    channelRead(c, Unpooled.EMPTY_BUFFER);
                    channelReadComplete(c);
                } catch (Exception e) {
                    c.fireExceptionCaught(e);
                }
            });
        }

        /** The request line as {@link RequestLine} allows it; Netty's own parse is more lenient. */
        @Override
        protected HttpMessage createMessage(String[] initialLine) throws Exception {
            HttpVersion version = RequestLine.version(initialLine[2]);
            RequestLine.checkTarget(initialLine[0], initialLine[1]);
            return super.createMessage(new String[] {initialLine[0], initialLine[1], version.text()});
        }

        @Override
        protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
            throw new AmbiguousLengthException();
        }
    }
}
