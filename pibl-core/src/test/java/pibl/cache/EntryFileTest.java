package pibl.cache;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EntryFileTest {
    @TempDir
    Path dir;

    private static EntryFile.Meta meta(String headerValue) {
        Map<String, String> vary = new LinkedHashMap<>();
        vary.put("accept-encoding", "gzip,br");
        vary.put("accept-language", null);
        return new EntryFile.Meta("http://h/p?q=\u00fc", 203, "Non-Authoritative", 11L, 22L,
                List.of(Map.entry("Content-Type", "text/plain"), Map.entry("X-Big", headerValue),
                        Map.entry("Set-Cookie", "a=1"), Map.entry("Set-Cookie", "b=2")), vary);
    }

    @Test
    void headerRoundTripsAndTheBodyStartsAtTheRegionEnd() throws Exception {
        byte[] body = "hello body".getBytes(StandardCharsets.US_ASCII);
        CRC32C crc = new CRC32C();
        crc.update(body);
        byte[] region = EntryFile.seal(EntryFile.encode(meta("v"), 0), body.length, (int) crc.getValue());
        Path file = dir.resolve("f");
        Files.write(file, concat(region, body));

        assertThat(new String(region, 0, 5, StandardCharsets.US_ASCII)).isEqualTo("PIBL1");
        assertThat(region.length).as("one 4 KiB block with room to grow").isEqualTo(4096);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            EntryFile.Header h = EntryFile.read(ch);
            assertThat(h.meta()).isEqualTo(meta("v"));
            assertThat(h.regionLength()).isEqualTo(4096);
            assertThat(h.bodyLength()).isEqualTo(body.length);
            assertThat(EntryFile.bodyCrc(ch, h.regionLength(), h.bodyLength())).isEqualTo(h.bodyCrc());
            ByteBuffer read = ByteBuffer.allocate(body.length);
            ch.read(read, h.regionLength());
            assertThat(read.array()).isEqualTo(body);
        }
    }

    @Test
    void regionsGrowInBlocksAndRefuseWhatDoesNotFit() {
        byte[] big = EntryFile.encode(meta("x".repeat(5000)), 0);
        assertThat(big.length).isEqualTo(8192);
        assertThat(EntryFile.encode(meta("x".repeat(5000)), 4096)).as("too big for a given region").isNull();
        assertThat(EntryFile.encode(meta("x".repeat(EntryFile.MAX_REGION)), 0)).as("headers over 1 MiB").isNull();
    }

    @Test
    void garbageIsRejected() throws Exception {
        Path file = dir.resolve("g");
        Files.write(file, "PIBL1 but then nonsense, nothing like a header at all".getBytes(StandardCharsets.US_ASCII));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            assertThatThrownBy(() -> EntryFile.read(ch)).isInstanceOf(EntryFile.CorruptEntryException.class);
        }
    }

    @Test
    void namesComeFromTheHashOnly() {
        String hash = CacheKey.of("http", "h", "/../../etc/passwd").hash();
        Path p = EntryFile.path(dir, hash, 0x2a);
        assertThat(dir.relativize(p).toString())
                .isEqualTo(hash.substring(0, 2) + "/" + hash.substring(2, 4) + "/" + hash + "-000000000000002a");
        assertThat(EntryFile.parseName(p.getFileName().toString())).isEqualTo(new EntryFile.Name(hash, 42));
        assertThat(EntryFile.parseName("passwd")).isNull();
        assertThat(EntryFile.variantHash(CacheKey.of("http", "h", "/"), Map.of()))
                .as("without Vary the variant is the key").isEqualTo(CacheKey.of("http", "h", "/").hash());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
