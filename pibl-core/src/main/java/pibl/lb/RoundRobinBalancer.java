package pibl.lb;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

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
 */
public final class RoundRobinBalancer implements LoadBalancer {
    private final Backend[] backends;
    private final List<Backend> list;
    private final Panic panic;
    private final AtomicLong next = new AtomicLong();

    public RoundRobinBalancer(List<Backend> backends) {
        this(backends, new Panic());
    }

    RoundRobinBalancer(List<Backend> backends, Panic panic) {
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("no backends");
        }
        this.list = List.copyOf(backends);
        this.backends = list.toArray(new Backend[0]);
        this.panic = panic;
    }

    @Override
    public Backend pick(List<Backend> tried) {
        int n = backends.length;
        int start = tried.isEmpty() ? (int) Math.floorMod(next.getAndIncrement(), (long) n)
                : after(tried.get(tried.size() - 1));
        Backend untried = null;
        for (int i = 0; i < n; i++) {
            Backend candidate = backends[(start + i) % n];
            if (tried.contains(candidate)) {
                continue;
            }
            if (candidate.isAvailable()) {
                return panic.inRotation(candidate);
            }
            if (untried == null) {
                untried = candidate;
            }
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

    @Override
    public List<Backend> backends() {
        return list;
    }

    @Override
    public Panic panic() {
        return panic;
    }
}
