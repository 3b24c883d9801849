package pibl.lb;

import java.util.List;

/** Picks the balancer for a set of backends. */
public final class LoadBalancers {
    private LoadBalancers() {
    }

    /**
     * Exact, lock-free {@link RoundRobinBalancer} when every weight is the same (the default 1),
     * {@link SmoothWeightedBalancer} otherwise.
     */
    public static LoadBalancer create(List<Backend> backends) {
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("no backends");
        }
        int first = backends.get(0).weight();
        boolean equal = backends.stream().allMatch(b -> b.weight() == first);
        return equal ? new RoundRobinBalancer(backends) : new SmoothWeightedBalancer(backends);
    }
}
