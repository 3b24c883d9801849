package pibl.lb;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * {@code least-request}: {@link TwoChoices} on requests in flight, a backend's load being
 * {@code (in-flight + 1) / weight} (the inverse of Envoy's {@code weight / (active + 1)}), so a backend of weight
 * 2 is as attractive with 3 in flight as one of weight 1 with 1:
 *
 * <pre>
 * a weight 1, 4 in flight → 5     b weight 1, 1 in flight → 2     draw {a, b} → b
 * a weight 3, 4 in flight → 1.67  b weight 1, 1 in flight → 2     draw {a, b} → a
 * </pre>
 *
 * A slow backend holds its requests longer, so it has more in flight and gets fewer new ones: the latency is read
 * without being measured. A backend in its slow start counts its weight times the ramp factor.
 */
public final class LeastRequestBalancer extends TwoChoices {

    public LeastRequestBalancer(List<Backend> backends) {
        this(backends, new Panic(), null);
    }

    LeastRequestBalancer(List<Backend> backends, Panic panic, RandomGenerator random) {
        super(backends, panic, random);
    }

    @Override
    double load(Backend b) {
        return (b.inFlight() + 1) / share(b);
    }

    @Override
    public String policy() {
        return "least-request";
    }
}
