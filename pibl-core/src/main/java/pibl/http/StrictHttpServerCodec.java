package pibl.http;

import io.netty.buffer.ByteBuf;
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
 */
public final class StrictHttpServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {

    public StrictHttpServerCodec(int maxInitialLineLength, int maxHeaderSize) {
        this(new ArrayDeque<>(4), maxInitialLineLength, maxHeaderSize);
    }

    private StrictHttpServerCodec(Queue<HttpMethod> methods, int maxInitialLineLength, int maxHeaderSize) {
        super(new StrictRequestDecoder(methods, new HttpDecoderConfig()
                        .setMaxInitialLineLength(maxInitialLineLength)
                        .setMaxHeaderSize(maxHeaderSize)
                        .setMaxChunkSize(64 * 1024)
                        .setAllowDuplicateContentLengths(false)),
                new MethodAwareEncoder(methods));
    }

    /**
     * Knows which request each response answers, as {@code HttpServerCodec}'s encoder does: a
     * response to HEAD never carries a body on the wire, whoever wrote it (a backend, the cache, or
     * an error page), so the next response on the connection is never corrupted.
     */
    private static final class MethodAwareEncoder extends HttpResponseEncoder {
        private final Queue<HttpMethod> methods;

        MethodAwareEncoder(Queue<HttpMethod> methods) {
            this.methods = methods;
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // 100 Continue: the final response is still to come
            }
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

        StrictRequestDecoder(Queue<HttpMethod> methods, HttpDecoderConfig config) {
            super(config);
            this.methods = methods;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            int before = out.size();
            super.decode(ctx, buffer, out);
            for (int i = before; i < out.size(); i++) {
                if (out.get(i) instanceof HttpRequest request) {
                    methods.add(request.method());
                }
            }
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
