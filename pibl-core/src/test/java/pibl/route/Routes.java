package pibl.route;

import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
import pibl.config.HealthCheckConfig;
import pibl.config.PiblConfig;
import pibl.config.PoolConfig;
import pibl.config.RouteConfig;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

/** Pools, routes and routers built in code for tests (pibl-core reads no YAML). */
public final class Routes {
    /** Active checks off: they would add requests to every count. */
    public static final HealthCheckConfig NO_ACTIVE_CHECKS = new HealthCheckConfig(false, "/health",
            Duration.ofSeconds(2), Duration.ofSeconds(1), 3, 2, 3, Duration.ofSeconds(10));

    private Routes() {
    }

    /** A pool of {@code host:port} backends, round robin, without active checks. */
    public static PoolConfig pool(String name, String... backends) {
        return new PoolConfig(name, Arrays.stream(backends).map(BackendConfig::parse).toList(), NO_ACTIVE_CHECKS,
                BalanceConfig.defaults());
    }

    /** {@code base} with these pools and routes instead of its {@code backends:}, validated. */
    public static PiblConfig config(PiblConfig base, List<PoolConfig> pools, RouteConfig... routes) {
        return base.withBackends(List.of()).withPools(pools).withRoutes(List.of(routes)).validate();
    }

    /** A router over its own pools, refilling rate limits by {@code nanoTime}. */
    public static Router router(PiblConfig config, LongSupplier nanoTime) {
        return Router.create(config, Pools.create(config.poolsInForce()), config.cache(), nanoTime);
    }

    /** The same, with the defaults of every other section. */
    public static Router router(List<PoolConfig> pools, RouteConfig... routes) {
        return router(config(PiblConfig.defaults(List.of()), pools, routes), System::nanoTime);
    }
}
