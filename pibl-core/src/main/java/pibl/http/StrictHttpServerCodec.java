package pibl.http;

import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * The server-side HTTP/1.1 codec, as Netty's {@code HttpServerCodec} but strict about framing.
 *
 * <p>A request with both {@code Content-Length} and {@code Transfer-Encoding} is the classic
 * request-smuggling vector (RFC 9112 section 6.3, point 3): two hops that disagree on where the
 * body ends see two different requests. Netty's decoder quietly drops the {@code Content-Length};
 * this one marks the message as failed so it is answered 400 and never forwarded. Two different
 * {@code Content-Length} values already fail in Netty's decoder.
 */
public final class StrictHttpServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {

    public StrictHttpServerCodec(int maxInitialLineLength, int maxHeaderSize) {
        super(new StrictRequestDecoder(new HttpDecoderConfig()
                        .setMaxInitialLineLength(maxInitialLineLength)
                        .setMaxHeaderSize(maxHeaderSize)
                        .setMaxChunkSize(64 * 1024)
                        .setAllowDuplicateContentLengths(false)),
                new HttpResponseEncoder());
    }

    /** Thrown into the decoder result of a request whose length is ambiguous. */
    public static final class AmbiguousLengthException extends IllegalArgumentException {
        public AmbiguousLengthException() {
            super("both Content-Length and Transfer-Encoding");
        }
    }

    private static final class StrictRequestDecoder extends HttpRequestDecoder {
        StrictRequestDecoder(HttpDecoderConfig config) {
            super(config);
        }

        @Override
        protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
            throw new AmbiguousLengthException();
        }
    }
}
