package pibl.config;

import java.util.List;

/**
 * One entry of {@code pools:}: a named set of backends with its own health checks and balancing. The top-level
 * {@code backends:} list is the shorthand for one pool named {@value #DEFAULT} ({@link PiblConfig#poolsInForce()}).
 *
 * <pre>
 * pools:
 *   static:
 *     backends: [{ address: 127.0.0.1:9003, weight: 2 }]
 *     health-check: { path: /healthz }   # the top-level health-check:, with these keys changed
 *     balance: least-request             # and hash:, slow-start:, as at the top level
 * </pre>
 *
 * @param name        letters, digits, {@code -} and {@code _}; what routes name it by
 * @param backends    at least one
 * @param healthCheck the top-level {@code health-check:} with this pool's overrides
 * @param balance     how its requests are spread over its backends
 */
public record PoolConfig(String name, List<BackendConfig> backends, HealthCheckConfig healthCheck,
                         BalanceConfig balance) {

    /** The name of the pool the {@code backends:} shorthand makes. */
    public static final String DEFAULT = "default";

    public PoolConfig {
        backends = backends == null ? List.of() : List.copyOf(backends);
    }

    /** {@code pools.shop.}: where this pool's keys are in the file. */
    public String prefix() {
        return "pools." + name + ".";
    }

    void validate() {
        if (name == null || !name.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new ConfigException("pools." + name, "a pool's name must be 1 to 64 letters, digits, - or _");
        }
        if (backends.isEmpty()) {
            throw new ConfigException(prefix() + "backends", "must list at least one backend as host:port");
        }
        for (int i = 0; i < backends.size(); i++) {
            backends.get(i).validate(prefix() + "backends[" + i + "]");
        }
        if (healthCheck == null) {
            throw new ConfigException(prefix() + "health-check", "section is missing");
        }
        healthCheck.validate(prefix());
        if (balance == null) {
            throw new ConfigException(prefix() + "balance", "section is missing");
        }
        balance.validate(prefix());
    }
}
