package pibl.config;

import java.time.Duration;
import java.util.Locale;

/**
 * How a pool spreads requests over its backends: {@code balance:}, {@code hash:} and {@code slow-start:}, at the top
 * level for the {@code backends:} shorthand or in a pool.
 *
 * @param policy      the algorithm
 * @param hashKey     what {@link Policy#HASH} hashes; ignored by the other policies
 * @param boundedLoad {@link Policy#HASH}: no backend takes more than this times the average in-flight load
 *                    (1.0..100); 0 turns the bound off (plain consistent hashing)
 * @param slowStart   how long a backend that comes back (health up, or added by a reload) takes to ramp from a small
 *                    share to its full share; zero turns it off
 */
public record BalanceConfig(Policy policy, HashKey hashKey, double boundedLoad, Duration slowStart) {

    /** The algorithms, as written in the file ({@code round-robin}, {@code least-request}, ...). */
    public enum Policy {
        /** Round robin; honours weights when they differ (smooth weighted round robin, as nginx). */
        ROUND_ROBIN,
        /** The same balancer as round robin, named for configurations whose weights differ. */
        WEIGHTED,
        /** Power of two random choices on in-flight requests, weight / (in-flight + 1). */
        LEAST_REQUEST,
        /** Peak-EWMA of latency times in-flight, with a penalty for backends that fail fast. */
        EWMA,
        /** Consistent hashing of {@link BalanceConfig#hashKey} with bounded loads. */
        HASH;

        /** As written in the file. */
        public String key() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** {@code uri}, {@code header:NAME}, {@code cookie:NAME} or {@code client-ip}. */
    public record HashKey(Source source, String name) {

        public enum Source { URI, HEADER, COOKIE, CLIENT_IP }

        public static final HashKey URI = new HashKey(Source.URI, null);

        /** Throws {@link IllegalArgumentException} with a message fit for the operator. */
        public static HashKey parse(String text) {
            String t = text == null ? "" : text.strip();
            String lower = t.toLowerCase(Locale.ROOT);
            if (lower.equals("uri")) {
                return URI;
            }
            if (lower.equals("client-ip")) {
                return new HashKey(Source.CLIENT_IP, null);
            }
            int colon = t.indexOf(':');
            String kind = colon < 0 ? lower : lower.substring(0, colon);
            String name = colon < 0 ? "" : t.substring(colon + 1).strip();
            if ((kind.equals("header") || kind.equals("cookie")) && !name.isEmpty() && token(name)) {
                return new HashKey(kind.equals("header") ? Source.HEADER : Source.COOKIE, name);
            }
            throw new IllegalArgumentException(
                    "must be uri, header:NAME, cookie:NAME or client-ip, got " + (t.isEmpty() ? "nothing" : t));
        }

        private static boolean token(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public String toString() {
            return switch (source) {
                case URI -> "uri";
                case CLIENT_IP -> "client-ip";
                case HEADER -> "header:" + name;
                case COOKIE -> "cookie:" + name;
            };
        }
    }

    /** Round robin, hash key {@code uri}, bounded load 1.25, slow start 30 s. */
    public static BalanceConfig defaults() {
        return new BalanceConfig(Policy.ROUND_ROBIN, HashKey.URI, 1.25, Duration.ofSeconds(30));
    }

    public BalanceConfig withPolicy(Policy p) {
        return new BalanceConfig(p, hashKey, boundedLoad, slowStart);
    }

    public BalanceConfig withSlowStart(Duration d) {
        return new BalanceConfig(policy, hashKey, boundedLoad, d);
    }

    /**
     * @param prefix where these keys are in the file: empty at the top level, {@code pools.shop.} in a pool
     */
    public void validate(String prefix) {
        if (policy == null) {
            throw new ConfigException(prefix + "balance", "must not be empty");
        }
        if (hashKey == null) {
            throw new ConfigException(prefix + "hash.key", "must not be empty");
        }
        if (!(boundedLoad == 0 || boundedLoad >= 1.0 && boundedLoad <= 100)) {
            throw new ConfigException(prefix + "hash.bounded-load",
                    "must be between 1.0 and 100 (0 = no bound), got " + boundedLoad);
        }
        if (slowStart == null || slowStart.isNegative() || slowStart.compareTo(Duration.ofHours(1)) > 0) {
            throw new ConfigException(prefix + "slow-start", "must be between 0s (off) and 1h, got " + slowStart);
        }
    }
}
