package pibl.cache;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The on-disk format of one stored response, and where its file lives.
 *
 * <pre>
 * offset size
 *  0      5   magic "PIBL1"
 *  5      1   flags, 0
 *  6      4   region length R: the body starts at offset R (a multiple of 4 KiB)
 * 10      4   meta length M: bytes of [0, M) in use; [M, R) is zero padding, room to rewrite grown headers in place
 * 14      8   body length
 * 22      4   CRC32C of the body
 * 26      4   CRC32C of bytes [0, M), computed with these 4 bytes as zero
 * 30          key (str), status (int), reason (str), request time, response time (epoch millis, long),
 *             header count (int) then name (str), value (str) per line,
 *             vary count (int) then name (str), present (byte), value (str, when present)
 *  R          body
 * </pre>
 * Integers are big-endian; a str is an int byte length and UTF-8 bytes. Files live at
 * {@code <dir>/ab/cd/<hash>-<version>} where hash is the variant's SHA-256 in hex ({@code ab}, {@code cd} its first
 * two bytes) and version a 16-digit hex number unique to this write, so a replaced version never shares a file
 * name with its successor. Nothing of the URI ever reaches a path.
 */
final class EntryFile {
    static final byte[] MAGIC = "PIBL1".getBytes(StandardCharsets.US_ASCII);
    static final int FIXED = 30;
    static final int ALIGN = 4096;
    /** Room left in the region for headers that grow on a 304 refresh. */
    static final int SLACK = 1024;
    static final int MAX_REGION = 1 << 20;
    static final String TMP_DIR = "tmp";
    static final String TMP_SUFFIX = ".tmp";
    private static final Pattern NAME = Pattern.compile("([0-9a-f]{64})-([0-9a-f]{16})");
    private static final Pattern FAN = Pattern.compile("[0-9a-f]{2}");

    private EntryFile() {
    }

    /** The metadata of a file: everything but the body. */
    record Meta(String key, int status, String reason, long requestTime, long responseTime,
                List<Map.Entry<String, String>> headers, Map<String, String> vary) {
    }

    /** A decoded header: the metadata, where the body is, and the body's checksum. */
    record Header(Meta meta, int regionLength, int metaLength, long bodyLength, int bodyCrc) {
    }

    // ---- names ----

    static Path path(Path dir, String variantHash, long version) {
        return dir.resolve(variantHash.substring(0, 2)).resolve(variantHash.substring(2, 4))
                .resolve(variantHash + "-" + String.format("%016x", version));
    }

    static Path tmpPath(Path dir, String variantHash, long version) {
        return dir.resolve(TMP_DIR).resolve(variantHash + "-" + String.format("%016x", version) + TMP_SUFFIX);
    }

    /** The parts of an entry file name {@code <hash>-<version>}. */
    record Name(String hash, long version) {
    }

    /** The parts of a file name, or null for names this store did not make. */
    static Name parseName(String fileName) {
        Matcher m = NAME.matcher(fileName);
        return m.matches() ? new Name(m.group(1), Long.parseUnsignedLong(m.group(2), 16)) : null;
    }

    static boolean isFanOutDir(String name) {
        return FAN.matcher(name).matches();
    }

    /** The variant's hash: the key's own hash without Vary, else the hash of the key and its vary values. */
    static String variantHash(CacheKey key, Map<String, String> vary) {
        return vary.isEmpty() ? key.hash() : variantHash(key.text(), vary);
    }

    static String variantHash(String keyText, Map<String, String> vary) {
        if (vary.isEmpty()) {
            return CacheKey.sha256Hex(keyText);
        }
        StringBuilder sb = new StringBuilder(keyText);
        for (Map.Entry<String, String> e : vary.entrySet()) {
            sb.append('\0').append(e.getKey()).append(e.getValue() == null ? "\1" : "=" + e.getValue());
        }
        return CacheKey.sha256Hex(sb.toString());
    }

    // ---- encoding ----

    /**
     * The header region with placeholders for body length and checksums; {@code regionLength} 0 picks the size
     * (meta + slack rounded up to 4 KiB). Null if the meta does not fit {@code regionLength}.
     */
    static byte[] encode(Meta meta, int regionLength) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.write(MAGIC);
            out.writeByte(0);
            out.writeInt(0);
            out.writeInt(0);
            out.writeLong(0);
            out.writeInt(0);
            out.writeInt(0);
            str(out, meta.key());
            out.writeInt(meta.status());
            str(out, meta.reason());
            out.writeLong(meta.requestTime());
            out.writeLong(meta.responseTime());
            out.writeInt(meta.headers().size());
            for (Map.Entry<String, String> h : meta.headers()) {
                str(out, h.getKey());
                str(out, h.getValue());
            }
            out.writeInt(meta.vary().size());
            for (Map.Entry<String, String> v : meta.vary().entrySet()) {
                str(out, v.getKey());
                out.writeByte(v.getValue() == null ? 0 : 1);
                if (v.getValue() != null) {
                    str(out, v.getValue());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("in-memory stream", e);
        }
        int metaLength = bytes.size();
        int region = regionLength > 0 ? regionLength : (metaLength + SLACK + ALIGN - 1) / ALIGN * ALIGN;
        if (metaLength > region || region > MAX_REGION) {
            return null;
        }
        byte[] out = new byte[region];
        System.arraycopy(bytes.toByteArray(), 0, out, 0, metaLength);
        ByteBuffer b = ByteBuffer.wrap(out);
        b.putInt(6, region);
        b.putInt(10, metaLength);
        return out;
    }

    /** Fills in body length and checksum, then the header checksum. */
    static byte[] seal(byte[] region, long bodyLength, int bodyCrc) {
        ByteBuffer b = ByteBuffer.wrap(region);
        b.putLong(14, bodyLength);
        b.putInt(22, bodyCrc);
        b.putInt(26, 0);
        CRC32C crc = new CRC32C();
        crc.update(region, 0, b.getInt(10));
        b.putInt(26, (int) crc.getValue());
        return region;
    }

    private static void str(DataOutputStream out, String s) throws IOException {
        byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    // ---- decoding ----

    /** Reads and checks the header of a file; throws {@link CorruptEntryException} when it is not sound. */
    static Header read(FileChannel ch) throws IOException {
        ByteBuffer fixed = ByteBuffer.allocate(FIXED);
        readFully(ch, fixed, 0);
        fixed.flip();
        byte[] magic = new byte[MAGIC.length];
        fixed.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new CorruptEntryException("bad magic");
        }
        int region = fixed.getInt(6);
        int metaLength = fixed.getInt(10);
        long bodyLength = fixed.getLong(14);
        int bodyCrc = fixed.getInt(22);
        int metaCrc = fixed.getInt(26);
        if (region < FIXED || region > MAX_REGION || metaLength < FIXED || metaLength > region || bodyLength < 0) {
            throw new CorruptEntryException("bad lengths");
        }
        if (ch.size() != region + bodyLength) {
            throw new CorruptEntryException("file is " + ch.size() + " bytes, header says " + (region + bodyLength));
        }
        ByteBuffer meta = ByteBuffer.allocate(metaLength);
        readFully(ch, meta, 0);
        byte[] m = meta.array();
        ByteBuffer.wrap(m).putInt(26, 0);
        CRC32C crc = new CRC32C();
        crc.update(m, 0, metaLength);
        if ((int) crc.getValue() != metaCrc) {
            throw new CorruptEntryException("header checksum mismatch");
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(m, FIXED, metaLength - FIXED);
            String key = str(b);
            int status = b.getInt();
            String reason = str(b);
            long requestTime = b.getLong();
            long responseTime = b.getLong();
            int headerCount = count(b);
            List<Map.Entry<String, String>> headers = new ArrayList<>(headerCount);
            for (int i = 0; i < headerCount; i++) {
                headers.add(Map.entry(str(b), str(b)));
            }
            int varyCount = count(b);
            Map<String, String> vary = new LinkedHashMap<>();
            for (int i = 0; i < varyCount; i++) {
                String name = str(b);
                vary.put(name, b.get() == 0 ? null : str(b));
            }
            Meta decoded = new Meta(key, status, reason, requestTime, responseTime, headers,
                    Collections.unmodifiableMap(vary));
            return new Header(decoded, region, metaLength, bodyLength, bodyCrc);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new CorruptEntryException("truncated header");
        }
    }

    /** CRC32C of {@code length} bytes from {@code offset}, read in 64 KiB steps. */
    static int bodyCrc(FileChannel ch, long offset, long length) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            buf.clear();
            buf.limit((int) Math.min(buf.capacity(), end - pos));
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new CorruptEntryException("body shorter than its header says");
            }
            buf.flip();
            crc.update(buf);
            pos += n;
        }
        return (int) crc.getValue();
    }

    private static int count(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("bad count");
        }
        return n;
    }

    private static String str(ByteBuffer b) {
        int n = count(b);
        String s = new String(b.array(), b.arrayOffset() + b.position(), n, StandardCharsets.UTF_8);
        b.position(b.position() + n);
        return s;
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new CorruptEntryException("truncated");
            }
            pos += n;
        }
    }

    static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            pos += ch.write(buf, pos);
        }
    }

    /** A file that is not a sound entry: deleted at start. */
    static final class CorruptEntryException extends IOException {
        private static final long serialVersionUID = 1L;

        CorruptEntryException(String message) {
            super(message);
        }
    }
}
