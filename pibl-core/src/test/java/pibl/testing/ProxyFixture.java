package pibl.testing;

import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
import pibl.config.CacheConfig;
import pibl.config.HealthCheckConfig;
import pibl.config.PiblConfig;
import pibl.config.TimeoutConfig;
import pibl.server.ProxyServer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

/** Builds a PIBL on an ephemeral loopback port in front of the given backends. */
public final class ProxyFixture {
    private ProxyFixture() {
    }

    public static PiblConfig config(List<String> backendAddresses) {
        List<BackendConfig> backends = backendAddresses.stream().map(BackendConfig::parse).toList();
        PiblConfig defaults = PiblConfig.defaults(backends);
        return defaults.withPort(0)
                .withAdmin(new pibl.config.AdminConfig(false, "127.0.0.1", 0))
                .withCache(new CacheConfig(false, Path.of("target", "unused-cache"), Duration.ZERO,
                        CacheConfig.TtlMode.DEFAULT, 1 << 20, 1 << 20, 0, false, Duration.ZERO))
                .withTimeouts(new TimeoutConfig(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(30),
                        Duration.ofSeconds(10), Duration.ofSeconds(2)))
                .withBind("127.0.0.1")
                // Active checks off unless a test wants them: they would add requests to every count.
                .withHealthCheck(new HealthCheckConfig(false, "/health", Duration.ofSeconds(2), Duration.ofSeconds(1),
                        3, 2, 3, Duration.ofSeconds(10)))
                // Slow start off unless a test wants it: a backend back in rotation would get a tenth of its turns,
                // and the tests of health and rotation count whole turns.
                .withBalance(BalanceConfig.defaults().withSlowStart(Duration.ZERO));
    }

    /** The cache on, in {@code dir}, with the given default TTL. */
    public static PiblConfig withCache(PiblConfig config, Path dir, Duration ttl) {
        return config.withCache(new CacheConfig(true, dir, ttl, CacheConfig.TtlMode.DEFAULT, 1L << 30, 256L << 20,
                16L << 20, false, Duration.ZERO));
    }

    public static ProxyServer start(List<String> backendAddresses) throws Exception {
        return new ProxyServer(config(backendAddresses)).start();
    }

    public static ProxyServer start(List<String> backendAddresses, UnaryOperator<PiblConfig> tweak)
            throws Exception {
        return new ProxyServer(tweak.apply(config(backendAddresses))).start();
    }
}
