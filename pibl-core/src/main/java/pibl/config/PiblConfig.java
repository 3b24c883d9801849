package pibl.config;

import java.util.List;

/**
 * Everything PIBL needs to run, immutable. {@code pibl-app} builds it from {@code pibl.yaml} and
 * the command line; tests build it in code. {@code pibl-core} never reads YAML or flags.
 *
 * @param bind     address the public listener binds to
 * @param port     public port; 0 picks an ephemeral one (tests)
 * @param backends at least one
 * @param tls      the TLS listener; {@link TlsConfig#OFF} when the file has no {@code tls:} block
 * @param http2    HTTP/2 towards clients (h2c by prior knowledge on the cleartext port)
 * @param balance  how requests are spread over {@code backends}
 */
public record PiblConfig(String bind, int port, List<BackendConfig> backends, TimeoutConfig timeouts,
                         LimitConfig limits, LogConfig log, CacheConfig cache, HealthCheckConfig healthCheck,
                         AdminConfig admin, TlsConfig tls, Http2Config http2, BalanceConfig balance) {

    public PiblConfig {
        backends = backends == null ? List.of() : List.copyOf(backends);
    }

    /** Without TLS, {@code http2} and {@code balance} at their defaults. */
    public PiblConfig(String bind, int port, List<BackendConfig> backends, TimeoutConfig timeouts, LimitConfig limits,
                      LogConfig log, CacheConfig cache, HealthCheckConfig healthCheck, AdminConfig admin) {
        this(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, TlsConfig.OFF,
                Http2Config.defaults(), BalanceConfig.defaults());
    }

    /** The defaults of every section, port 8080, and the given backends. */
    public static PiblConfig defaults(List<BackendConfig> backends) {
        return new PiblConfig("0.0.0.0", 8080, backends, TimeoutConfig.defaults(), LimitConfig.defaults(),
                LogConfig.defaults(), CacheConfig.defaults(), HealthCheckConfig.defaults(), AdminConfig.defaults());
    }

    /**
     * Checks every value; throws {@link ConfigException} naming the first bad key.
     *
     * @return this, for chaining
     */
    public PiblConfig validate() {
        if (bind == null || bind.isBlank()) {
            throw new ConfigException("bind", "must not be empty");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException("port", "must be between 0 and 65535 (0 = any free port), got " + port);
        }
        if (backends.isEmpty()) {
            throw new ConfigException("backends", "must list at least one backend as host:port");
        }
        for (int i = 0; i < backends.size(); i++) {
            backends.get(i).validate("backends[" + i + "]");
        }
        require("timeouts", timeouts).validate();
        require("limits", limits).validate();
        require("log", log).validate();
        require("cache", cache).validate();
        require("health-check", healthCheck).validate();
        require("admin", admin).validate();
        if (admin.enabled() && admin.port() != 0 && admin.port() == port) {
            throw new ConfigException("admin.port", "must differ from the public port " + port);
        }
        require("http2", http2).validate();
        require("tls", tls).validate();
        require("balance", balance).validate("");
        if (tls.enabled() && tls.port() != 0 && (tls.port() == port || admin.enabled() && tls.port() == admin.port())) {
            throw new ConfigException("tls.port", "must differ from the public and admin ports, got " + tls.port());
        }
        return this;
    }

    private static <T> T require(String key, T section) {
        if (section == null) {
            throw new ConfigException(key, "section is missing");
        }
        return section;
    }

    public PiblConfig withBind(String newBind) {
        return new PiblConfig(newBind, port, backends, timeouts, limits, log, cache, healthCheck, admin, tls, http2,
                balance);
    }

    public PiblConfig withPort(int newPort) {
        return new PiblConfig(bind, newPort, backends, timeouts, limits, log, cache, healthCheck, admin, tls, http2,
                balance);
    }

    public PiblConfig withBackends(List<BackendConfig> newBackends) {
        return new PiblConfig(bind, port, newBackends, timeouts, limits, log, cache, healthCheck, admin, tls, http2,
                balance);
    }

    public PiblConfig withTimeouts(TimeoutConfig newTimeouts) {
        return new PiblConfig(bind, port, backends, newTimeouts, limits, log, cache, healthCheck, admin, tls, http2,
                balance);
    }

    public PiblConfig withLimits(LimitConfig newLimits) {
        return new PiblConfig(bind, port, backends, timeouts, newLimits, log, cache, healthCheck, admin, tls, http2,
                balance);
    }

    public PiblConfig withLog(LogConfig newLog) {
        return new PiblConfig(bind, port, backends, timeouts, limits, newLog, cache, healthCheck, admin, tls, http2,
                balance);
    }

    public PiblConfig withCache(CacheConfig newCache) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, newCache, healthCheck, admin, tls, http2,
                balance);
    }

    public PiblConfig withHealthCheck(HealthCheckConfig newHealthCheck) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, newHealthCheck, admin, tls, http2,
                balance);
    }

    public PiblConfig withAdmin(AdminConfig newAdmin) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, healthCheck, newAdmin, tls, http2,
                balance);
    }

    public PiblConfig withHttp2(Http2Config newHttp2) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, tls, newHttp2,
                balance);
    }

    public PiblConfig withTls(TlsConfig newTls) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, newTls, http2,
                balance);
    }

    public PiblConfig withBalance(BalanceConfig newBalance) {
        return new PiblConfig(bind, port, backends, timeouts, limits, log, cache, healthCheck, admin, tls, http2,
                newBalance);
    }
}
