package pibl.lb;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * {@code ewma}: {@link TwoChoices} on each backend's {@link PeakEwma} latency estimate times its requests in
 * flight plus one (Finagle's and Linkerd's cost), over its weight:
 *
 * <pre>
 * a  20 ms, 3 in flight →  80      b 400 ms, 0 in flight → 400      draw {a, b} → a
 * a  20 ms, 0 in flight →  20      c 503s in 1 ms: estimate 1 s → 1000     draw {a, c} → a
 * </pre>
 *
 * A backend with no answer yet costs nothing while idle and a failure's penalty per request in flight once it has
 * some, so a new backend gets a first request, not a burst, before its latency is known. A backend in its slow start
 * counts its weight times the ramp factor.
 */
public final class EwmaBalancer extends TwoChoices {

    public EwmaBalancer(List<Backend> backends) {
        this(backends, new Panic(), null);
    }

    EwmaBalancer(List<Backend> backends, Panic panic, RandomGenerator random) {
        super(backends, panic, random);
    }

    @Override
    double load(Backend b) {
        double estimate = b.latencyEstimateNanos();
        int inFlight = b.inFlight();
        double cost = estimate > 0 ? estimate * (inFlight + 1) : (double) PeakEwma.PENALTY_NANOS * inFlight;
        return cost / share(b);
    }

    @Override
    public String policy() {
        return "ewma";
    }
}
