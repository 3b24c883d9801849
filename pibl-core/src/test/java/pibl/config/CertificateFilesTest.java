package pibl.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pibl.testing.TestCertificates;
import pibl.testing.TestCertificates.KeyForm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CertificateFilesTest {
    @TempDir
    Path dir;

    private static CertificateFiles.Loaded load(TlsConfig.Certificate c) {
        return CertificateFiles.load(TlsConfig.of(List.of(c))).get(0);
    }

    @Test
    void readsEveryKeyFormTheIssueNames() throws Exception {
        for (String algorithm : List.of("RSA", "EC")) {
            for (KeyForm form : KeyForm.values()) {
                TlsConfig.Certificate c = TestCertificates.write(dir, algorithm + form,
                        TestCertificates.keyPair(algorithm), form, Duration.ofDays(1), "site.example");
                String header = Files.readString(c.key()).lines().findFirst().orElseThrow();
                CertificateFiles.Loaded loaded = load(c);
                assertThat(loaded.key().getAlgorithm()).as(header).isEqualTo(algorithm);
                assertThat(loaded.names()).containsExactly("site.example");
            }
        }
    }

    @Test
    void aKeyOfAnotherCertificateIsRefusedNamingTheFile() {
        TlsConfig.Certificate a = TestCertificates.rsa(dir, "a", "a.example");
        TlsConfig.Certificate b = TestCertificates.rsa(dir, "b", "b.example");
        assertThatThrownBy(() -> load(new TlsConfig.Certificate(a.cert(), b.key())))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.key()).isEqualTo("tls.certificates[0].key");
                    assertThat(e.problem()).isEqualTo(b.key() + ": does not match the certificate in " + a.cert());
                });
    }

    @Test
    void anEcKeyForAnRsaCertificateIsAMismatchToo() {
        TlsConfig.Certificate rsa = TestCertificates.rsa(dir, "rsa", "a.example");
        TlsConfig.Certificate ec = TestCertificates.ec(dir, "ec", "a.example");
        assertThatThrownBy(() -> load(new TlsConfig.Certificate(rsa.cert(), ec.key())))
                .hasMessageContaining("does not match the certificate");
    }

    @Test
    void unreadableAndUnusableFilesAreOneLineEach() throws Exception {
        TlsConfig.Certificate ok = TestCertificates.rsa(dir, "ok", "a.example");
        Path missing = dir.resolve("missing.crt");
        assertThatThrownBy(() -> load(new TlsConfig.Certificate(missing, ok.key())))
                .hasMessage("tls.certificates[0].cert: cannot read " + missing + ": no such file");
        Path garbage = Files.writeString(dir.resolve("garbage.key"), "not a key\n");
        assertThatThrownBy(() -> load(new TlsConfig.Certificate(ok.cert(), garbage)))
                .hasMessage("tls.certificates[0].key: " + garbage
                        + ": holds no private key in PKCS#8, PKCS#1 (RSA) or EC form");
        assertThatThrownBy(() -> load(new TlsConfig.Certificate(ok.key(), ok.key())))
                .hasMessage("tls.certificates[0].cert: " + ok.key() + ": holds no PEM certificate (BEGIN CERTIFICATE)");
    }

    @Test
    void anExpiredCertificateLoadsAndSaysSo() {
        TlsConfig.Certificate old = TestCertificates.write(dir, "old", TestCertificates.keyPair("EC"), KeyForm.PKCS8,
                Duration.ofHours(-1), "old.example", "*.old.example");
        CertificateFiles.Loaded loaded = load(old);
        assertThat(loaded.expiredAt(Instant.now())).isTrue();
        assertThat(loaded.names()).containsExactly("old.example", "*.old.example");
    }
}
