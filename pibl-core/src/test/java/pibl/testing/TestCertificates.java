package pibl.testing;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import pibl.config.TlsConfig;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Certificates made at test time (BouncyCastle), written as PEM files in a test's directory: self-signed, or issued
 * by a test CA. A name that is an IPv4 literal goes in the SAN as an IP address, any other as a DNS name.
 *
 * <pre>
 * TlsConfig.Certificate site = TestCertificates.rsa(dir, "site", "localhost", "*.example.com");
 * TestCertificates.Authority ca = TestCertificates.authority(dir, "ca");      // ca.crt
 * TlsConfig.Certificate origin = TestCertificates.issued(dir, "origin", ca, "localhost", "127.0.0.1");
 * </pre>
 */
public final class TestCertificates {
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** How the private key is written. */
    public enum KeyForm { PKCS8, TRADITIONAL }

    /** A test CA: its certificate as a PEM file ({@code cert}, what a backend's {@code ca:} names) and its keys. */
    public record Authority(Path cert, X509Certificate certificate, KeyPair keys) {
    }

    private TestCertificates() {
    }

    /** RSA 2048, PKCS#8 key, valid from an hour ago for a day; CN is the first name. */
    public static TlsConfig.Certificate rsa(Path dir, String file, String... names) {
        return write(dir, file, keyPair("RSA"), KeyForm.PKCS8, Duration.ofDays(1), names);
    }

    /** EC P-256, PKCS#8 key. */
    public static TlsConfig.Certificate ec(Path dir, String file, String... names) {
        return write(dir, file, keyPair("EC"), KeyForm.PKCS8, Duration.ofDays(1), names);
    }

    /**
     * @param form     PKCS8 ({@code BEGIN PRIVATE KEY}) or TRADITIONAL ({@code BEGIN RSA PRIVATE KEY} /
     *                 {@code BEGIN EC PRIVATE KEY})
     * @param validFor from an hour ago; negative for one that has already expired
     */
    public static TlsConfig.Certificate write(Path dir, String file, KeyPair pair, KeyForm form, Duration validFor,
                                              String... names) {
        try {
            X509Certificate cert = selfSigned(pair, validFor, names);
            Path certFile = dir.resolve(file + ".crt");
            Path keyFile = dir.resolve(file + ".key");
            Files.writeString(certFile, pem(cert));
            Files.writeString(keyFile, form == KeyForm.PKCS8 ? pkcs8(pair.getPrivate())
                    : pair.getPrivate() instanceof ECPrivateKey ec ? sec1(ec) : pem(pair.getPrivate()));
            return new TlsConfig.Certificate(certFile, keyFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A CA (EC P-256, {@code CA:TRUE}) named {@code CN=file}, valid from an hour ago for a day: {@code file.crt}. */
    public static Authority authority(Path dir, String file) {
        try {
            KeyPair pair = keyPair("EC");
            X500Name subject = new X500Name("CN=" + file);
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject,
                    BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(1))), subject, pair.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
            Path certFile = dir.resolve(file + ".crt");
            Files.writeString(certFile, pem(cert));
            return new Authority(certFile, cert, pair);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** An EC P-256 leaf issued by {@code ca} for {@code names} (the first is its CN), valid for a day. */
    public static TlsConfig.Certificate issued(Path dir, String file, Authority ca, String... names) {
        try {
            KeyPair pair = keyPair("EC");
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()),
                    BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(1))), new X500Name("CN=" + names[0]), pair.getPublic());
            b.addExtension(Extension.subjectAlternativeName, false, altNames(names));
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.keys().getPrivate())));
            Path certFile = dir.resolve(file + ".crt");
            Path keyFile = dir.resolve(file + ".key");
            Files.writeString(certFile, pem(cert));
            Files.writeString(keyFile, pkcs8(pair.getPrivate()));
            return new TlsConfig.Certificate(certFile, keyFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static GeneralNames altNames(String... names) {
        GeneralName[] alt = new GeneralName[names.length];
        for (int i = 0; i < names.length; i++) {
            boolean ip = names[i].matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
            alt[i] = new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, names[i]);
        }
        return new GeneralNames(alt);
    }

    public static KeyPair keyPair(String algorithm) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
            if (algorithm.equals("EC")) {
                g.initialize(new ECGenParameterSpec("secp256r1"));
            } else {
                g.initialize(2048);
            }
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate selfSigned(KeyPair pair, Duration validFor, String... names) throws Exception {
        Instant now = Instant.now();
        Instant from = now.minus(Duration.ofHours(1)).minus(validFor.isNegative() ? Duration.ofDays(2) : Duration.ZERO);
        Instant to = validFor.isNegative() ? now.plus(validFor) : now.plus(validFor);
        X500Name subject = new X500Name("CN=" + names[0]);
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject,
                BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(from), Date.from(to), subject, pair.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false, altNames(names));
        String algorithm = pair.getPrivate().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder(algorithm).build(pair.getPrivate())));
    }

    private static String pem(Object o) throws IOException {
        StringWriter s = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(s)) {
            w.writeObject(o);
        }
        return s.toString();
    }

    private static String pkcs8(PrivateKey key) {
        return pem("PRIVATE KEY", key.getEncoded());
    }

    /** {@code BEGIN EC PRIVATE KEY} as OpenSSL writes it, naming its curve (BouncyCastle's writer leaves it out). */
    private static String sec1(ECPrivateKey key) throws IOException {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
        ASN1ObjectIdentifier curve = ASN1ObjectIdentifier.getInstance(info.getPrivateKeyAlgorithm().getParameters());
        return pem("EC PRIVATE KEY", new org.bouncycastle.asn1.sec.ECPrivateKey(256, key.getS(), curve).getEncoded());
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }
}
