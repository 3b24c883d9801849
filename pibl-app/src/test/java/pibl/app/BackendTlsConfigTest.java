package pibl.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import pibl.config.BackendConfig;

/** A backend's {@code tls}, {@code sni}, {@code verify} and {@code ca} as the file spells them, and their errors. */
class BackendTlsConfigTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        return Files.writeString(dir.resolve("pibl.yaml"), yaml);
    }

    private List<BackendConfig> backends(String yaml) throws IOException {
        return ConfigLoader.load(write(yaml)).config().backends();
    }

    @Test
    void everyKeyAsTheIssueSpellsIt() throws Exception {
        SelfSigned ca = new SelfSigned(dir, "ca");

        List<BackendConfig> b = backends("""
                backends:
                  - { address: 127.0.0.1:8443, tls: true, sni: Shop.Example, verify: true, ca: %s }
                """.formatted(ca.cert));

        assertThat(b).containsExactly(new BackendConfig("127.0.0.1", 8443, 1,
                new BackendConfig.Tls(true, "shop.example", true, ca.cert)));
        assertThat(b.get(0).serverName()).as("SNI names are case-insensitive: kept in lower case")
                .isEqualTo("shop.example");
    }

    @Test
    void tlsAloneVerifiesAgainstTheJdksTrustStoreWithTheHostAsItsName() throws Exception {
        List<BackendConfig> b = backends("""
                backends:
                  - { address: api.internal:443, tls: true, weight: 3 }
                  - address: 127.0.0.1:8443
                    tls: true
                  - { address: "[::1]:8443", tls: true, verify: false }
                """);

        assertThat(b.get(0)).isEqualTo(new BackendConfig("api.internal", 443, 3, BackendConfig.Tls.ON));
        assertThat(b.get(0).tls().verify()).isTrue();
        assertThat(b.get(0).tls().ca()).as("null: the JDK's trust store").isNull();
        assertThat(b.get(0).serverName()).as("a DNS name is its own SNI").isEqualTo("api.internal");
        assertThat(b.get(1).serverName()).as("an IP literal sends none").isNull();
        assertThat(b.get(2).tls()).isEqualTo(new BackendConfig.Tls(true, null, false, null));
        assertThat(b.get(2).serverName()).isNull();
    }

    @Test
    void plainBackendsAndTheFlagStayCleartext() throws Exception {
        Path file = write("""
                backends:
                  - 127.0.0.1:9001
                  - { address: 127.0.0.1:9002, weight: 2 }
                  - { address: 127.0.0.1:9003, tls: false }
                """);

        assertThat(ConfigLoader.load(file).config().backends()).extracting(BackendConfig::tls)
                .containsOnly(BackendConfig.Tls.OFF);
        Flags flags = new Flags();
        Flags.commandLine(flags).parseArgs("--backend", "localhost:9443");
        assertThat(ConfigLoader.load(file, flags.overrides()).config().backends())
                .containsExactly(new BackendConfig("localhost", 9443));
    }

    static Stream<Arguments> mistakes() {
        return Stream.of(
                // name, the backend's mapping, key, problem
                bad("sni without tls", "{ address: a:1, sni: a.example }", "backends[0].sni",
                        "applies only to a backend with tls: true"),
                bad("verify without tls, even true", "{ address: a:1, verify: true }", "backends[0].verify",
                        "applies only to a backend with tls: true"),
                bad("ca with tls false", "{ address: a:1, tls: false, ca: ca.pem }", "backends[0].ca",
                        "applies only to a backend with tls: true"),
                bad("an IPv4 literal as sni", "{ address: 10.0.0.7:8443, tls: true, sni: 10.0.0.7 }",
                        "backends[0].sni", "must be a DNS name; SNI cannot carry an IP address, got 10.0.0.7"),
                bad("an IPv6 literal as sni", "{ address: a:1, tls: true, sni: '::1' }", "backends[0].sni",
                        "must be a DNS name; SNI cannot carry an IP address, got ::1"),
                bad("sni not a name", "{ address: a:1, tls: true, sni: 'a b' }", "backends[0].sni",
                        "must be a DNS name such as api.internal, got a b"),
                bad("ca with verify false", "{ address: a:1, tls: true, verify: false, ca: ca.pem }",
                        "backends[0].ca", "cannot go with verify: false, which checks no certificate, got ca.pem"),
                bad("tls not a boolean", "{ address: a:1, tls: yes please }", "backends[0].tls",
                        "expected true or false, got 'yes please'"));
    }

    private static Arguments bad(String name, String backend, String key, String problem) {
        return Arguments.of(name, backend, key, problem);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mistakes")
    void aMistakeIsOneLineNamingTheKeyAndItsLine(String name, String backend, String key, String problem)
            throws IOException {
        Path file = write("backends:\n  - 127.0.0.1:9001\n  - " + backend + "\n");

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(file));

        assertThat(e).as("refused").isNotNull();
        String second = key.replace("backends[0]", "backends[1]");
        assertThat(e.getMessage()).isEqualTo(file + ": line 3: " + second + ": " + problem);
    }

    @Test
    void aCaFileThatCannotBeReadOrHoldsNoCertificateIsRefused() throws Exception {
        SelfSigned site = new SelfSigned(dir, "site");
        Path missing = dir.resolve("missing.pem");

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> backends(
                "backends:\n  - { address: a:1, tls: true, ca: %s }\n".formatted(missing)));
        assertThat(e.getMessage()).isEqualTo(dir.resolve("pibl.yaml") + ": line 2: backends[0].ca: cannot read "
                + missing + ": no such file");

        e = catchThrowableOfType(ConfigError.class, () -> backends(
                "backends:\n  - { address: a:1, tls: true, ca: %s }\n".formatted(site.key)));
        assertThat(e.getMessage()).isEqualTo(dir.resolve("pibl.yaml") + ": line 2: backends[0].ca: " + site.key
                + ": holds no PEM certificate (BEGIN CERTIFICATE)");
    }

    @Test
    void atStartupABadCaExitsTwoBeforeAnythingStarts() throws Exception {
        Path file = write("backends:\n  - { address: a:1, tls: true, ca: %s }\n".formatted(dir.resolve("nope.pem")));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PiblMain main = new PiblMain(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), file, (config, clearCache) -> {
                    throw new AssertionError("started on a configuration that must be refused");
                });

        assertThat(main.run(new String[0])).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8).lines()).containsExactly("pibl: " + file
                + ": line 2: backends[0].ca: cannot read " + dir.resolve("nope.pem") + ": no such file");
    }
}
