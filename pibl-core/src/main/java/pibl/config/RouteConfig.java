package pibl.config;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One entry of {@code routes:}: which requests it takes ({@link #match()}), the pool they go to, and what it changes
 * on their way. The first route that matches a request takes it.
 *
 * <pre>
 * - { host: "shop.example", path: /static/, pool: static, cache: { ttl: 1h } }
 * - { host: "*.shop.example", pool: shop, headers: { request-set: { X-Site: shop }, response-remove: [Server] } }
 * - { path: /api/, methods: [GET, POST], pool: sessions, rate-limit: { per-client: 50/s, burst: 100 },
 *     allow: [10.0.0.0/8], deny: [10.6.6.0/24] }
 * - { pool: shop }                    # no host or path: every request the routes above left
 * </pre>
 *
 * @param host      exact or {@code *.suffix}; null: any host
 * @param path      a path prefix on segment boundaries; null: any path
 * @param methods   empty: any method
 * @param pool      the name of the pool its requests go to
 * @param cache     what of {@code cache:} this route changes; {@link CacheOverride#NONE} changes nothing
 * @param headers   fields set on or removed from the request to the backend and the response to the client
 * @param rateLimit per client address; null: none
 * @param allow     when not empty, only clients in these networks are served (403 for the others)
 * @param deny      clients in these networks get 403, even when {@code allow} lists them
 */
public record RouteConfig(String host, String path, List<String> methods, String pool, CacheOverride cache,
                          Headers headers, RateLimit rateLimit, List<Cidr> allow, List<Cidr> deny) {

    public RouteConfig {
        methods = methods == null ? List.of() : List.copyOf(methods);
        cache = cache == null ? CacheOverride.NONE : cache;
        headers = headers == null ? Headers.NONE : headers;
        allow = allow == null ? List.of() : List.copyOf(allow);
        deny = deny == null ? List.of() : List.copyOf(deny);
    }

    /** Every request, to {@code pool}, changing nothing: the route of the {@code backends:} shorthand. */
    public static RouteConfig catchAll(String pool) {
        return new RouteConfig(null, null, List.of(), pool, CacheOverride.NONE, Headers.NONE, null, List.of(),
                List.of());
    }

    /** What {@code host}, {@code path} and {@code methods} select; throws {@link ConfigException} under {@code key}. */
    public RouteMatch match(String key) {
        try {
            return RouteMatch.of(host, path, methods);
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            int colon = m.indexOf(": ");
            throw new ConfigException(key + "." + m.substring(0, colon), m.substring(colon + 2));
        }
    }

    /** The one word that names the route in the access log, {@code /status} and {@code /metrics}. */
    public String label() {
        return match("route").label();
    }

    public RouteConfig withHost(String h) {
        return new RouteConfig(h, path, methods, pool, cache, headers, rateLimit, allow, deny);
    }

    public RouteConfig withPath(String p) {
        return new RouteConfig(host, p, methods, pool, cache, headers, rateLimit, allow, deny);
    }

    public RouteConfig withMethods(List<String> m) {
        return new RouteConfig(host, path, m, pool, cache, headers, rateLimit, allow, deny);
    }

    public RouteConfig withCache(CacheOverride c) {
        return new RouteConfig(host, path, methods, pool, c, headers, rateLimit, allow, deny);
    }

    public RouteConfig withHeaders(Headers h) {
        return new RouteConfig(host, path, methods, pool, cache, h, rateLimit, allow, deny);
    }

    public RouteConfig withRateLimit(RateLimit r) {
        return new RouteConfig(host, path, methods, pool, cache, headers, r, allow, deny);
    }

    public RouteConfig withAllow(List<Cidr> a) {
        return new RouteConfig(host, path, methods, pool, cache, headers, rateLimit, a, deny);
    }

    public RouteConfig withDeny(List<Cidr> d) {
        return new RouteConfig(host, path, methods, pool, cache, headers, rateLimit, allow, d);
    }

    /**
     * @param key   {@code routes[2]}
     * @param pools the names of the pools in force
     * @param base  {@code cache:}, which {@link #cache} changes
     */
    void validate(String key, Set<String> pools, CacheConfig base) {
        match(key);
        if (pool == null || pool.isBlank()) {
            throw new ConfigException(key + ".pool", "is required: the name of the pool its requests go to");
        }
        if (!pools.contains(pool)) {
            throw new ConfigException(key + ".pool", "no pool is named " + pool + " (there are: "
                    + String.join(", ", pools) + ")");
        }
        cache.validate(key + ".cache", base);
        headers.validate(key + ".headers");
        if (rateLimit != null) {
            rateLimit.validate(key + ".rate-limit");
        }
    }

    /**
     * The {@code cache:} keys a route may change; null leaves a key as {@code cache:} has it.
     *
     * @param enabled false: the route's requests are never looked up nor stored (BYPASS)
     * @param ttl     {@code cache.ttl} for the responses of this route
     * @param ttlMode {@code cache.ttl-mode} for them
     */
    public record CacheOverride(Boolean enabled, Duration ttl, CacheConfig.TtlMode ttlMode) {
        public static final CacheOverride NONE = new CacheOverride(null, null, null);

        /** {@code base} with this route's changes. */
        public CacheConfig applyTo(CacheConfig base) {
            if (equals(NONE)) {
                return base;
            }
            return new CacheConfig(enabled == null ? base.enabled() : enabled, base.directory(),
                    ttl == null ? base.ttl() : ttl, ttlMode == null ? base.ttlMode() : ttlMode, base.maxSize(),
                    base.maxObjectSize(), base.memorySize(), base.storeSetCookie(), base.staleIfError(),
                    base.maxEntries(), base.targetedField(), base.heuristic(), base.heuristicMax());
        }

        void validate(String key, CacheConfig base) {
            if (Boolean.TRUE.equals(enabled) && !base.enabled()) {
                throw new ConfigException(key + ".enabled", "cannot turn the cache on for one route while "
                        + "cache.enabled is false: there is no cache to store in");
            }
            if (ttl != null && ttl.isNegative()) {
                throw new ConfigException(key + ".ttl", "must be zero or a positive number of seconds, got " + ttl);
            }
        }
    }

    /**
     * Field rewrites. On the request to the backend after PIBL's own hop rules (so {@code X-Forwarded-For} can be
     * removed, {@code Host} set); on the response to the client as it is sent, from the backend or from the cache
     * (the cache stores what the backend said). Removals first, then the fields set (replacing any of the name).
     * The fields that frame a message or describe a connection are PIBL's and refused here.
     */
    public record Headers(Map<String, String> requestSet, List<String> requestRemove,
                          Map<String, String> responseSet, List<String> responseRemove) {
        public static final Headers NONE = new Headers(Map.of(), List.of(), Map.of(), List.of());

        public Headers {
            requestSet = ordered(requestSet);
            requestRemove = requestRemove == null ? List.of() : List.copyOf(requestRemove);
            responseSet = ordered(responseSet);
            responseRemove = responseRemove == null ? List.of() : List.copyOf(responseRemove);
        }

        private static Map<String, String> ordered(Map<String, String> m) {
            return m == null || m.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(m));
        }

        public boolean rewritesRequest() {
            return !requestSet.isEmpty() || !requestRemove.isEmpty();
        }

        public boolean rewritesResponse() {
            return !responseSet.isEmpty() || !responseRemove.isEmpty();
        }

        void validate(String key) {
            names(key + ".request-set", requestSet);
            names(key + ".request-remove", requestRemove);
            for (int i = 0; i < requestRemove.size(); i++) {
                if (requestRemove.get(i).equalsIgnoreCase("host")) {
                    throw new ConfigException(key + ".request-remove[" + i + "]",
                            "a backend needs Host; set it with request-set instead");
                }
            }
            names(key + ".response-set", responseSet);
            names(key + ".response-remove", responseRemove);
        }

        /** A name's error is the map's (the file's text under the name's key is its value). */
        private static void names(String key, Map<String, String> set) {
            for (Map.Entry<String, String> e : set.entrySet()) {
                name(key, e.getKey());
                if (!HeaderNames.isValue(e.getValue())) {
                    throw new ConfigException(key + "." + e.getKey(), "must be a field value without control "
                            + "characters, got " + e.getValue());
                }
            }
        }

        private static void names(String key, List<String> remove) {
            for (int i = 0; i < remove.size(); i++) {
                name(key + "[" + i + "]", remove.get(i));
            }
        }

        private static void name(String key, String name) {
            if (!HeaderNames.isToken(name)) {
                throw new ConfigException(key, "'" + name + "' is not a header field name");
            }
            if (HeaderNames.isManaged(name)) {
                throw new ConfigException(key, name + ": PIBL sets it for each hop (it frames the message or "
                        + "describes the connection)");
            }
        }
    }

    /**
     * A token bucket per client address: {@code count} requests per {@code per} on average, up to {@code burst} at
     * once. Beyond it, 429 with {@code Retry-After}.
     *
     * @param count how many requests per {@code per}
     * @param per   one second, minute or hour
     * @param burst the bucket's size: requests a client may send at once after a quiet spell
     */
    public record RateLimit(int count, Duration per, int burst) {
        static final int MAX = 1_000_000;

        /** {@code 50/s}, {@code 600/m}, {@code 1000/h}; throws {@link IllegalArgumentException} for anything else. */
        public static RateLimit parse(String rate, Integer burst) {
            String t = rate == null ? "" : rate.strip().toLowerCase(Locale.ROOT).replace(" ", "");
            int slash = t.indexOf('/');
            String n = slash < 0 ? "" : t.substring(0, slash);
            String unit = slash < 0 ? "" : t.substring(slash + 1);
            Duration per = switch (unit) {
                case "s" -> Duration.ofSeconds(1);
                case "m" -> Duration.ofMinutes(1);
                case "h" -> Duration.ofHours(1);
                default -> null;
            };
            if (per == null || !n.matches("[0-9]{1,7}")) {
                throw new IllegalArgumentException("must be a rate such as 50/s, 600/m or 1000/h, got "
                        + (t.isEmpty() ? "nothing" : rate));
            }
            int count = Integer.parseInt(n);
            return new RateLimit(count, per, burst == null ? Math.max(1, count) : burst);
        }

        /** The time one request's token takes to come back. */
        public long intervalNanos() {
            return Math.max(1, per.toNanos() / count);
        }

        void validate(String key) {
            if (count < 1 || count > MAX) {
                throw new ConfigException(key + ".per-client", "must be between 1 and " + MAX + " requests per "
                        + "second, minute or hour, got " + count);
            }
            if (burst < 1 || burst > MAX) {
                throw new ConfigException(key + ".burst", "must be between 1 and " + MAX + ", got " + burst);
            }
        }

        @Override
        public String toString() {
            String unit = per.equals(Duration.ofSeconds(1)) ? "s" : per.equals(Duration.ofMinutes(1)) ? "m" : "h";
            return count + "/" + unit + " burst " + burst;
        }
    }
}
