package pibl.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import pibl.config.AdminConfig;
import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
import pibl.config.CacheConfig;
import pibl.config.HealthCheckConfig;
import pibl.config.LimitConfig;
import pibl.config.LogConfig;
import pibl.config.PiblConfig;
import pibl.config.TimeoutConfig;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("pibl.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    @Test
    void everyKeyOfAFullFileReachesItsRecord() throws IOException {
        Path file = write("""
                bind: 127.0.0.1
                port: 9090
                backends:
                  - 10.0.0.1:80
                  - { address: "[::1]:8080", weight: 5 }
                  - address: backend.example:81
                log:
                  file: /var/log/pibl/pibl.log
                  format: combined
                  level: debug
                timeouts:
                  connect: 500ms
                  backend-response: 2m
                  client-idle: 1h
                  client-header: 7
                  drain: 0
                  tunnel-idle: 10m
                limits:
                  max-request-body: 1MiB
                  retry-buffer: 64k
                  max-header-size: 32k
                  max-initial-line: 4KiB
                  max-connections: 100
                  retries: 0
                cache:
                  enabled: false
                  directory: /tmp/c
                  ttl: 0
                  ttl-mode: override
                  max-size: 2g
                  max-object-size: 10m
                  memory-size: 0
                  store-set-cookie: true
                  stale-if-error: 30s
                  max-entries: 2000000
                health-check:
                  enabled: false
                  path: /ping
                  interval: 3s
                  timeout: 250ms
                  fall: 4
                  rise: 5
                  passive-failures: 6
                  passive-cooldown: 1m
                admin:
                  enabled: false
                  host: 0.0.0.0
                  port: 9091
                """);

        ConfigLoader.Loaded loaded = ConfigLoader.load(file);

        assertThat(loaded.config()).isEqualTo(new PiblConfig("127.0.0.1", 9090,
                List.of(new BackendConfig("10.0.0.1", 80), new BackendConfig("::1", 8080, 5),
                        new BackendConfig("backend.example", 81)),
                new TimeoutConfig(Duration.ofMillis(500), Duration.ofMinutes(2), Duration.ofHours(1),
                        Duration.ofSeconds(7), Duration.ZERO, Duration.ofMinutes(10)),
                new LimitConfig(1 << 20, 64 << 10, 32 << 10, 4 << 10, 100, 0),
                new LogConfig(Path.of("/var/log/pibl/pibl.log"), LogConfig.Format.COMBINED),
                new CacheConfig(false, Path.of("/tmp/c"), Duration.ZERO, CacheConfig.TtlMode.OVERRIDE, 2L << 30,
                        10L << 20, 0, true, Duration.ofSeconds(30), 2_000_000),
                new HealthCheckConfig(false, "/ping", Duration.ofSeconds(3), Duration.ofMillis(250), 4, 5, 6,
                        Duration.ofMinutes(1)),
                new AdminConfig(false, "0.0.0.0", 9091)));
        assertThat(loaded.logLevel()).isEqualTo(LogLevel.DEBUG);
    }

    @Test
    void theBalancingKeysOfTheShorthandPoolReachTheirRecord() throws IOException {
        Path file = write("""
                backends: [127.0.0.1:9001, 127.0.0.1:9002]
                balance: hash
                hash: { key: "cookie:SESSION", bounded-load: 1.5 }
                slow-start: 0
                """);

        assertThat(ConfigLoader.load(file).config().balance()).isEqualTo(new BalanceConfig(
                BalanceConfig.Policy.HASH, new BalanceConfig.HashKey(BalanceConfig.HashKey.Source.COOKIE, "SESSION"),
                1.5, Duration.ZERO));
        assertThat(ConfigLoader.load(write("backends: [127.0.0.1:9001]\n")).config().balance())
                .isEqualTo(BalanceConfig.defaults());
    }

    @Test
    void keysLeftOutTakeTheRecordsDefaults() throws IOException {
        Path file = write("""
                backends: [127.0.0.1:9001]
                cache:          # every key commented out
                #  ttl: 5s
                """);

        ConfigLoader.Loaded loaded = ConfigLoader.load(file);

        assertThat(loaded.config()).isEqualTo(PiblConfig.defaults(List.of(new BackendConfig("127.0.0.1", 9001))));
        assertThat(loaded.logLevel()).as("unset, so -Dpibl.log.level or the xml default applies").isNull();
    }

    @Test
    void theShippedPiblYamlIsValid() {
        Path shipped = Path.of("..", "pibl.yaml");

        ConfigLoader.Loaded loaded = ConfigLoader.load(shipped);

        assertThat(loaded.config().port()).isEqualTo(8080);
        assertThat(loaded.config().backends()).extracting(BackendConfig::address)
                .containsExactly("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003");
        assertThat(loaded.config().cache().directory()).isEqualTo(Path.of("./cache"));
        assertThat(loaded.config().admin()).isEqualTo(new AdminConfig(true, "127.0.0.1", 8081));
    }

    static Stream<Arguments> badFiles() {
        String ok = "backends: [127.0.0.1:9001]\n";
        return Stream.of(
                // name, yaml, key, line, problem
                bad("syntax: missing colon", "port: 8080\nbackends\n  - 127.0.0.1:9001\n", null, 2,
                        "YAML syntax error: while scanning a simple key, could not find expected ':' on line 4"),
                bad("syntax: tab indentation", ok + "cache:\n\tttl: 5s\n", null, 3, "YAML syntax error"),
                bad("syntax: unclosed flow list", "backends: [127.0.0.1:9001\nport: 1\n", null, 1,
                        "YAML syntax error"),
                bad("duplicate key", "port: 1\n" + ok + "port: 2\n", "port", 3, "appears twice, first on line 1"),
                bad("unknown top-level key", ok + "prot: 8080\n", "prot", 2,
                        "unknown key, expected one of: admin, backends, balance, bind, cache, cluster, hash, health-check, http2, "
                                + "limits, log, pools, port, routes, slow-start, "
                                + "timeouts, tls, trusted-proxies"),
                bad("unknown nested key", ok + "timeouts:\n  conect: 5s\n", "timeouts.conect", 3,
                        "unknown key, expected one of: backend-response, client-header, client-idle, connect, drain, "
                                + "tunnel-idle"),
                bad("unknown key in a backend", "backends:\n  - { address: 127.0.0.1:1, wieght: 2 }\n",
                        "backends[0].wieght", 2, "unknown key, expected one of: address, ca, sni, tls, verify, weight"),
                bad("port not a number", ok + "port: abc\n", "port", 2, "expected a whole number, got 'abc'"),
                bad("port a fraction", ok + "port: 80.5\n", "port", 2, "expected a whole number"),
                bad("port too big for an int", ok + "port: 99999999999\n", "port", 2,
                        "is out of range, got '99999999999'"),
                bad("empty backend item", "backends: [~]\n", "backends[0]", 1, "is empty"),
                bad("port out of range", ok + "port: 70000\n", "port", 2, "must be between 0 and 65535 (0 = any free port), got 70000"),
                bad("port without value", ok + "port:\n", "port", 2, "has no value"),
                bad("boolean not a boolean", ok + "cache:\n  enabled: maybe\n", "cache.enabled", 3,
                        "expected true or false, got 'maybe'"),
                bad("section given a scalar", ok + "timeouts: 5s\n", "timeouts", 2, "expected a section of keys"),
                bad("scalar given a section", ok + "timeouts:\n  connect: { s: 5 }\n", "timeouts.connect", 3,
                        "expected a single value"),
                bad("top level a list", "- port: 1\n", null, 1, "expected a mapping of keys"),
                bad("no backends key", "port: 8080\n", "backends", 0, "must list at least one backend"),
                bad("empty backends list", "port: 8080\nbackends: []\n", "backends", 2,
                        "must list at least one backend"),
                bad("backends without items", "port: 8080\nbackends:\n", "backends", 2,
                        "must list at least one backend"),
                bad("backend without port", "backends:\n  - 127.0.0.1:9001\n  - localhost\n", "backends[1]", 3,
                        "expected host:port, got 'localhost'"),
                bad("backend port out of range", "backends:\n  - 127.0.0.1:99999\n", "backends[0]", 2,
                        "must be between 1 and 65535"),
                bad("backend mapping without address", "backends:\n  - weight: 2\n", "backends[0].address", 2,
                        "is required"),
                bad("backend weight out of range", "backends:\n  - { address: a:1, weight: 0 }\n",
                        "backends[0].weight", 2, "must be between 1 and 1000, got 0"),
                bad("backends a scalar", "backends: 127.0.0.1:9001\n", "backends", 1, "expected a list"),
                bad("negative ttl", ok + "cache:\n  ttl: -5s\n", "cache.ttl", 3,
                        "must be zero or a positive number of seconds, got -5s"),
                bad("negative connect timeout", ok + "timeouts:\n  connect: -5s\n", "timeouts.connect", 3,
                        "must be a positive duration, got -5s"),
                bad("zero client-idle", ok + "timeouts:\n  client-idle: 0\n", "timeouts.client-idle", 3,
                        "must be a positive duration, got 0"),
                bad("zero tunnel-idle", ok + "timeouts:\n  tunnel-idle: 0s\n", "timeouts.tunnel-idle", 3,
                        "must be a positive duration, got 0s"),
                bad("negative drain", ok + "timeouts:\n  drain: -1s\n", "timeouts.drain", 3,
                        "must be zero or positive, got -1s"),
                bad("duration with a unit it lacks", ok + "timeouts:\n  connect: 5 sec\n", "timeouts.connect", 3,
                        "expected a duration like 500ms, 5s, 2m, 1h, 1d or a number of seconds, got '5 sec'"),
                bad("heuristic without a percent sign", ok + "cache:\n  heuristic: 10\n", "cache.heuristic", 3,
                        "must be a percentage such as 10% (or off), got 10"),
                bad("heuristic above 100%", ok + "cache:\n  heuristic: 150%\n", "cache.heuristic", 3,
                        "must be a percentage from 0% (off) to 100%, got 150%"),
                bad("targeted field that is not a field name", ok + "cache:\n  targeted-field: My Cache\n",
                        "cache.targeted-field", 3, "must be a header field name, got My Cache"),
                bad("targeted field naming Cache-Control", ok + "cache:\n  targeted-field: cache-control\n",
                        "cache.targeted-field", 3, "must name a field of PIBL's own, not one PIBL reads anyway, got cache-control"),
                bad("duration fraction", ok + "health-check:\n  interval: 1.5s\n", "health-check.interval", 3,
                        "expected a duration"),
                bad("size with a unit it lacks", ok + "limits:\n  max-header-size: 16 KB\n",
                        "limits.max-header-size", 3, "expected a size like 1024, 64k, 10m or 1g (k = 1024 bytes), "
                                + "got '16 KB'"),
                bad("size too big for an int", ok + "limits:\n  retry-buffer: 4g\n", "limits.retry-buffer",
                        3, "must be less than 2g, got '4g'"),
                bad("retry buffer over its cap", ok + "limits:\n  retry-buffer: 65m\n", "limits.retry-buffer", 3,
                        "must be between 0 and 64m, got 65m"),
                bad("retry buffer over the body limit", ok + "limits:\n  max-request-body: 1m\n  retry-buffer: 2m\n",
                        "limits.retry-buffer", 4, "must not exceed limits.max-request-body (1048576), got 2m"),
                bad("size below the record's minimum", ok + "limits:\n  max-header-size: 512\n",
                        "limits.max-header-size", 3, "must be at least 1024 bytes, got 512"),
                bad("object larger than the cache", ok + "cache:\n  max-size: 1m\n  max-object-size: 2m\n",
                        "cache.max-object-size", 4, "must be positive and at most cache.max-size, got 2m"),
                bad("negative max-entries", ok + "cache:\n  max-entries: -1\n", "cache.max-entries", 3,
                        "must be between 0 (derived from the heap) and 2^30, got -1"),
                bad("unknown ttl-mode", ok + "cache:\n  ttl-mode: sometimes\n", "cache.ttl-mode", 3,
                        "must be one of default, override, cap, got 'sometimes'"),
                bad("unknown log format", ok + "log:\n  format: xml\n", "log.format", 3,
                        "must be one of default, combined, json, got 'xml'"),
                bad("unknown log level", ok + "log:\n  level: loud\n", "log.level", 3,
                        "must be one of trace, debug, info, warn, error, off, got 'loud'"),
                bad("health path without slash", ok + "health-check:\n  path: health\n", "health-check.path", 3,
                        "must start with /"),
                bad("fall below one", ok + "health-check:\n  fall: 0\n", "health-check.fall", 3,
                        "must be at least 1, got 0"),
                bad("admin on the public port", ok + "port: 9000\nadmin:\n  port: 9000\n", "admin.port", 4,
                        "must differ from the public port 9000"),
                bad("admin port out of range", ok + "admin:\n  port: -1\n", "admin.port", 3,
                        "must be between 0 and 65535, got -1"),
                bad("no streams over HTTP/2", ok + "http2:\n  max-concurrent-streams: 0\n",
                        "http2.max-concurrent-streams", 3, "must be between 1 and 10000, got 0"),
                bad("no open streams at all", ok + "http2:\n  max-open-streams: 0\n",
                        "http2.max-open-streams", 3, "must be between 1 and 1000000, got 0"),
                bad("retries too many", ok + "limits:\n  retries: 11\n", "limits.retries", 3,
                        "must be between 0 and 10, got 11"),
                bad("unknown balance", ok + "balance: fastest\n", "balance", 2,
                        "must be one of round-robin, weighted, least-request, ewma, hash, got 'fastest'"),
                bad("hash key of no known source", ok + "hash:\n  key: path\n", "hash.key", 3,
                        "must be uri, header:NAME, cookie:NAME or client-ip, got path"),
                bad("hash key naming no header", ok + "hash: { key: 'header:' }\n", "hash.key", 2,
                        "must be uri, header:NAME, cookie:NAME or client-ip"),
                bad("bounded load below the average", ok + "hash:\n  bounded-load: 0.5\n", "hash.bounded-load", 3,
                        "must be between 1.0 and 100 (0 = no bound), got 0.5"),
                bad("negative slow start", ok + "slow-start: -1s\n", "slow-start", 2,
                        "must be between 0s (off) and 1h, got -1s"));
    }

    private static Arguments bad(String name, String yaml, String key, int line, String problem) {
        return Arguments.of(name, yaml, key, line, problem);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void aBadFileIsOneErrorNamingFileLineAndKey(String name, String yaml, String key, int line, String problem)
            throws IOException {
        Path file = write(yaml);

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(file));

        assertThat(e).as("%s must be rejected", name).isNotNull();
        assertThat(e.source()).isEqualTo(file.toString());
        assertThat(e.key()).isEqualTo(key);
        assertThat(e.line()).as("line of %s in%n%s", key, yaml).isEqualTo(line);
        assertThat(e.problem()).contains(problem);
        assertThat(e.getMessage()).as("one line for stderr").doesNotContain("\n")
                .startsWith(file + ": " + (line > 0 ? "line " + line + ": " : "") + (key == null ? "" : key + ": "));
    }

    @Test
    void aMissingFileIsNamed() {
        Path missing = dir.resolve("nope.yaml");

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(missing));

        assertThat(e.getMessage()).isEqualTo(missing + ": cannot read: no such file");
    }

    @Test
    void aDirectoryIsNotAFile() {
        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(dir));

        assertThat(e.getMessage()).isEqualTo(dir + ": cannot read: is a directory, not a file");
    }

    @Test
    void bytesThatAreNotUtf8AreNamedAsSuch() throws IOException {
        Path file = dir.resolve("latin1.yaml");
        Files.write(file, "backends: [caf\u00e9:80]\n".getBytes(StandardCharsets.ISO_8859_1));

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(file));

        assertThat(e.getMessage()).isEqualTo(file + ": cannot read: not UTF-8 text");
    }

    @Test
    void anEmptyFileNeedsBackends() throws IOException {
        Path file = write("# nothing but a comment\n");

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(file));

        assertThat(e.key()).isEqualTo("backends");
        assertThat(e.problem()).startsWith("must list at least one backend");
    }

    @Test
    void aLogFileThatCannotBeCreatedIsRefusedBeforeLog4jTriesIt() throws IOException {
        Path notADirectory = write("backends: [127.0.0.1:9001]\nlog:\n  file: x\n");
        Path file = write("backends: [127.0.0.1:9001]\nlog:\n  file: " + notADirectory.resolve("logs/pibl.log") + "\n");

        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(file));

        assertThat(e.getMessage()).isEqualTo(file + ": line 3: log.file: cannot create " + notADirectory
                + "/logs/pibl.log: " + notADirectory + " is not a writable directory");
    }

    @Test
    void aFlagReplacesTheFileValueAndTakesTheBlameForItsErrors() throws IOException {
        Path file = write("port: 8080\nbackends: [127.0.0.1:9001]\ncache:\n  ttl: 5s\n");
        FlagOverride ttl = new FlagOverride("cache.ttl", "--ttl", "-5",
                c -> c.withCache(c.cache().withTtl(Duration.ofSeconds(-5))));
        FlagOverride port = new FlagOverride("port", "--port", "9000", c -> c.withPort(9000));

        assertThat(ConfigLoader.load(file, List.of(port)).config().port()).isEqualTo(9000);
        ConfigError e = catchThrowableOfType(ConfigError.class, () -> ConfigLoader.load(file, List.of(port, ttl)));
        assertThat(e.getMessage()).as("the file's cache.ttl on line 4 is fine; the flag is not")
                .isEqualTo("--ttl: must be zero or a positive number of seconds, got -5");
    }
}
