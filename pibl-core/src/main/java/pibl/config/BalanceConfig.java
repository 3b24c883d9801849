package pibl.config;

import java.time.Duration;

/**
 * How one pool chooses among its backends ({@code pools.NAME.balance}, {@code .hash}, {@code .slow-start}).
 *
 * @param policy      round-robin (default), weighted, least-request, ewma or hash
 * @param hashKey     for {@code hash}: uri, header:NAME, cookie:NAME or client-ip; {@code null} otherwise
 * @param boundedLoad for {@code hash}: no backend carries more than this times the average load (&gt; 1.0)
 * @param slowStart   a backend that comes back ramps to its full share over this long; zero = off
 */
public record BalanceConfig(Policy policy, String hashKey, double boundedLoad, Duration slowStart) {

    /** The balancing policies, spelled as in the file. */
    public enum Policy {
        ROUND_ROBIN("round-robin"), WEIGHTED("weighted"), LEAST_REQUEST("least-request"), EWMA("ewma"), HASH("hash");

        private final String spelling;

        Policy(String spelling) {
            this.spelling = spelling;
        }

        public String spelling() {
            return spelling;
        }

        /** The policy spelled {@code text}, or {@code null}. */
        public static Policy of(String text) {
            for (Policy p : values()) {
                if (p.spelling.equals(text)) {
                    return p;
                }
            }
            return null;
        }
    }

    /** Round robin (weighted when weights differ), 30 s slow start. */
    public static BalanceConfig defaults() {
        return new BalanceConfig(Policy.ROUND_ROBIN, null, 1.25, Duration.ofSeconds(30));
    }
}
