package pibl.lb;

import pibl.config.BalanceConfig;

import java.util.List;

/** Picks the balancer for a set of backends. */
public final class LoadBalancers {
    private LoadBalancers() {
    }

    /** A balancer for a new pool, by weights alone (round robin or smooth weighted). */
    public static LoadBalancer create(List<Backend> backends) {
        return create(backends, BalanceConfig.defaults(), new Panic());
    }

    /**
     * The balancer {@code balance.policy} names; {@code panic} is the pool's, handed on by a reload.
     * {@code round-robin} and {@code weighted} are the same choice: the exact, lock-free {@link RoundRobinBalancer}
     * when every weight is the same (the default 1), {@link SmoothWeightedBalancer} otherwise.
     */
    static LoadBalancer create(List<Backend> backends, BalanceConfig balance, Panic panic) {
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("no backends");
        }
        return switch (balance.policy()) {
            case ROUND_ROBIN, WEIGHTED -> {
                int first = backends.get(0).weight();
                boolean equal = backends.stream().allMatch(b -> b.weight() == first);
                yield equal ? new RoundRobinBalancer(backends, panic) : new SmoothWeightedBalancer(backends, panic);
            }
            case LEAST_REQUEST -> new LeastRequestBalancer(backends, panic, null);
            case EWMA -> new EwmaBalancer(backends, panic, null);
            case HASH -> new HashBalancer(backends, balance.hashKey(), balance.boundedLoad(), panic, null);
        };
    }
}
