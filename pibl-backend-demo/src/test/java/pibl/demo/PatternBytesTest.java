package pibl.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PatternBytesTest {

    @Test
    void bytesFollowTheDocumentedFormula() {
        assertThat(new int[] {PatternBytes.byteAt(0), PatternBytes.byteAt(1), PatternBytes.byteAt(2),
                PatternBytes.byteAt(255), PatternBytes.byteAt(256), PatternBytes.byteAt(1L << 32)})
                .as("byte(i) = (i * 31 + 7) & 0xff, repeating every 256 bytes")
                .containsExactly(0x07, 0x26, 0x45, (255 * 31 + 7) & 0xff, 0x07, 0x07);
    }

    @Test
    void chunksConcatenateToExactlyTheRequestedBytes() throws Exception {
        long length = 3L * PatternBytes.CHUNK_SIZE + 1000;
        PatternBytes input = new PatternBytes(length);
        long position = 0;
        int chunks = 0;
        for (ByteBuf chunk; (chunk = input.readChunk(ByteBufAllocator.DEFAULT)) != null; chunks++) {
            try {
                assertThat(chunk.readableBytes()).isLessThanOrEqualTo(PatternBytes.CHUNK_SIZE);
                byte[] bytes = new byte[chunk.readableBytes()];
                chunk.readBytes(bytes);
                assertThat(bytes).as("chunk %d", chunks).isEqualTo(Patterns.expected(position, bytes.length));
                position += bytes.length;
            } finally {
                chunk.release();
            }
        }
        assertThat(position).isEqualTo(length);
        assertThat(chunks).isEqualTo(4);
        assertThat(input.isEndOfInput()).isTrue();
        assertThat(input.progress()).isEqualTo(length);
        input.close();
    }

    @Test
    void anEmptyBodyHasNoChunks() throws Exception {
        PatternBytes input = new PatternBytes(0);
        assertThat(input.isEndOfInput()).isTrue();
        assertThat(input.readChunk(ByteBufAllocator.DEFAULT)).isNull();
    }

    @Test
    void negativeLengthsAreRejected() {
        assertThatThrownBy(() -> new PatternBytes(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
