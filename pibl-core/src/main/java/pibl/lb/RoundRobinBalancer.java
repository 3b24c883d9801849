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
 */
public final class RoundRobinBalancer implements LoadBalancer {
    private final Backend[] backends;
    private final List<Backend> list;
    private final AtomicLong next = new AtomicLong();

    public RoundRobinBalancer(List<Backend> backends) {
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("no backends");
        }
        this.list = List.copyOf(backends);
        this.backends = list.toArray(new Backend[0]);
    }

    @Override
    public Backend pick(List<Backend> tried) {
        int n = backends.length;
        int start = (int) Math.floorMod(next.getAndIncrement(), (long) n);
        for (int i = 0; i < n; i++) {
            Backend candidate = backends[(start + i) % n];
            if (candidate.isAvailable() && !tried.contains(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    @Override
    public List<Backend> backends() {
        return list;
    }
}
