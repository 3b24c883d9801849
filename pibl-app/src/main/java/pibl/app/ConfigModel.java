package pibl.app;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import pibl.config.AdminConfig;
import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
import pibl.config.CacheConfig;
import pibl.config.Cidr;
import pibl.config.ClusterConfig;
import pibl.config.ConfigException;
import pibl.config.HealthCheckConfig;
import pibl.config.Http2Config;
import pibl.config.LimitConfig;
import pibl.config.LogConfig;
import pibl.config.PiblConfig;
import pibl.config.PoolConfig;
import pibl.config.RouteConfig;
import pibl.config.TimeoutConfig;
import pibl.config.TlsConfig;

/**
 * {@code pibl.yaml} as Jackson binds it: field names are the file's keys in camel case (the mapper
 * turns {@code backendResponse} into {@code backend-response}). A field left null was not in the
 * file and takes the record's default. Jackson checks the shape (unknown keys, numbers, booleans);
 * durations, sizes, enums and addresses are kept as written and converted here, so that each error
 * names its key; ranges are left to the records' {@code validate()}.
 */
final class ConfigModel {
    public String bind;
    public Integer port;
    @JsonSetter(nulls = Nulls.SKIP)
    public List<Backend> backends = List.of();
    @JsonSetter(nulls = Nulls.SKIP)
    public Timeouts timeouts = new Timeouts();
    @JsonSetter(nulls = Nulls.SKIP)
    public Limits limits = new Limits();
    @JsonSetter(nulls = Nulls.SKIP)
    public Log log = new Log();
    @JsonSetter(nulls = Nulls.SKIP)
    public Cache cache = new Cache();
    @JsonSetter(nulls = Nulls.SKIP)
    public HealthCheck healthCheck = new HealthCheck();
    @JsonSetter(nulls = Nulls.SKIP)
    public Admin admin = new Admin();
    /** Null when the file has no {@code tls:} block: no TLS listener. */
    @JsonSetter(nulls = Nulls.SKIP)
    public Tls tls;
    @JsonSetter(nulls = Nulls.SKIP)
    public Http2 http2 = new Http2();
    /** {@code balance:}, {@code hash:}, {@code slow-start:} of the {@code backends:} shorthand pool. */
    public String balance;
    @JsonSetter(nulls = Nulls.SKIP)
    public Hash hash = new Hash();
    public String slowStart;
    /** In the file's order; YAML itself refuses a name given twice (and {@link KeyIndex} says where). */
    @JsonSetter(nulls = Nulls.SKIP)
    public Map<String, Pool> pools = new LinkedHashMap<>();
    @JsonSetter(nulls = Nulls.SKIP)
    public List<Route> routes = List.of();
    @JsonSetter(nulls = Nulls.SKIP)
    public List<String> trustedProxies = List.of();
    /** Null when the file has no {@code cluster:} block. */
    @JsonSetter(nulls = Nulls.SKIP)
    public Cluster cluster;

    /** The records, not yet validated (flags may still replace values). */
    PiblConfig toConfig() {
        PiblConfig d = PiblConfig.defaults(List.of());
        HealthCheckConfig health = healthCheck.toRecord("", d.healthCheck());
        BalanceConfig balancing = balance("", balance, hash, slowStart, d.balance());
        List<PoolConfig> poolList = new ArrayList<>();
        pools.forEach((name, pool) -> poolList.add(pool.toRecord(name, health, balancing)));
        List<RouteConfig> routeList = new ArrayList<>();
        for (int i = 0; i < routes.size(); i++) {
            routeList.add(routes.get(i).toRecord("routes[" + i + "]"));
        }
        return new PiblConfig(or(bind, d.bind()), or(port, d.port()), backends(backends, "backends"),
                timeouts.toRecord(d.timeouts()), limits.toRecord(d.limits()), log.toRecord(d.log()),
                cache.toRecord(d.cache()), health, admin.toRecord(d.admin()),
                tls == null ? TlsConfig.OFF : tls.toRecord(TlsConfig.OFF), http2.toRecord(d.http2()), balancing,
                poolList, routeList, cidrs("trusted-proxies", trustedProxies),
                cluster == null ? ClusterConfig.OFF : cluster.toRecord());
    }

    private static List<BackendConfig> backends(List<Backend> backends, String key) {
        List<BackendConfig> list = new ArrayList<>();
        for (int i = 0; i < backends.size(); i++) {
            list.add(backends.get(i).toRecord(key + "[" + i + "]"));
        }
        return list;
    }

    private static List<Cidr> cidrs(String key, List<String> texts) {
        List<Cidr> list = new ArrayList<>();
        for (int i = 0; texts != null && i < texts.size(); i++) {
            try {
                list.add(Cidr.parse(texts.get(i)));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key + "[" + i + "]", e.getMessage());
            }
        }
        return list;
    }

    /**
     * {@code pools.NAME}: backends, and the top-level {@code health-check:} and balancing keys changed where the pool
     * says otherwise.
     */
    static final class Pool {
        @JsonSetter(nulls = Nulls.SKIP)
        public List<Backend> backends = List.of();
        public HealthCheck healthCheck;
        public String balance;
        public Hash hash;
        public String slowStart;

        PoolConfig toRecord(String name, HealthCheckConfig topHealth, BalanceConfig topBalance) {
            String prefix = "pools." + name + ".";
            return new PoolConfig(name, backends(backends, prefix + "backends"),
                    healthCheck == null ? topHealth : healthCheck.toRecord(prefix, topHealth),
                    balance(prefix, balance, hash, slowStart, topBalance));
        }
    }

    /** One item of {@code routes:}; see {@link RouteConfig}. */
    static final class Route {
        public String host;
        public String path;
        public List<String> methods;
        public String pool;
        public RouteCache cache;
        public Headers headers;
        public RateLimit rateLimit;
        public List<String> allow;
        public List<String> deny;

        RouteConfig toRecord(String key) {
            RouteConfig.RateLimit limit = null;
            if (rateLimit != null) {
                if (rateLimit.perClient == null) {
                    throw new ConfigException(key + ".rate-limit.per-client", "is required, as a rate such as 50/s");
                }
                try {
                    limit = RouteConfig.RateLimit.parse(rateLimit.perClient, rateLimit.burst);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(key + ".rate-limit.per-client", e.getMessage());
                }
            }
            return new RouteConfig(host, path, methods, pool,
                    cache == null ? RouteConfig.CacheOverride.NONE : cache.toRecord(key + ".cache"),
                    headers == null ? RouteConfig.Headers.NONE : headers.toRecord(),
                    limit, cidrs(key + ".allow", allow), cidrs(key + ".deny", deny));
        }
    }

    /** A route's {@code cache:}: only the keys it changes. */
    static final class RouteCache {
        public Boolean enabled;
        public String ttl;
        public String ttlMode;

        RouteConfig.CacheOverride toRecord(String key) {
            return new RouteConfig.CacheOverride(enabled, duration(key + ".ttl", ttl, null),
                    ttlMode == null ? null : choice(key + ".ttl-mode", ttlMode, CacheConfig.TtlMode.class));
        }
    }

    /** A route's {@code headers:}. */
    static final class Headers {
        public Map<String, String> requestSet;
        public List<String> requestRemove;
        public Map<String, String> responseSet;
        public List<String> responseRemove;

        RouteConfig.Headers toRecord() {
            return new RouteConfig.Headers(requestSet, requestRemove, responseSet, responseRemove);
        }
    }

    /** A route's {@code rate-limit: { per-client: 50/s, burst: 100 }}. */
    static final class RateLimit {
        public String perClient;
        public Integer burst;
    }

    /**
     * {@code - 127.0.0.1:9001}, or {@code - { address: 127.0.0.1:9001, weight: 5 }}, or over TLS
     * {@code - { address: api.internal:443, tls: true, sni: name, verify: true, ca: FILE }}.
     */
    static final class Backend {
        public String address;
        public Integer weight;
        public Boolean tls;
        public String sni;
        public Boolean verify;
        public String ca;
        /** The short form: errors then name the list item itself. */
        boolean shortForm;

        Backend() {
        }

        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        static Backend of(String address) {
            Backend b = new Backend();
            b.address = address;
            b.shortForm = true;
            return b;
        }

        BackendConfig toRecord(String key) {
            if (address == null) {
                throw new ConfigException(key + ".address", "is required, as host:port");
            }
            BackendConfig parsed;
            try {
                parsed = BackendConfig.parse(address);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(shortForm ? key : key + ".address", e.getMessage());
            }
            return new BackendConfig(parsed.host(), parsed.port(), or(weight, parsed.weight()), tls(key));
        }

        /** Written without {@code tls: true}, even {@code verify: true} is a mistake: it would check nothing. */
        private BackendConfig.Tls tls(String key) {
            if (!Boolean.TRUE.equals(tls)) {
                String given = sni != null ? "sni" : verify != null ? "verify" : ca != null ? "ca" : null;
                if (given != null) {
                    throw BackendConfig.Tls.withoutTls(key + "." + given);
                }
                return BackendConfig.Tls.OFF;
            }
            BackendConfig.Tls d = BackendConfig.Tls.ON;
            return new BackendConfig.Tls(true, or(sni, d.sni()), or(verify, d.verify()),
                    ca == null ? d.ca() : Path.of(ca));
        }
    }

    static final class Timeouts {
        public String connect;
        public String backendResponse;
        public String clientIdle;
        public String clientHeader;
        public String drain;
        public String tunnelIdle;

        TimeoutConfig toRecord(TimeoutConfig d) {
            return new TimeoutConfig(
                    duration("timeouts.connect", connect, d.connect()),
                    duration("timeouts.backend-response", backendResponse, d.backendResponse()),
                    duration("timeouts.client-idle", clientIdle, d.clientIdle()),
                    duration("timeouts.client-header", clientHeader, d.clientHeader()),
                    duration("timeouts.drain", drain, d.drain()),
                    duration("timeouts.tunnel-idle", tunnelIdle, d.tunnelIdle()));
        }
    }

    static final class Limits {
        public String maxRequestBody;
        public String retryBuffer;
        public String maxHeaderSize;
        public String maxInitialLine;
        public Integer maxConnections;
        public Integer retries;

        LimitConfig toRecord(LimitConfig d) {
            long maxBody = size("limits.max-request-body", maxRequestBody, d.maxRequestBody());
            // Left out, the retry buffer is its default, or the whole body limit when that is smaller.
            int retry = retryBuffer == null ? (int) Math.min(d.retryBuffer(), maxBody)
                    : intSize("limits.retry-buffer", retryBuffer, d.retryBuffer());
            return new LimitConfig(maxBody, retry,
                    intSize("limits.max-header-size", maxHeaderSize, d.maxHeaderSize()),
                    intSize("limits.max-initial-line", maxInitialLine, d.maxInitialLine()),
                    or(maxConnections, d.maxConnections()),
                    or(retries, d.retries()));
        }
    }

    static final class Log {
        public String file;
        public String format;
        /** Not a core setting: it goes to Log4j2 as {@code pibl.log.level}. */
        public String level;
        public String traceContext;

        LogConfig toRecord(LogConfig d) {
            return new LogConfig(file == null ? d.file() : Path.of(file),
                    format == null ? d.format() : choice("log.format", format, LogConfig.Format.class),
                    traceContext == null ? d.traceContext()
                            : choice("log.trace-context", traceContext, LogConfig.TraceContext.class));
        }

        LogLevel level() {
            return level == null ? null : LogLevel.parse("log.level", level);
        }
    }

    static final class Cache {
        public Boolean enabled;
        public String directory;
        public String ttl;
        public String ttlMode;
        public String maxSize;
        public String maxObjectSize;
        public String memorySize;
        public Boolean storeSetCookie;
        public String staleIfError;
        public Long maxEntries;
        public String targetedField;
        public String heuristic;
        public String heuristicMax;

        CacheConfig toRecord(CacheConfig d) {
            return new CacheConfig(
                    or(enabled, d.enabled()),
                    directory == null ? d.directory() : Path.of(directory),
                    duration("cache.ttl", ttl, d.ttl()),
                    ttlMode == null ? d.ttlMode() : choice("cache.ttl-mode", ttlMode, CacheConfig.TtlMode.class),
                    size("cache.max-size", maxSize, d.maxSize()),
                    size("cache.max-object-size", maxObjectSize, d.maxObjectSize()),
                    size("cache.memory-size", memorySize, d.memorySize()),
                    or(storeSetCookie, d.storeSetCookie()),
                    duration("cache.stale-if-error", staleIfError, d.staleIfError()),
                    or(maxEntries, d.maxEntries()),
                    targetedField == null ? d.targetedField() : targetedField.strip(),
                    heuristic == null ? d.heuristic() : percent("cache.heuristic", heuristic),
                    duration("cache.heuristic-max", heuristicMax, d.heuristicMax()));
        }

        /** {@code 10%}, or {@code off} (YAML may hand it over as {@code false}) for 0; range checked by the record. */
        private static int percent(String key, String text) {
            String t = text.strip();
            if (t.equalsIgnoreCase("off") || t.equalsIgnoreCase("false") || t.equals("0")) {
                return 0;
            }
            if (!t.matches("[0-9]{1,3}%")) {
                throw new ConfigException(key, "must be a percentage such as 10% (or off), got " + text);
            }
            return Integer.parseInt(t.substring(0, t.length() - 1));
        }
    }

    static final class HealthCheck {
        public Boolean enabled;
        public String path;
        public String interval;
        public String timeout;
        public Integer fall;
        public Integer rise;
        public Integer passiveFailures;
        public String passiveCooldown;

        /** @param prefix empty at the top level, {@code pools.shop.} in a pool (whose {@code d} is the top level's) */
        HealthCheckConfig toRecord(String prefix, HealthCheckConfig d) {
            String key = prefix + "health-check.";
            return new HealthCheckConfig(
                    or(enabled, d.enabled()),
                    or(path, d.path()),
                    duration(key + "interval", interval, d.interval()),
                    duration(key + "timeout", timeout, d.timeout()),
                    or(fall, d.fall()),
                    or(rise, d.rise()),
                    or(passiveFailures, d.passiveFailures()),
                    duration(key + "passive-cooldown", passiveCooldown, d.passiveCooldown()));
        }
    }

    /** {@code cluster:} self, peers (host:port each) and secret-file, all three required. */
    static final class Cluster {
        public String self;
        @JsonSetter(nulls = Nulls.SKIP)
        public List<String> peers = List.of();
        public String secretFile;
        public HotCopy hotCopy;

        /** {@code cluster.hot-copy:} both keys required. */
        static final class HotCopy {
            public String maxSize;
            public String ttl;
        }

        ClusterConfig toRecord() {
            if (self == null) {
                throw new ConfigException("cluster.self", "is required: host:port, how the peers reach this node");
            }
            if (peers.isEmpty()) {
                throw new ConfigException("cluster.peers", "is required: every node's host:port, this one's too");
            }
            List<BackendConfig> nodes = new ArrayList<>();
            for (int i = 0; i < peers.size(); i++) {
                nodes.add(address("cluster.peers[" + i + "]", peers.get(i)));
            }
            ClusterConfig.HotCopy copies = null;
            if (hotCopy != null) {
                if (hotCopy.maxSize == null || hotCopy.ttl == null) {
                    throw new ConfigException("cluster.hot-copy", "needs both max-size (e.g. 64m) and ttl (e.g. 5s)");
                }
                copies = new ClusterConfig.HotCopy(size("cluster.hot-copy.max-size", hotCopy.maxSize, 0),
                        duration("cluster.hot-copy.ttl", hotCopy.ttl, null));
            }
            return new ClusterConfig(address("cluster.self", self), nodes,
                    secretFile == null ? null : Path.of(secretFile), copies);
        }

        private static BackendConfig address(String key, String text) {
            try {
                return BackendConfig.parse(text);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key, e.getMessage());
            }
        }
    }

    static final class Admin {
        public Boolean enabled;
        public String host;
        public Integer port;

        AdminConfig toRecord(AdminConfig d) {
            return new AdminConfig(or(enabled, d.enabled()), or(host, d.host()), or(port, d.port()));
        }
    }

    /** Present (even empty) means on: {@code certificates} is then required. */
    static final class Tls {
        public Integer port;
        public List<Certificate> certificates;
        public List<String> protocols;
        public Boolean redirectHttp;
        public String hsts;

        TlsConfig toRecord(TlsConfig d) {
            List<TlsConfig.Certificate> list = new ArrayList<>();
            if (certificates != null) {
                for (Certificate c : certificates) {
                    list.add(new TlsConfig.Certificate(c.cert == null ? null : Path.of(c.cert),
                            c.key == null ? null : Path.of(c.key)));
                }
            }
            return new TlsConfig(true, or(port, d.port()), list, or(protocols, d.protocols()),
                    or(redirectHttp, d.redirectHttp()), duration("tls.hsts", hsts, d.hsts()));
        }
    }

    /** {@code { cert: FILE, key: FILE }}. */
    static final class Certificate {
        public String cert;
        public String key;
    }

    static final class Http2 {
        public Boolean enabled;
        public Integer maxConcurrentStreams;
        public Integer maxOpenStreams;

        Http2Config toRecord(Http2Config d) {
            return new Http2Config(or(enabled, d.enabled()), or(maxConcurrentStreams, d.maxConcurrentStreams()),
                    or(maxOpenStreams, d.maxOpenStreams()));
        }
    }

    /** {@code hash: { key: cookie:SESSION, bounded-load: 1.25 }}. */
    static final class Hash {
        public String key;
        public Double boundedLoad;
    }

    /**
     * The balancing keys of a pool, or of the top level when {@code prefix} is empty ({@code pools.shop.} in a
     * pool); ranges are left to {@link BalanceConfig#validate}.
     */
    static BalanceConfig balance(String prefix, String policy, Hash hash, String slowStart, BalanceConfig d) {
        BalanceConfig.HashKey key = d.hashKey();
        if (hash != null && hash.key != null) {
            try {
                key = BalanceConfig.HashKey.parse(hash.key);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(prefix + "hash.key", e.getMessage());
            }
        }
        return new BalanceConfig(
                policy == null ? d.policy() : choice(prefix + "balance", policy, BalanceConfig.Policy.class),
                key,
                hash == null || hash.boundedLoad == null ? d.boundedLoad() : hash.boundedLoad,
                duration(prefix + "slow-start", slowStart, d.slowStart()));
    }

    private static <T> T or(T value, T otherwise) {
        return value == null ? otherwise : value;
    }

    private static Duration duration(String key, String text, Duration otherwise) {
        return text == null ? otherwise : Units.duration(key, text);
    }

    private static long size(String key, String text, long otherwise) {
        return text == null ? otherwise : Units.size(key, text);
    }

    private static int intSize(String key, String text, int otherwise) {
        return text == null ? otherwise : Units.intSize(key, text);
    }

    /** {@code default} for {@code DEFAULT}; the message lists the choices. */
    private static <E extends Enum<E>> E choice(String key, String text, Class<E> type) {
        try {
            return Enum.valueOf(type, text.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            String names = Arrays.stream(type.getEnumConstants())
                    .map(c -> c.name().toLowerCase(Locale.ROOT).replace('_', '-'))
                    .collect(Collectors.joining(", "));
            throw new ConfigException(key, "must be one of " + names + ", got '" + text + "'");
        }
    }
}
