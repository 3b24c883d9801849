package pibl.lb;

import java.util.List;

/** Picks the balancer for a set of backends. */
public final class LoadBalancers {
    private LoadBalancers() {
    }

    /** A balancer for a new pool. */
    public static LoadBalancer create(List<Backend> backends) {
        return create(backends, new Panic());
    }

    /**
     * Exact, lock-free {@link RoundRobinBalancer} when every weight is the same (the default 1),
     * {@link SmoothWeightedBalancer} otherwise; {@code panic} is the pool's, handed on by a reload.
     */
    static LoadBalancer create(List<Backend> backends, Panic panic) {
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("no backends");
        }
        int first = backends.get(0).weight();
        boolean equal = backends.stream().allMatch(b -> b.weight() == first);
        return equal ? new RoundRobinBalancer(backends, panic) : new SmoothWeightedBalancer(backends, panic);
    }
}
