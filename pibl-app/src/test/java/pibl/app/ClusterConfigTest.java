package pibl.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pibl.config.ClusterConfig;
import pibl.config.PiblConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** {@code cluster:} as {@link ConfigLoader} reads it (issue 15): the keys, self added, and every refusal by key. */
class ClusterConfigTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        return Files.writeString(dir.resolve("pibl.yaml"), yaml);
    }

    private String base() throws IOException {
        Path key = Files.writeString(dir.resolve("cluster.key"), "0123456789abcdef0123456789abcdef\n");
        return "backends: [127.0.0.1:9001]\ncache: { enabled: true, directory: " + dir.resolve("cache") + " }\n"
                + "cluster:\n  self: 10.0.1.10:8080\n  secret-file: " + key + "\n";
    }

    @Test
    void theIssuesKeysLoadAndSelfIsAddedWhenThePeersLeaveItOut() throws IOException {
        PiblConfig c = ConfigLoader.load(write(base() + "  peers: [10.0.1.11:8080, 10.0.1.12:8080]\n")).config();
        ClusterConfig cluster = c.cluster();
        assertThat(cluster.enabled()).isTrue();
        assertThat(cluster.self().address()).isEqualTo("10.0.1.10:8080");
        assertThat(cluster.peers()).extracting(p -> p.address())
                .containsExactly("10.0.1.11:8080", "10.0.1.12:8080", "10.0.1.10:8080");

        assertThat(cluster.hotCopy()).as("hot copies are optional").isNull();
        ClusterConfig hot = ConfigLoader.load(write(base() + "  peers: [10.0.1.11:8080]\n"
                + "  hot-copy: { max-size: 64m, ttl: 5s }\n")).config().cluster();
        assertThat(hot.hotCopy()).isEqualTo(new ClusterConfig.HotCopy(64L << 20, Duration.ofSeconds(5)));

        PiblConfig alone = ConfigLoader.load(write("backends: [127.0.0.1:9001]\n")).config();
        assertThat(alone.cluster().enabled()).as("no cluster: block, no fleet").isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "bad peer      | peers: [10.0.1.11]                       | cluster.peers[0] | host:port",
            "peer twice    | peers: [10.0.1.11:8080, 10.0.1.11:8080]  | cluster.peers[1] | listed twice",
            "no peers      | peers: []                                | cluster.peers    | is required",
            "hot half      | peers: [10.0.1.11:8080]\\n  hot-copy: { ttl: 5s } | cluster.hot-copy | max-size",
            "hot zero ttl  | peers: [10.0.1.11:8080]\\n  hot-copy: { max-size: 64m, ttl: 0s } | cluster.hot-copy.ttl | positive duration",
            "hot bad size  | peers: [10.0.1.11:8080]\\n  hot-copy: { max-size: lots, ttl: 5s } | cluster.hot-copy.max-size | expected a size",
    })
    void aBadClusterBlockIsOneErrorNamingItsKey(String name, String peers, String key, String problem)
            throws IOException {
        ConfigError e = catchThrowableOfType(ConfigError.class,
                () -> ConfigLoader.load(write(base() + "  " + peers.replace("\\n", "\n") + "\n")));
        assertThat(e).as(name).isNotNull();
        assertThat(e.key()).isEqualTo(key);
        assertThat(e.problem()).contains(problem);
    }

    @Test
    void aMissingOrShortSecretAndAFleetWithoutACacheAreRefused() throws IOException {
        String peers = "  peers: [10.0.1.11:8080]\n";
        ConfigError noSecret = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(write(
                base().replaceAll("  secret-file: .*\n", "") + peers)));
        assertThat(noSecret.key()).isEqualTo("cluster.secret-file");
        assertThat(noSecret.problem()).contains("is required");

        String yaml = base() + peers;
        Files.writeString(dir.resolve("cluster.key"), "short\n");
        ConfigError shortSecret = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(write(yaml)));
        assertThat(shortSecret).isNotNull();
        assertThat(shortSecret.key()).isEqualTo("cluster.secret-file");
        assertThat(shortSecret.problem()).contains("at least 16");

        ConfigError noCache = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(write(
                base().replace("enabled: true", "enabled: false") + peers)));
        assertThat(noCache.key()).isEqualTo("cluster");
        assertThat(noCache.problem()).contains("needs the cache");
    }
}
