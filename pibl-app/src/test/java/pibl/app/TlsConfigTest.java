package pibl.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pibl.config.TlsConfig;

/** The {@code tls:} block and the {@code --tls-*} flags, down to the certificate files. */
class TlsConfigTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        return Files.writeString(dir.resolve("pibl.yaml"), yaml);
    }

    private static List<FlagOverride> flags(String... args) {
        Flags flags = new Flags();
        Flags.commandLine(flags).parseArgs(args);
        return flags.overrides();
    }

    @Test
    void withoutTheBlockTlsIsOff() throws IOException {
        assertThat(ConfigLoader.load(write("backends: [127.0.0.1:9001]\n")).config().tls()).isEqualTo(TlsConfig.OFF);
    }

    @Test
    void theBlockAsTheIssueSpellsIt() throws Exception {
        SelfSigned site = new SelfSigned(dir, "site");
        SelfSigned other = new SelfSigned(dir, "other");
        Path file = write("""
                backends: [127.0.0.1:9001]
                tls:
                  port: 9443
                  certificates:
                    - { cert: %s, key: %s }
                    - cert: %s
                      key: %s
                  protocols: [TLSv1.3]
                  redirect-http: true
                  hsts: 1d
                """.formatted(site.cert, site.key, other.cert, other.key));

        TlsConfig tls = ConfigLoader.load(file).config().tls();

        assertThat(tls).isEqualTo(new TlsConfig(true, 9443, List.of(new TlsConfig.Certificate(site.cert, site.key),
                new TlsConfig.Certificate(other.cert, other.key)), List.of("TLSv1.3"), true, Duration.ofDays(1)));
    }

    @Test
    void defaultsOfAnEnabledBlock() throws Exception {
        SelfSigned site = new SelfSigned(dir, "site");
        Path file = write("backends: [127.0.0.1:9001]\ntls:\n  certificates: [{ cert: %s, key: %s }]\n"
                .formatted(site.cert, site.key));

        TlsConfig tls = ConfigLoader.load(file).config().tls();

        assertThat(tls.port()).isEqualTo(8443);
        assertThat(tls.protocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(tls.redirectHttp()).isFalse();
        assertThat(tls.hsts()).isZero();
    }

    @Test
    void anOlderProtocolIsRefusedOnItsLine() throws Exception {
        SelfSigned site = new SelfSigned(dir, "site");
        Path file = write("backends: [127.0.0.1:9001]\ntls:\n  certificates: [{ cert: %s, key: %s }]\n"
                .formatted(site.cert, site.key) + "  protocols: [TLSv1.2, TLSv1.1]\n");

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(file));

        assertThat(e.getMessage()).isEqualTo(file + ": line 4: tls.protocols: only TLSv1.3 and TLSv1.2 are accepted, "
                + "got TLSv1.1");
    }

    @Test
    void aKeyThatIsNotTheCertificatesIsOneLineNamingTheFile() throws Exception {
        SelfSigned a = new SelfSigned(dir, "a");
        SelfSigned b = new SelfSigned(dir, "b");
        Path file = write("backends: [127.0.0.1:9001]\ntls:\n  certificates:\n    - cert: %s\n      key: %s\n"
                .formatted(a.cert, b.key));

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(file));

        assertThat(e.getMessage()).isEqualTo(file + ": line 5: tls.certificates[0].key: " + b.key
                + ": does not match the certificate in " + a.cert);
    }

    @Test
    void theFlagsWinOverTheFileAndTakeTheBlame() throws Exception {
        SelfSigned file1 = new SelfSigned(dir, "file");
        SelfSigned flag = new SelfSigned(dir, "flag");
        SelfSigned wrong = new SelfSigned(dir, "wrong");
        Path file = write("backends: [127.0.0.1:9001]\ntls:\n  port: 9443\n  certificates: [{ cert: %s, key: %s }]\n"
                .formatted(file1.cert, file1.key));

        TlsConfig tls = ConfigLoader.load(file, flags("--tls-port", "10443", "--tls-cert", flag.cert.toString(),
                "--tls-key", flag.key.toString())).config().tls();
        assertThat(tls.port()).isEqualTo(10443);
        assertThat(tls.certificates()).containsExactly(new TlsConfig.Certificate(flag.cert, flag.key));

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(file,
                flags("--tls-cert", flag.cert.toString(), "--tls-key", wrong.key.toString())));
        assertThat(e.getMessage()).isEqualTo("--tls-key: " + wrong.key + ": does not match the certificate in "
                + flag.cert);
        Path missing = dir.resolve("missing.crt");
        e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(file,
                flags("--tls-cert", missing.toString(), "--tls-key", flag.key.toString())));
        assertThat(e.getMessage()).isEqualTo("--tls-cert: cannot read " + missing + ": no such file");
    }

    @Test
    void theFlagsAloneTurnTlsOn() throws Exception {
        SelfSigned site = new SelfSigned(dir, "site");
        TlsConfig tls = ConfigLoader.load(null, flags("--backend", "127.0.0.1:9001", "--tls-cert",
                site.cert.toString(), "--tls-key", site.key.toString())).config().tls();
        assertThat(tls.enabled()).isTrue();
        assertThat(tls.port()).isEqualTo(8443);

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> flags("--tls-cert", site.cert.toString()));
        assertThat(e.getMessage()).isEqualTo("--tls-cert: needs --tls-key FILE too");
    }

    @Test
    void aMismatchedKeyExitsTwoWithOneStderrLine() throws Exception {
        SelfSigned a = new SelfSigned(dir, "a");
        SelfSigned b = new SelfSigned(dir, "b");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PiblMain main = new PiblMain(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), dir.resolve("pibl.yaml"), (config, clear) -> {
                    throw new AssertionError("must not start");
                });

        int code = main.run("--backend", "127.0.0.1:9001", "--tls-cert", a.cert.toString(), "--tls-key",
                b.key.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8).lines().toList()).containsExactly("pibl: --tls-key: " + b.key
                + ": does not match the certificate in " + a.cert);
    }
}
