package pibl.lb;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * Power of two random choices (Mitzenmacher; Envoy's and Finagle's default): two distinct candidates drawn at
 * random, the one with the lower {@link #load} wins, a tie goes to either. Nearly as good as asking every backend,
 * for two reads; and unlike "always the least loaded", PIBL's event loops picking at the same instant do not all
 * pile onto the same backend.
 *
 * <pre>
 * candidates a (2 in flight), b (0), c (5)   draw {a, c} → a     draw {b, c} → b     draw {a, b} → b
 * </pre>
 *
 * Candidates are the backends in rotation not yet tried for the request and not at a slow-start ramp's in-flight
 * cap ({@link SlowStart#full}; one of those only when nothing else is left), drawn in one pass (reservoir sampling of
 * two, nothing allocated). When none is left, the {@link Panic} rules of {@link RoundRobinBalancer}: a tried one
 * in rotation means no panic ({@code null}); otherwise the draw is made again among the untried whatever their
 * health. No lock: the loads are the backends' own atomic counters and volatile estimates.
 */
abstract class TwoChoices implements LoadBalancer {
    private final List<Backend> list;
    private final Backend[] backends;
    private final Panic panic;
    /** Null: {@link ThreadLocalRandom}; tests give a seeded one. */
    private final RandomGenerator random;

    TwoChoices(List<Backend> backends, Panic panic, RandomGenerator random) {
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("no backends");
        }
        this.list = List.copyOf(backends);
        this.backends = list.toArray(new Backend[0]);
        this.panic = panic;
        this.random = random;
    }

    /**
     * How loaded {@code b} looks, lower is better; a backend in its {@link SlowStart} ramp has its weight times
     * its {@link Backend#rampFactor} ({@link #share}).
     */
    abstract double load(Backend b);

    /** The backend's weight scaled by its slow-start factor: what {@link #load} divides by. */
    static double share(Backend b) {
        return Math.max(1, b.weight()) * b.rampFactor();
    }

    @Override
    public Backend pick(List<Backend> tried, long key) {
        Backend chosen = choose(tried, false);
        if (chosen != null) {
            return panic.inRotation(chosen);
        }
        if (!panic.engaged(list, tried)) {
            return null;
        }
        return panic.sent(choose(tried, true));
    }

    private Backend choose(List<Backend> tried, boolean anyHealth) {
        RandomGenerator r = random();
        Backend first = null;
        Backend second = null;
        Backend full = null;
        int seen = 0;
        for (Backend b : backends) {
            if (tried.contains(b) || !anyHealth && !b.isAvailable()) {
                continue;
            }
            if (!anyHealth && SlowStart.full(b, backends)) {
                if (full == null) {
                    full = b;
                }
                continue;
            }
            seen++;
            if (seen == 1) {
                first = b;
            } else if (seen == 2) {
                second = b;
            } else {
                int slot = r.nextInt(seen);
                if (slot == 0) {
                    first = b;
                } else if (slot == 1) {
                    second = b;
                }
            }
        }
        if (second == null) {
            return first != null ? first : full;
        }
        double a = load(first);
        double b = load(second);
        if (a != b) {
            return a < b ? first : second;
        }
        return r.nextBoolean() ? first : second;
    }

    private RandomGenerator random() {
        return random != null ? random : ThreadLocalRandom.current();
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
