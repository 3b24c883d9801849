package pibl.lb;

import java.util.List;

/**
 * Smooth weighted round robin, nginx's algorithm: on each pick every candidate's running score
 * grows by its weight, the highest score wins (the first on a tie), and the winner gives back the
 * sum of the candidates' weights. Heavy backends are spread out instead of served in a burst:
 *
 * <pre>
 * weights a=5 b=1 c=1   →  a a b a c a a | a a b a c a a | …
 * weights a=2 b=1       →  a b a | a b a | …
 * </pre>
 *
 * Backends out of rotation or already tried for the request take no part in a pick (their scores
 * stand still). When every backend is out of rotation ({@link Panic}), the pick is made again with
 * the untried ones whatever their health, by the same scores, so the weights hold in panic too.
 * A backend in its {@link SlowStart} ramp takes part with its weight times {@code f} (nginx's slow start
 * works on this effective weight too); weights are scaled by 100 inside so that a tenth of weight 1 is still a
 * weight. One short lock per pick; {@link LoadBalancers} only chooses this balancer when the
 * weights differ, equal weights go to the lock-free {@link RoundRobinBalancer}.
 */
public final class SmoothWeightedBalancer implements LoadBalancer {
    /** Weights are counted in hundredths, so that a ramp factor can take a part of even weight 1. */
    private static final int SCALE = 100;
    private final List<Backend> list;
    private final Backend[] backends;
    private final int[] weights;
    private final long[] current;
    private final Panic panic;

    public SmoothWeightedBalancer(List<Backend> backends) {
        this(backends, new Panic());
    }

    SmoothWeightedBalancer(List<Backend> backends, Panic panic) {
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("no backends");
        }
        this.list = List.copyOf(backends);
        this.backends = list.toArray(new Backend[0]);
        this.weights = new int[this.backends.length];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = Math.max(1, this.backends[i].weight()) * SCALE;
        }
        this.current = new long[this.backends.length];
        this.panic = panic;
    }

    @Override
    public Backend pick(List<Backend> tried, long key) {
        synchronized (current) {
            int best = choose(tried, false, true);
            if (best < 0) {
                best = choose(tried, false, false); // every one in rotation is at its ramp's cap: one of them anyway
            }
            if (best >= 0) {
                return panic.inRotation(backends[best]);
            }
            if (!panic.engaged(list, tried)) {
                return null;
            }
            best = choose(tried, true, false);
            return panic.sent(best < 0 ? null : backends[best]);
        }
    }

    /**
     * One round of the scores over the untried backends (only those in rotation unless {@code anyHealth}; without
     * those at their slow-start ramp's in-flight cap, {@link SlowStart#full}, when {@code capped}).
     */
    private int choose(List<Backend> tried, boolean anyHealth, boolean capped) {
        int best = -1;
        long total = 0;
        for (int i = 0; i < backends.length; i++) {
            Backend b = backends[i];
            if (tried.contains(b) || !anyHealth && !b.isAvailable() || capped && SlowStart.full(b, backends)) {
                continue;
            }
            double f = b.rampFactor();
            int w = f >= 1.0 ? weights[i] : Math.max(1, (int) Math.round(weights[i] * f));
            current[i] += w;
            total += w;
            if (best < 0 || current[i] > current[best]) {
                best = i;
            }
        }
        if (best >= 0) {
            current[best] -= total;
        }
        return best;
    }

    @Override
    public String policy() {
        return "weighted round robin";
    }

    @Override
    public List<Backend> backends() {
        return list;
    }

    @Override
    public Panic panic() {
        return panic;
    }
}
