package pibl.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * 96 bits of the SHA-256 of a cache key (or of a key and its Vary values): what the index holds, what entry files
 * are named after ({@link #hex()}, 24 hex digits), and what picks the file's directory, the index segment and the
 * disk thread. A collision is as unlikely as guessing a 96-bit number, and harmless when it happens: every entry
 * file carries its full key, which is compared before anything is served.
 *
 * <p>The variants of one key share their first byte with the key's own digest ({@link #withFirstByteOf}), so
 * their files and their disk thread are those of the key: a key and its variants are written, deleted and loaded
 * in one order.
 */
record Digest(long hi, int lo) {

    /** One per thread: a lookup digests its key on the event loop, and this keeps that free of garbage. */
    private static final VarHandle BIG_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle BIG_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final ThreadLocal<Hasher> HASHER = ThreadLocal.withInitial(Hasher::new);

    static Digest of(String text) {
        return HASHER.get().digest(text);
    }

    /** This digest with {@code primary}'s first byte: a variant's digest, next to its key's. */
    Digest withFirstByteOf(Digest primary) {
        return nonZero((hi & 0x00FF_FFFF_FFFF_FFFFL) | (primary.hi & 0xFF00_0000_0000_0000L), lo);
    }

    /** The all-zero digest marks an empty index slot: a real one is never zero. */
    private static Digest nonZero(long hi, int lo) {
        return hi == 0 && lo == 0 ? new Digest(0, 1) : new Digest(hi, lo);
    }

    /** The first byte, 0..255: which directory, segment and disk thread. */
    int firstByte() {
        return (int) (hi >>> 56);
    }

    /** 24 lower-case hex digits. */
    String hex() {
        return HexFormat.of().toHexDigits(hi) + HexFormat.of().toHexDigits(lo);
    }

    /** The digest named by 24 hex digits, or null. */
    static Digest parse(String hex) {
        if (hex.length() != 24) {
            return null;
        }
        for (int i = 0; i < 24; i++) {
            char c = hex.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return null;
            }
        }
        return new Digest(HexFormat.fromHexDigitsToLong(hex, 0, 16), HexFormat.fromHexDigits(hex, 16, 24));
    }

    static byte[] sha256(String text) {
        return newSha256().digest(text.getBytes(StandardCharsets.UTF_8));
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /**
     * A thread's SHA-256 and its scratch buffers: {@link MessageDigest#getInstance} and the UTF-8 copy of the key
     * were most of what a cache hit allocated.
     */
    private static final class Hasher {
        private final MessageDigest sha = newSha256();
        private final byte[] out = new byte[32];
        private byte[] in = new byte[256];

        Digest digest(String text) {
            int n = text.length();
            boolean ascii = n <= 64 * 1024; // a longer key is rare enough to be copied
            for (int i = 0; ascii && i < n; i++) {
                ascii = text.charAt(i) < 0x80;
            }
            if (!ascii) {
                sha.update(text.getBytes(StandardCharsets.UTF_8));
            } else {
                if (n > in.length) {
                    in = new byte[Math.max(n, in.length * 2)];
                }
                for (int i = 0; i < n; i++) {
                    in[i] = (byte) text.charAt(i);
                }
                sha.update(in, 0, n);
            }
            try {
                sha.digest(out, 0, out.length);
            } catch (DigestException e) {
                throw new IllegalStateException("a 32-byte buffer holds a SHA-256", e);
            }
            return nonZero((long) BIG_LONG.get(out, 0), (int) BIG_INT.get(out, 8));
        }
    }
}
