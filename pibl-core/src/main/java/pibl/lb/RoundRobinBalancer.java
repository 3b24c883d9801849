package pibl.lb;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;

/**
 * Plain round robin, the assignment's policy: backend {@code i mod n} for the i-th pick, counted
 * across all event loops with one atomic increment (no lock), so 300 requests over three
 * backends give exactly 100 each.
 *
 * <p>Backends out of rotation or already tried for this request are skipped by moving on to the
 * following ones; the shared counter is not advanced for them, so the others keep their turns.
 * Nor is it for a retry, which goes to the backend after the one that failed: if retries took
 * turns, with two backends of which one is dead every request would start on the dead one.
 * When every backend is out of rotation ({@link Panic}), the same scan's first untried backend is
 * the pick, so the out-of-rotation backends take their turns the same way.
 *
 * <p>A backend in its {@link SlowStart} ramp takes its turn with probability {@code f} and passes it to the
 * following backends otherwise, and passes it too while it is at its ramp's in-flight cap ({@link SlowStart#full});
 * when every candidate is ramping and passes, the first of them takes it.
 */
public final class RoundRobinBalancer implements LoadBalancer {
    private final Backend[] backends;
    private final List<Backend> list;
    private final Panic panic;
    private final AtomicLong next = new AtomicLong();
    /** Null: {@link ThreadLocalRandom}; tests give a seeded one. */
    private final RandomGenerator random;

    public RoundRobinBalancer(List<Backend> backends) {
        this(backends, new Panic());
    }

    RoundRobinBalancer(List<Backend> backends, Panic panic) {
        this(backends, panic, null);
    }

    RoundRobinBalancer(List<Backend> backends, Panic panic, RandomGenerator random) {
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("no backends");
        }
        this.list = List.copyOf(backends);
        this.backends = list.toArray(new Backend[0]);
        this.panic = panic;
        this.random = random;
    }

    @Override
    public Backend pick(List<Backend> tried, long key) {
        int n = backends.length;
        int start = tried.isEmpty() ? (int) Math.floorMod(next.getAndIncrement(), (long) n)
                : after(tried.get(tried.size() - 1));
        Backend untried = null;
        Backend passed = null;
        for (int i = 0; i < n; i++) {
            Backend candidate = backends[(start + i) % n];
            if (tried.contains(candidate)) {
                continue;
            }
            if (candidate.isAvailable()) {
                double f = candidate.rampFactor();
                if (f >= 1.0 || random().nextDouble() < f && !SlowStart.full(candidate, backends)) {
                    return panic.inRotation(candidate);
                }
                if (passed == null) {
                    passed = candidate;
                }
            } else if (untried == null) {
                untried = candidate;
            }
        }
        if (passed != null) {
            return panic.inRotation(passed);
        }
        return untried != null && panic.engaged(list, tried) ? panic.sent(untried) : null;
    }

    /** The index after {@code failed}'s, where a retry starts. */
    private int after(Backend failed) {
        for (int i = 0; i < backends.length; i++) {
            if (backends[i] == failed) {
                return (i + 1) % backends.length;
            }
        }
        return 0;
    }

    private RandomGenerator random() {
        return random != null ? random : ThreadLocalRandom.current();
    }

    @Override
    public String policy() {
        return "round robin";
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
