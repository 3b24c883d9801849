package pibl.cache;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EntryFileTest {
    private static final String KEY = "GET https://example.com/private/report?token=s3cr3t";

    @TempDir
    Path dir;

    // ---- fixtures ----

    private static Map<String, String> vary(String... nameValue) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            m.put(nameValue[i], nameValue[i + 1]);
        }
        return m;
    }

    private static EntryFile.Meta meta(List<Map.Entry<String, String>> headers, Map<String, String> vary) {
        return new EntryFile.Meta(KEY, 200, "OK", 1_700_000_000_123L, 1_700_000_000_456L, headers, vary, 0);
    }

    private static EntryFile.Meta smallMeta() {
        return meta(List.of(Map.entry("content-type", "text/plain; charset=utf-8"), Map.entry("etag", "\"v1\""),
                Map.entry("cache-control", "max-age=60"), Map.entry("x-übersetzt", "grüße")), Map.of());
    }

    private static int crc(byte[] body) {
        CRC32C crc = new CRC32C();
        crc.update(body);
        return (int) crc.getValue();
    }

    /** Writes the sealed region then the body, as the writer does: the file's size is R + body length. */
    private Path write(String name, byte[] region, byte[] body) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, concat(region, body));
        return file;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private Path writeResponse(String name, EntryFile.Meta meta, int version, byte[] body) throws IOException {
        byte[] region = EntryFile.encode(meta, version, 0);
        assertThat(region).isNotNull();
        return write(name, EntryFile.seal(region, body.length, crc(body)), body);
    }

    /** What the store and the loader do: read the first bytes (at most {@code firstRead}), then the header. */
    private static EntryFile.Header read(Path file, int firstRead) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer first = ByteBuffer.allocate((int) Math.min(size, firstRead));
            EntryFile.readFully(ch, first, 0);
            first.flip();
            return EntryFile.read(ch, first, size);
        }
    }

    private static EntryFile.Header read(Path file) throws IOException {
        return read(file, 4096);
    }

    // ---- round trips ----

    @Test
    void responseMetaRoundTrips() throws IOException {
        Map<String, String> vary = vary("accept-encoding", "gzip,br", "accept-language", null, "cookie", "");
        EntryFile.Meta meta = new EntryFile.Meta(KEY, 203, "Non-Authoritative Information", 11L, 22L,
                List.of(Map.entry("vary", "Accept-Encoding, Accept-Language, Cookie"), Map.entry("set", "a"),
                        Map.entry("set", "b"), Map.entry("empty", "")), vary, 0x1_2345_6789L);
        byte[] body = "hello, body".getBytes(StandardCharsets.UTF_8);
        Path file = writeResponse("r", meta, 0xCAFE, body);

        EntryFile.Header h = read(file);

        assertThat(h.kind()).isEqualTo(EntryFile.RESPONSE);
        assertThat(h.version()).isEqualTo(0xCAFE);
        assertThat(h.marker()).isNull();
        assertThat(h.meta()).isEqualTo(meta);
        assertThat(h.meta().headers()).as("repeated names and their order kept")
                .containsExactlyElementsOf(meta.headers());
        assertThat(h.meta().vary().keySet()).as("Vary order kept").containsExactly("accept-encoding",
                "accept-language", "cookie");
        assertThat(h.meta().vary()).as("absent is not empty").containsEntry("accept-language", null)
                .containsEntry("cookie", "");
        assertThat(h.bodyLength()).isEqualTo(body.length);
        assertThat(h.bodyCrc()).isEqualTo(crc(body));
        assertThat(h.metaLength()).isGreaterThan(EntryFile.FIXED);
        assertThat(h.regionLength()).isEqualTo(h.metaLength() + EntryFile.SLACK);
        assertThat(Files.size(file)).isEqualTo(h.regionLength() + body.length);
        byte[] onDisk = Files.readAllBytes(file);
        assertThat(new String(onDisk, h.regionLength(), body.length, StandardCharsets.UTF_8))
                .as("the body starts at R").isEqualTo("hello, body");
    }

    @Test
    void theFixedHeaderIsWhereTheFormatSaysItIs() throws IOException {
        byte[] body = new byte[77];
        byte[] region = EntryFile.seal(EntryFile.encode(smallMeta(), 0x01020304, 0), body.length, 0x0A0B0C0D);
        ByteBuffer b = ByteBuffer.wrap(region);

        assertThat(new String(region, 0, 5, StandardCharsets.US_ASCII)).isEqualTo("PIBL2");
        assertThat(region[5]).isEqualTo((byte) EntryFile.RESPONSE);
        assertThat(b.getInt(6)).as("R").isEqualTo(region.length);
        assertThat(b.getInt(10)).as("M").isEqualTo(region.length - EntryFile.SLACK);
        assertThat(b.getLong(14)).isEqualTo(77);
        assertThat(b.getInt(22)).isEqualTo(0x0A0B0C0D);
        assertThat(b.getInt(30)).isEqualTo(0x01020304);
        assertThat(b.getInt(34)).as("the key's byte length").isEqualTo(KEY.length());
        for (int i = b.getInt(10); i < region.length; i++) {
            assertThat(region[i]).as("padding at %d", i).isZero();
        }
        CRC32C crc = new CRC32C();
        byte[] zeroed = region.clone();
        ByteBuffer.wrap(zeroed).putInt(26, 0);
        crc.update(zeroed, 0, b.getInt(10));
        assertThat(b.getInt(26)).as("CRC32C of [0, M) with itself as zero").isEqualTo((int) crc.getValue());
    }

    @ParameterizedTest
    @ValueSource(ints = {EntryFile.FIXED, 100, 4096, 64 * 1024})
    void aMetaLargerThanTheFirstReadIsReadToItsEnd(int firstRead) throws IOException {
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            headers.add(Map.entry("x-header-" + i, "value " + i + " ".repeat(i % 40) + "end"));
        }
        EntryFile.Meta meta = meta(headers, vary("accept", "text/html"));
        byte[] body = StoreFixture.body(5000, 3);
        Path file = writeResponse("big", meta, 9, body);

        EntryFile.Header h = read(file, firstRead);

        assertThat(h.metaLength()).as("the meta is larger than 4 KiB").isGreaterThan(8 * 1024);
        assertThat(h.meta()).isEqualTo(meta);
        assertThat(h.bodyLength()).isEqualTo(5000);
        try (FileChannel ch = FileChannel.open(file)) {
            assertThat(EntryFile.bodyCrc(ch, h.regionLength(), h.bodyLength())).isEqualTo(crc(body));
        }
    }

    @Test
    void aFirstReadThatAlreadyHoldsTheBodyIsFine() throws IOException {
        byte[] body = StoreFixture.body(128, 4);
        Path file = writeResponse("r", smallMeta(), 1, body);
        EntryFile.Header h = read(file, 64 * 1024);
        assertThat(h.meta()).isEqualTo(smallMeta());
        assertThat(h.bodyLength()).isEqualTo(128);
    }

    @Test
    void markerRoundTrips() throws IOException {
        EntryFile.Marker marker = new EntryFile.Marker(KEY, 42, List.of("accept-encoding", "accept-language"));
        byte[] file = EntryFile.encode(marker, 42);
        assertThat(file).isNotNull();
        Path path = write("m", file, new byte[0]);

        EntryFile.Header h = read(path);

        assertThat(h.kind()).isEqualTo(EntryFile.MARKER);
        assertThat(h.version()).isEqualTo(42);
        assertThat(h.meta()).isNull();
        assertThat(h.marker()).isEqualTo(marker);
        assertThat(h.bodyLength()).as("a marker has no body").isZero();
        assertThat(h.regionLength()).as("no slack: a marker is never rewritten in place").isEqualTo(file.length)
                .isEqualTo(h.metaLength());
        assertThat(read(write("m0", EntryFile.encode(new EntryFile.Marker(KEY, 1, List.of()), 1), new byte[0]))
                .marker().names()).isEmpty();
    }

    @Test
    void aSmallResponseIsUnderOneBlock() throws IOException {
        byte[] body = StoreFixture.body(128, 1);
        byte[] region = EntryFile.encode(smallMeta(), 1, 0);

        assertThat(region.length).as("meta + slack, no rounding up to 4 KiB").isLessThan(1024);
        Path file = write("small", EntryFile.seal(region, body.length, crc(body)), body);
        assertThat(Files.size(file)).isLessThan(4096);
        assertThat(read(file).meta()).isEqualTo(smallMeta());
    }

    @Test
    void encodeInAGivenRegionRefusesAMetaThatDoesNotFit() throws IOException {
        int metaLength = EntryFile.encode(smallMeta(), 1, 0).length - EntryFile.SLACK;

        assertThat(EntryFile.encode(smallMeta(), 1, metaLength - 1)).as("one byte short").isNull();
        byte[] exact = EntryFile.encode(smallMeta(), 1, metaLength);
        assertThat(exact).as("exactly the meta").hasSize(metaLength);
        byte[] roomy = EntryFile.encode(smallMeta(), 1, 3000);
        assertThat(roomy).as("a rewrite in the old file's region").hasSize(3000);

        Path file = write("roomy", EntryFile.seal(roomy, 3, crc(new byte[3])), new byte[3]);
        assertThat(read(file).regionLength()).isEqualTo(3000);
        assertThat(read(file).meta()).isEqualTo(smallMeta());
        assertThat(EntryFile.encode(smallMeta(), 1, EntryFile.MAX_REGION + 1)).as("past MAX_REGION").isNull();
    }

    @Test
    void encodeRefusesAMetaPastMaxRegion() {
        String huge = "v".repeat(EntryFile.MAX_REGION);
        assertThat(EntryFile.encode(meta(List.of(Map.entry("x-huge", huge)), Map.of()), 1, 0)).isNull();
        String almost = "v".repeat(EntryFile.MAX_REGION - EntryFile.SLACK - 200);
        assertThat(EntryFile.encode(meta(List.of(Map.entry("x-huge", almost)), Map.of()), 1, 0))
                .as("fits, with its slack, under MAX_REGION").isNotNull();
        assertThat(EntryFile.encode(new EntryFile.Marker(KEY, 1, List.of(huge)), 1)).isNull();
    }

    // ---- what is rejected ----

    @Test
    void garbageIsRejected() throws IOException {
        Random random = new Random(99);
        for (int size : new int[] {0, 10, EntryFile.FIXED - 1, EntryFile.FIXED, 100, 4096, 10_000}) {
            byte[] junk = new byte[size];
            random.nextBytes(junk);
            Path file = write("junk" + size, junk, new byte[0]);
            assertThatThrownBy(() -> read(file)).as("%d random bytes", size)
                    .isInstanceOf(EntryFile.CorruptEntryException.class);
        }
        Path empty = write("zeros", new byte[4096], new byte[0]);
        assertThatThrownBy(() -> read(empty)).isInstanceOf(EntryFile.CorruptEntryException.class);
    }

    @Test
    void garbageBehindTheMagicIsRejected() throws IOException {
        Random random = new Random(7);
        for (int i = 0; i < 200; i++) {
            byte[] junk = new byte[64 + random.nextInt(2000)];
            random.nextBytes(junk);
            System.arraycopy(EntryFile.MAGIC, 0, junk, 0, 5);
            if (i % 2 == 0) { // plausible lengths too: only the checksum can tell
                ByteBuffer b = ByteBuffer.wrap(junk);
                b.put(5, (byte) (1 + i % 4 / 2));
                b.putInt(6, junk.length);
                b.putInt(10, EntryFile.FIXED + random.nextInt(junk.length - EntryFile.FIXED));
                b.putLong(14, 0);
            }
            Path file = write("junk", junk, new byte[0]);
            assertThatThrownBy(() -> read(file)).as("try %d", i).isInstanceOf(EntryFile.CorruptEntryException.class);
        }
    }

    /**
     * A header whose checksum is right but whose meta is nonsense (a bug, or a collision) still fails as corrupt,
     * never with a runtime exception the caller does not expect.
     */
    @Test
    void aSealedHeaderWithANonsenseMetaIsRejectedAsCorrupt() throws IOException {
        Random random = new Random(13);
        byte[] good = EntryFile.encode(smallMeta(), 1, 0);
        int metaLength = ByteBuffer.wrap(good).getInt(10);
        int parsed = 0;
        for (int i = 0; i < 500; i++) {
            byte[] region = good.clone();
            int from = EntryFile.FIXED + random.nextInt(metaLength - EntryFile.FIXED);
            int n = 1 + random.nextInt(Math.min(8, metaLength - from));
            for (int j = from; j < from + n; j++) {
                region[j] = (byte) random.nextInt();
            }
            if (i % 3 == 0) { // a count or length field set to something large or negative
                ByteBuffer.wrap(region).putInt(EntryFile.FIXED, random.nextBoolean() ? -5 : 1 << 20);
            }
            Path file = write("nonsense", EntryFile.seal(region, 0, 0), new byte[0]);
            try {
                read(file);
                parsed++;
            } catch (EntryFile.CorruptEntryException expected) {
                // fine
            }
        }
        assertThat(parsed).as("some changes only alter a string, and parse").isPositive();
    }

    @Test
    void badMagicIsRejected() throws IOException {
        byte[] region = EntryFile.seal(EntryFile.encode(smallMeta(), 1, 0), 0, 0);
        byte[] old = region.clone();
        old[4] = '1'; // "PIBL1": the previous format
        Path file = write("old", old, new byte[0]);
        assertThatThrownBy(() -> read(file)).isInstanceOf(EntryFile.CorruptEntryException.class)
                .hasMessageContaining("magic");
    }

    @Test
    void aFileOfAnotherSizeThanItsHeaderSaysIsRejected() throws IOException {
        byte[] body = StoreFixture.body(1000, 5);
        Path file = writeResponse("r", smallMeta(), 1, body);
        long size = Files.size(file);
        assertThat(read(file).bodyLength()).isEqualTo(1000);

        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size - 1);
        }
        assertThatThrownBy(() -> read(file)).as("a byte of the body missing")
                .isInstanceOf(EntryFile.CorruptEntryException.class);

        Files.write(file, new byte[2], StandardOpenOption.APPEND);
        assertThatThrownBy(() -> read(file)).as("a byte too many").isInstanceOf(EntryFile.CorruptEntryException.class);

        byte[] region = EntryFile.seal(EntryFile.encode(smallMeta(), 1, 0), 1000, crc(body));
        Path headerOnly = write("h", region, new byte[0]);
        assertThatThrownBy(() -> read(headerOnly)).as("no body at all")
                .isInstanceOf(EntryFile.CorruptEntryException.class);
        Path cut = write("cut", Arrays.copyOf(region, region.length - EntryFile.SLACK - 10), new byte[0]);
        assertThatThrownBy(() -> read(cut)).as("cut inside the meta")
                .isInstanceOf(EntryFile.CorruptEntryException.class);
    }

    /** Every single bit of [0, M) is covered: magic, kind, lengths, body checksum, version, meta. */
    @Test
    void anyFlippedBitInTheHeaderIsRejected() throws IOException {
        byte[] body = StoreFixture.body(200, 6);
        Path file = writeResponse("r", smallMeta(), 77, body);
        int metaLength = read(file).metaLength();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (int offset = 0; offset < metaLength; offset++) {
                ByteBuffer original = ByteBuffer.allocate(1);
                EntryFile.readFully(ch, original, offset);
                for (int bit = 0; bit < 8; bit++) {
                    EntryFile.writeFully(ch, ByteBuffer.wrap(new byte[] {(byte) (original.get(0) ^ (1 << bit))}),
                            offset);
                    int at = offset;
                    int b = bit;
                    assertThatThrownBy(() -> read(file)).as("bit %d of byte %d", b, at)
                            .isInstanceOf(EntryFile.CorruptEntryException.class);
                }
                EntryFile.writeFully(ch, original.flip(), offset);
            }
        }
        assertThat(read(file).meta()).as("restored").isEqualTo(smallMeta());
    }

    @Test
    void aFlippedBitInAMarkerIsRejected() throws IOException {
        byte[] marker = EntryFile.encode(new EntryFile.Marker(KEY, 5, List.of("accept")), 5);
        for (int offset = 0; offset < marker.length; offset++) {
            byte[] bad = marker.clone();
            bad[offset] ^= 0x10;
            Path file = write("m", bad, new byte[0]);
            assertThatThrownBy(() -> read(file)).as("byte %d", offset)
                    .isInstanceOf(EntryFile.CorruptEntryException.class);
        }
    }

    // ---- body checksum ----

    @Test
    void bodyCrcIsTheCrc32cOfTheBodyReadInSteps() throws IOException {
        byte[] body = StoreFixture.body(200_000, 8); // more than one 64 KiB step
        Path file = writeResponse("r", smallMeta(), 1, body);
        EntryFile.Header h = read(file);
        try (FileChannel ch = FileChannel.open(file)) {
            assertThat(EntryFile.bodyCrc(ch, h.regionLength(), h.bodyLength())).isEqualTo(h.bodyCrc())
                    .isEqualTo(crc(body));
            assertThat(EntryFile.bodyCrc(ch, h.regionLength(), 0)).as("empty").isEqualTo(crc(new byte[0]));
        }

        byte[] flipped = body.clone();
        flipped[150_000] ^= 1;
        Path corrupt = write("c", EntryFile.seal(EntryFile.encode(smallMeta(), 1, 0), body.length, crc(body)),
                flipped);
        EntryFile.Header hc = read(corrupt);
        try (FileChannel ch = FileChannel.open(corrupt)) {
            assertThat(EntryFile.bodyCrc(ch, hc.regionLength(), hc.bodyLength()))
                    .as("a body bit flipped: the header is sound, the checksum is not").isNotEqualTo(hc.bodyCrc());
            assertThatThrownBy(() -> EntryFile.bodyCrc(ch, hc.regionLength(), hc.bodyLength() + 10))
                    .as("past the end").isInstanceOf(EntryFile.CorruptEntryException.class);
        }
    }

    // ---- names ----

    @Test
    void pathIsTwoLevelsOfFanOutThenTheDigestAndNothingOfTheKey() {
        Digest d = Digest.of(KEY);
        String hex = d.hex();
        Path p = EntryFile.path(dir, d);

        assertThat(hex).hasSize(24).matches("[0-9a-f]{24}");
        assertThat(dir.relativize(p).toString().replace('\\', '/'))
                .isEqualTo(hex.charAt(0) + "/" + hex.substring(1, 3) + "/" + hex);
        assertThat(EntryFile.directory(dir, d)).isEqualTo(p.getParent());
        assertThat(EntryFile.isFanOut(p.getParent().getFileName().toString(), 2)).isTrue();
        assertThat(EntryFile.isFanOut(p.getParent().getParent().getFileName().toString(), 1)).isTrue();
        String s = dir.relativize(p).toString();
        for (String part : new String[] {"example", "private", "report", "token", "s3cr3t", "GET", "https"}) {
            assertThat(s).as("nothing of the URI in the path").doesNotContainIgnoringCase(part);
        }
    }

    @Test
    void parseNameAcceptsOnlyTwentyFourLowerCaseHexDigits() {
        Digest d = Digest.of(KEY);
        assertThat(EntryFile.parseName(d.hex())).isEqualTo(d);
        assertThat(EntryFile.parseName("0123456789abcdef01234567")).isEqualTo(new Digest(0x0123456789abcdefL,
                0x01234567));
        assertThat(EntryFile.parseName("ffffffffffffffffffffffff")).isEqualTo(new Digest(-1L, -1));

        assertThat(EntryFile.parseName(d.hex().toUpperCase())).as("upper case").isNull();
        assertThat(EntryFile.parseName("0123456789ABCDEF01234567")).isNull();
        assertThat(EntryFile.parseName(d.hex().substring(1))).as("23 digits").isNull();
        assertThat(EntryFile.parseName(d.hex() + "0")).as("25 digits").isNull();
        assertThat(EntryFile.parseName("0123456789abcdef0123456g")).isNull();
        assertThat(EntryFile.parseName("-123456789abcdef01234567")).as("a sign is no digit").isNull();
        assertThat(EntryFile.parseName("+123456789abcdef01234567")).isNull();
        assertThat(EntryFile.parseName("")).isNull();
        assertThat(EntryFile.parseName(EntryFile.tmpPath(dir, d, "1f", 3).getFileName().toString()))
                .as("a temporary file").isNull();
        assertThat(EntryFile.parseName("entries.old")).isNull();
    }

    /**
     * No entry file is ever named with 24 zeros ({@link Digest#of} never returns the all-zero digest), and that is
     * the value {@link CacheIndex} marks an empty slot with: fed to the index it would "find" an empty slot (the
     * loader would skip such a stray file forever; a get would remove an empty slot and lose a real entry).
     */
    @Test
    void parseNameRefusesTheAllZeroNameThatTheIndexTakesForAnEmptySlot() {
        assertThat(EntryFile.parseName("000000000000000000000000"))
                .as("a name this store never makes, and a digest the index cannot hold").isNull();
    }

    @Test
    void tmpPathNamesTheRunAndTheVersionNextToTheFinalFile() {
        Digest d = Digest.of(KEY);
        Path tmp = EntryFile.tmpPath(dir, d, "7a3f01", 0xBEEF);
        String name = tmp.getFileName().toString();

        assertThat(tmp.getParent()).as("same directory: renamed over the final name")
                .isEqualTo(EntryFile.path(dir, d).getParent());
        assertThat(name).isEqualTo(d.hex() + ".7a3f01-beef.tmp");
        assertThat(EntryFile.tmpRun(name)).isEqualTo("7a3f01");
        assertThat(EntryFile.tmpRun(EntryFile.tmpPath(dir, d, "0", -1).getFileName().toString())).isEqualTo("0");
        assertThat(EntryFile.tmpRun(EntryFile.tmpPath(dir, d, Integer.toHexString(Integer.MAX_VALUE), 1)
                .getFileName().toString())).isEqualTo("7fffffff");

        assertThat(EntryFile.tmpRun(d.hex())).as("a final name").isNull();
        assertThat(EntryFile.tmpRun(d.hex() + ".tmp")).as("no run").isNull();
        assertThat(EntryFile.tmpRun(d.hex() + ".7a3f01.tmp")).as("no version").isNull();
        assertThat(EntryFile.tmpRun("x.1-2.tmp")).isNull();
        assertThat(EntryFile.tmpRun(d.hex() + "x7a3f01-1.tmp")).isNull();
    }

    @Test
    void variantDigestsDifferPerVaryValuesAndGenerationButShareTheKeysFirstByte() {
        Digest primary = Digest.of(KEY);
        Set<Digest> seen = new HashSet<>();
        List<Map<String, String>> varies = List.of(vary("accept-encoding", "gzip"), vary("accept-encoding", "br"),
                vary("accept-encoding", ""), vary("accept-encoding", null), vary("accept-language", "gzip"),
                vary("accept-encoding", "gzip", "accept-language", "de"),
                vary("accept-encoding", "gzip", "accept-language", null), vary());
        for (long generation : new long[] {1, 2, 1L << 33}) {
            for (Map<String, String> v : varies) {
                Digest d = EntryFile.variantDigest(primary, KEY, generation, v);
                assertThat(seen.add(d)).as("generation %d, %s: a digest of its own", generation, v).isTrue();
                assertThat(d).isNotEqualTo(primary);
                assertThat(d.firstByte()).as("same disk thread, index segment and first-level directory")
                        .isEqualTo(primary.firstByte());
                assertThat(d.hi() >>> 58).isEqualTo(primary.hi() >>> 58);
                assertThat(EntryFile.path(dir, d).getParent().getParent())
                        .isEqualTo(EntryFile.path(dir, primary).getParent().getParent());
                assertThat(EntryFile.variantDigest(primary, KEY, generation, new LinkedHashMap<>(v)))
                        .as("the same inputs, the same digest").isEqualTo(d);
            }
        }
        assertThat(EntryFile.variantDigest(Digest.of("GET http://other/"), KEY, 1, vary("accept-encoding", "gzip"))
                .firstByte()).isEqualTo(Digest.of("GET http://other/").firstByte());
    }
}
