package pibl.config;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the {@code tls.certificates} PEM files, and the {@code ca} files of TLS backends, with the JDK alone (no
 * Netty: the configuration is checked before logging starts), so that a bad file is one line naming it before
 * anything listens:
 *
 * <pre>
 * tls.certificates[0].cert: cannot read certs/site.crt: no such file
 * tls.certificates[0].key: certs/site.key: holds no private key in PKCS#8, PKCS#1 (RSA) or EC form
 * tls.certificates[1].key: certs/b.key: does not match the certificate in certs/b.crt
 * backends[2].ca: certs/ca.key: holds no PEM certificate (BEGIN CERTIFICATE)
 * </pre>
 *
 * Keys: {@code BEGIN PRIVATE KEY} (PKCS#8: RSA, EC, Ed25519), {@code BEGIN RSA PRIVATE KEY} (PKCS#1) and
 * {@code BEGIN EC PRIVATE KEY} (SEC 1), the last two rewrapped as PKCS#8 here. Encrypted keys are refused. The key
 * matches its certificate when a signature it makes verifies with the certificate's public key.
 */
public final class CertificateFiles {
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    private static final Pattern CN = Pattern.compile("(?:^|,)CN=((?:[^,\\\\]|\\\\.)+)");
    private static final byte[] RSA_ENCRYPTION = {0x06, 0x09, 0x2A, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xF7,
        0x0D, 0x01, 0x01, 0x01};
    private static final byte[] EC_PUBLIC_KEY = {0x06, 0x07, 0x2A, (byte) 0x86, 0x48, (byte) 0xCE, 0x3D, 0x02, 0x01};

    /**
     * One certificate, ready for an SSL context.
     *
     * @param chain leaf first
     * @param names the leaf's DNS names (its subjectAltName entries; its CN when it has none), lower case
     */
    public record Loaded(TlsConfig.Certificate files, PrivateKey key, List<X509Certificate> chain,
                         List<String> names) {
        public X509Certificate leaf() {
            return chain.get(0);
        }

        /** The leaf's notAfter has passed: served anyway (the operator is warned). */
        public boolean expiredAt(Instant now) {
            return leaf().getNotAfter().toInstant().isBefore(now);
        }
    }

    private CertificateFiles() {
    }

    /** Every certificate of {@code tls}, in order; throws {@link ConfigException} for the first bad file. */
    public static List<Loaded> load(TlsConfig tls) {
        List<Loaded> loaded = new ArrayList<>();
        for (int i = 0; i < tls.certificates().size(); i++) {
            loaded.add(load(tls.certificates().get(i), "tls.certificates[" + i + "]"));
        }
        return List.copyOf(loaded);
    }

    static Loaded load(TlsConfig.Certificate files, String key) {
        List<X509Certificate> chain = chain(files.cert(), key + ".cert");
        PrivateKey privateKey = privateKey(files.key(), key + ".key");
        if (!matches(privateKey, chain.get(0).getPublicKey())) {
            throw new ConfigException(key + ".key", files.key() + ": does not match the certificate in "
                    + files.cert());
        }
        return new Loaded(files, privateKey, chain, names(chain.get(0)));
    }

    /**
     * The certificates of a backend's {@code ca} file, which its certificate must chain to; throws
     * {@link ConfigException} naming {@code key} when the file cannot be read or holds no PEM certificate.
     */
    public static List<X509Certificate> trusted(Path file, String key) {
        return chain(file, key);
    }

    private static List<X509Certificate> chain(Path file, String key) {
        List<byte[]> blocks = blocks(read(file, key), "CERTIFICATE");
        if (blocks.isEmpty()) {
            throw new ConfigException(key, file + ": holds no PEM certificate (BEGIN CERTIFICATE)");
        }
        List<X509Certificate> chain = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (byte[] der : blocks) {
                chain.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der)));
            }
        } catch (CertificateException e) {
            throw new ConfigException(key, file + ": not a valid X.509 certificate (" + e.getMessage() + ")");
        }
        return List.copyOf(chain);
    }

    private static PrivateKey privateKey(Path file, String key) {
        String text = read(file, key);
        if (!blocks(text, "ENCRYPTED PRIVATE KEY").isEmpty()) {
            throw new ConfigException(key, file + ": is encrypted; PIBL needs the key without a passphrase");
        }
        List<byte[]> pkcs8 = blocks(text, "PRIVATE KEY");
        List<byte[]> rsa = blocks(text, "RSA PRIVATE KEY");
        List<byte[]> ec = blocks(text, "EC PRIVATE KEY");
        try {
            if (!pkcs8.isEmpty()) {
                return pkcs8(pkcs8.get(0), "RSA", "EC", "Ed25519");
            }
            if (!rsa.isEmpty()) {
                return pkcs8(der(0x30, der(0x02, new byte[] {0}), der(0x30, RSA_ENCRYPTION, new byte[] {0x05, 0x00}),
                        der(0x04, rsa.get(0))), "RSA");
            }
            if (!ec.isEmpty()) {
                return pkcs8(der(0x30, der(0x02, new byte[] {0}), der(0x30, EC_PUBLIC_KEY, curve(ec.get(0))),
                        der(0x04, ec.get(0))), "EC");
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new ConfigException(key, file + ": not a valid private key (" + e.getMessage() + ")");
        }
        throw new ConfigException(key, file + ": holds no private key in PKCS#8, PKCS#1 (RSA) or EC form");
    }

    private static PrivateKey pkcs8(byte[] der, String... algorithms) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String algorithm : algorithms) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }

    /** The named curve of a SEC 1 {@code ECPrivateKey}: its {@code [0] parameters}, an OID, whole. */
    private static byte[] curve(byte[] sec1) {
        Der seq = new Der(sec1, 0);
        if (seq.tag != 0x30) {
            throw new IllegalArgumentException("not a DER sequence");
        }
        for (int at = seq.start; at < seq.end; ) {
            Der element = new Der(sec1, at);
            if (element.tag == 0xA0) {
                Der oid = new Der(sec1, element.start);
                if (oid.tag == 0x06) {
                    return Arrays.copyOfRange(sec1, element.start, oid.end);
                }
            }
            at = element.end;
        }
        throw new IllegalArgumentException("the EC key names no curve");
    }

    private static boolean matches(PrivateKey key, PublicKey certified) {
        String algorithm = switch (key.getAlgorithm().toUpperCase(Locale.ROOT)) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> "Ed25519";
        };
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certified);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false; // different algorithms, or a key the certificate's cannot check
        }
    }

    private static List<String> names(X509Certificate leaf) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> alt = leaf.getSubjectAlternativeNames();
            if (alt != null) {
                for (List<?> entry : alt) {
                    if (Integer.valueOf(2).equals(entry.get(0))) {
                        names.add(entry.get(1).toString().toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // no usable SAN extension: fall back to the CN as clients did before RFC 6125
        }
        if (names.isEmpty()) {
            Matcher m = CN.matcher(leaf.getSubjectX500Principal().getName());
            if (m.find()) {
                names.add(m.group(1).toLowerCase(Locale.ROOT));
            }
        }
        return List.copyOf(names);
    }

    private static String read(Path file, String key) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw new ConfigException(key, "cannot read " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new ConfigException(key, "cannot read " + file + ": permission denied");
        } catch (IOException e) {
            throw new ConfigException(key, "cannot read " + file + ": " + e.getMessage());
        }
    }

    private static List<byte[]> blocks(String text, String label) {
        List<byte[]> blocks = new ArrayList<>();
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            if (m.group(1).equals(label)) {
                blocks.add(Base64.getMimeDecoder().decode(m.group(2)));
            }
        }
        return blocks;
    }

    /** A DER tag-length-value around the given contents. */
    private static byte[] der(int tag, byte[]... contents) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] c : contents) {
            body.writeBytes(c);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = body.size();
        if (n < 0x80) {
            out.write(n);
        } else {
            int bytes = n > 0xFFFFFF ? 4 : n > 0xFFFF ? 3 : n > 0xFF ? 2 : 1;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(n >>> (8 * i));
            }
        }
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    /** One DER element read at {@code at}: its tag and where its contents start and end. */
    private static final class Der {
        final int tag;
        final int start;
        final int end;

        Der(byte[] b, int at) {
            if (at + 2 > b.length) {
                throw new IllegalArgumentException("truncated DER");
            }
            tag = b[at] & 0xFF;
            int len = b[at + 1] & 0xFF;
            int pos = at + 2;
            if (len >= 0x80) {
                int bytes = len & 0x7F;
                if (bytes < 1 || bytes > 4 || pos + bytes > b.length) {
                    throw new IllegalArgumentException("bad DER length");
                }
                len = 0;
                for (int i = 0; i < bytes; i++) {
                    len = (len << 8) | (b[pos++] & 0xFF);
                }
            }
            if (len < 0 || pos + len > b.length) {
                throw new IllegalArgumentException("truncated DER");
            }
            start = pos;
            end = pos + len;
        }
    }
}
