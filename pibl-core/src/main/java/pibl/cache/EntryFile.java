package pibl.cache;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The on-disk format of one stored response or Vary marker, and where its file lives.
 *
 * <pre>
 * offset size
 *  0      5   magic "PIBL2"
 *  5      1   kind: 1 a response, 2 a Vary marker
 *  6      4   region length R: the body starts at offset R
 * 10      4   meta length M: bytes of [0, M) in use; [M, R) is zero padding, room to rewrite grown headers in place
 * 14      8   body length (0 for a marker)
 * 22      4   CRC32C of the body
 * 26      4   CRC32C of bytes [0, M), computed with these 4 bytes as zero
 * 30      4   version: unique to this write of the file
 * 34          a response: key (str), status (int), reason (str), request time, response time (epoch millis, long),
 *               header count (int) then name (str), value (str) per line,
 *               vary count (int) then name (str), present (byte), value (str, when present),
 *               generation (long: the marker's version for a variant, else 0)
 *             a marker:   key (str), generation (long), name count (int) then name (str) per Vary name
 *  R          body
 * </pre>
 * Integers are big-endian; a str is an int byte length and UTF-8 bytes. A file lives at
 * {@code <dir>/<h0>/<h1h2>/<digest>} where the digest is the 24 hex digits of its {@link Digest} and h0, h1, h2
 * its first three: 4096 directories, as nginx's {@code levels=1:2}. Nothing of the URI ever reaches a path. A file
 * being written is {@code <digest>.<version>.tmp} in the same directory, renamed over the final name when complete.
 * The region leaves {@link #SLACK} bytes for headers that grow on a 304 refresh, and no more: a small response is
 * one 4 KiB block on disk.
 */
final class EntryFile {
    static final byte[] MAGIC = "PIBL2".getBytes(StandardCharsets.US_ASCII);
    static final int RESPONSE = 1;
    static final int MARKER = 2;
    static final int FIXED = 34;
    /** Room left in the region for headers that grow on a 304 refresh. */
    static final int SLACK = 256;
    static final int MAX_REGION = 1 << 20;
    static final String TMP_SUFFIX = ".tmp";

    private EntryFile() {
    }

    /** The metadata of a stored response: everything but the body. */
    record Meta(String key, int status, String reason, long requestTime, long responseTime,
                List<Map.Entry<String, String>> headers, Map<String, String> vary, long generation) {
    }

    /** A Vary marker: the key's responses vary by {@code names}; its variants carry {@code generation}. */
    record Marker(String key, long generation, List<String> names) {
    }

    /** A decoded header: a response's meta or a marker, where the body is, and the body's checksum. */
    record Header(int kind, int version, Meta meta, Marker marker, int regionLength, int metaLength, long bodyLength,
                  int bodyCrc) {
    }

    // ---- names ----

    static Path directory(Path dir, Digest d) {
        String hex = d.hex();
        return dir.resolve(hex.substring(0, 1)).resolve(hex.substring(1, 3));
    }

    static Path path(Path dir, Digest d) {
        return directory(dir, d).resolve(d.hex());
    }

    /** {@code <digest>.<run>-<version>.tmp}: the run names the process, so the loader spares a live one's files. */
    static Path tmpPath(Path dir, Digest d, String run, int version) {
        return directory(dir, d).resolve(d.hex() + "." + run + "-" + Integer.toHexString(version) + TMP_SUFFIX);
    }

    /** The run that wrote a temporary file, or null for other names. */
    static String tmpRun(String fileName) {
        if (!fileName.endsWith(TMP_SUFFIX) || fileName.length() < 26 || fileName.charAt(24) != '.') {
            return null;
        }
        int dash = fileName.indexOf('-', 25);
        return dash < 0 ? null : fileName.substring(25, dash);
    }

    /** Is {@code name} a first-level ({@code 0}..{@code f}) or second-level ({@code 00}..{@code ff}) directory? */
    static boolean isFanOut(String name, int level) {
        if (name.length() != level) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    /** The digest a file is named after, or null for names this store did not make (all zeros: never a digest). */
    static Digest parseName(String fileName) {
        Digest d = Digest.parse(fileName);
        return d == null || (d.hi() == 0 && d.lo() == 0) ? null : d;
    }

    /** The digest of a key's variant: the key, the marker's generation and the request's Vary values. */
    static Digest variantDigest(Digest primary, String keyText, long generation, Map<String, String> vary) {
        StringBuilder sb = new StringBuilder(keyText.length() + 64).append(keyText).append('\0').append(generation);
        for (Map.Entry<String, String> e : vary.entrySet()) {
            sb.append('\0').append(e.getKey()).append(e.getValue() == null ? "\1" : "=" + e.getValue());
        }
        return Digest.of(sb.toString()).withFirstByteOf(primary);
    }

    // ---- encoding ----

    /**
     * A response's header region with placeholders for body length and checksums; {@code regionLength} 0 picks the
     * size (meta + slack). Null if the meta does not fit {@code regionLength}.
     */
    static byte[] encode(Meta meta, int version, int regionLength) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
        try (DataOutputStream out = start(bytes, RESPONSE, version)) {
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
            out.writeLong(meta.generation());
        } catch (IOException e) {
            throw new IllegalStateException("in-memory stream", e);
        }
        return region(bytes, regionLength > 0 ? regionLength : bytes.size() + SLACK);
    }

    /** A marker's whole file (it has no body), sealed. */
    static byte[] encode(Marker marker, int version) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = start(bytes, MARKER, version)) {
            str(out, marker.key());
            out.writeLong(marker.generation());
            out.writeInt(marker.names().size());
            for (String n : marker.names()) {
                str(out, n);
            }
        } catch (IOException e) {
            throw new IllegalStateException("in-memory stream", e);
        }
        byte[] region = region(bytes, bytes.size());
        return region == null ? null : seal(region, 0, 0);
    }

    private static DataOutputStream start(ByteArrayOutputStream bytes, int kind, int version) throws IOException {
        DataOutputStream out = new DataOutputStream(bytes);
        out.write(MAGIC);
        out.writeByte(kind);
        out.writeInt(0);
        out.writeInt(0);
        out.writeLong(0);
        out.writeInt(0);
        out.writeInt(0);
        out.writeInt(version);
        return out;
    }

    private static byte[] region(ByteArrayOutputStream bytes, int region) {
        int metaLength = bytes.size();
        if (metaLength > region || region > MAX_REGION) {
            return null;
        }
        byte[] out = Arrays.copyOf(bytes.toByteArray(), region);
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

    /**
     * Reads and checks the header of a file, {@code first} holding its first bytes (at least {@link #FIXED}, read
     * by the caller, who may have read the body with them); reads what is missing of the meta. Throws
     * {@link CorruptEntryException} when the file is not sound: bad magic or lengths, a size other than
     * {@code R + body length} (truncated), or a header checksum mismatch. The body checksum is the caller's.
     */
    static Header read(FileChannel ch, ByteBuffer first, long fileSize) throws IOException {
        if (first.remaining() < FIXED) {
            throw new CorruptEntryException("shorter than a header");
        }
        int p = first.position();
        byte[] magic = new byte[MAGIC.length];
        first.get(p, magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new CorruptEntryException("bad magic");
        }
        int kind = first.get(p + 5);
        int region = first.getInt(p + 6);
        int metaLength = first.getInt(p + 10);
        long bodyLength = first.getLong(p + 14);
        int bodyCrc = first.getInt(p + 22);
        int metaCrc = first.getInt(p + 26);
        int version = first.getInt(p + 30);
        if ((kind != RESPONSE && kind != MARKER) || region < FIXED || region > MAX_REGION || metaLength < FIXED
                || metaLength > region || bodyLength < 0) {
            throw new CorruptEntryException("bad lengths");
        }
        if (fileSize != region + bodyLength) {
            throw new CorruptEntryException("file is " + fileSize + " bytes, header says " + (region + bodyLength));
        }
        byte[] m = new byte[metaLength];
        int have = Math.min(metaLength, first.remaining());
        first.get(p, m, 0, have);
        if (have < metaLength) {
            readFully(ch, ByteBuffer.wrap(m, have, metaLength - have), have);
        }
        ByteBuffer.wrap(m).putInt(26, 0);
        CRC32C crc = new CRC32C();
        crc.update(m, 0, metaLength);
        if ((int) crc.getValue() != metaCrc) {
            throw new CorruptEntryException("header checksum mismatch");
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(m, FIXED, metaLength - FIXED);
            if (kind == MARKER) {
                String key = str(b);
                long generation = b.getLong();
                int n = count(b);
                List<String> names = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    names.add(str(b));
                }
                return new Header(kind, version, null, new Marker(key, generation, List.copyOf(names)), region,
                        metaLength, 0, 0);
            }
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
            long generation = b.getLong();
            Meta decoded = new Meta(key, status, reason, requestTime, responseTime, headers,
                    Collections.unmodifiableMap(vary), generation);
            return new Header(kind, version, decoded, null, region, metaLength, bodyLength, bodyCrc);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new CorruptEntryException("truncated header");
        }
    }

    /** CRC32C of {@code length} bytes from {@code offset}, read in 64 KiB steps. */
    static int bodyCrc(FileChannel ch, long offset, long length) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect((int) Math.min(64 * 1024, Math.max(1, length)));
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

    static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
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

    /** A new file at {@code target}, or null if one is there already. */
    static FileChannel createIfAbsent(Path target) throws IOException {
        try {
            return create(target);
        } catch (FileAlreadyExistsException exists) {
            return null;
        }
    }

    /** A new file (a temporary one, or a key's first); its directory is created on first use. */
    static FileChannel create(Path tmp) throws IOException {
        try {
            return FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (NoSuchFileException missingDir) {
            Files.createDirectories(tmp.getParent());
            return FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }
    }

    /** A file that is not a sound entry: removed, never served. */
    static final class CorruptEntryException extends IOException {
        private static final long serialVersionUID = 1L;

        CorruptEntryException(String message) {
            super(message);
        }
    }
}
