package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.FileRegion;
import io.netty.util.ReferenceCounted;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import pibl.testing.NoLeaks;

import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link StoredBody#part}: a range of a stored body, from memory or from its file, with one owner at a time. */
@ExtendWith(NoLeaks.class)
class StoredBodyTest {
    @TempDir
    Path dir;

    @Test
    void aPartOfAMemoryBodyIsASliceThatOwnsTheBuffer() {
        ByteBuf body = Unpooled.directBuffer().writeBytes("0123456789".getBytes(StandardCharsets.US_ASCII));
        ByteBuf part = (ByteBuf) StoredBody.part(body.retainedDuplicate(), 3, 4);
        assertThat(part.toString(StandardCharsets.US_ASCII)).isEqualTo("3456");
        assertThat(body.refCnt()).as("the part holds the buffer; the duplicate it came from is released").isEqualTo(2);
        part.release();
        assertThat(body.refCnt()).isEqualTo(1);
        body.release();
    }

    @Test
    void aPartOfAFileRegionSendsOnlyItsBytesAndClosesTheFileOnce() throws Exception {
        Path file = dir.resolve("entry");
        Files.writeString(file, "HEADER|0123456789");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        StoredBody.Region whole = new StoredBody.Region(ch, 7, 10); // the body after a 7-byte header
        FileRegion part = (FileRegion) StoredBody.part(whole, 2, 5);
        assertThat(whole.refCnt()).as("the whole region is released").isZero();
        assertThat(ch.isOpen()).as("its channel now belongs to the part").isTrue();
        assertThat(part.position()).isEqualTo(9);
        assertThat(part.count()).isEqualTo(5);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (WritableByteChannel target = Channels.newChannel(out)) {
            while (part.transferred() < part.count()) {
                part.transferTo(target, part.transferred());
            }
        }
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("23456");
        part.release();
        assertThat(ch.isOpen()).as("released, the part closes the file").isFalse();
    }

    @Test
    void aPartBeyondTheBodyIsRefused() throws Exception {
        Path file = dir.resolve("entry");
        Files.writeString(file, "0123456789");
        StoredBody.Region whole = new StoredBody.Region(FileChannel.open(file, StandardOpenOption.READ), 0, 10);
        assertThatThrownBy(() -> StoredBody.part(whole, 8, 3)).isInstanceOf(IndexOutOfBoundsException.class);
        whole.release();
    }

    @Test
    void onlyStoredBodiesHaveParts() {
        ReferenceCounted other = new io.netty.util.AbstractReferenceCounted() {
            @Override
            protected void deallocate() {
            }

            @Override
            public ReferenceCounted touch(Object hint) {
                return this;
            }
        };
        assertThatThrownBy(() -> StoredBody.part(other, 0, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
