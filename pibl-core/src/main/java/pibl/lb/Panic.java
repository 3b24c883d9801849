package pibl.lb;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * A pool's panic mode (Envoy's name; nginx never marks the only server of an upstream down): when every backend is
 * out of rotation, requests are sent to all of them in turn instead of being refused, because a pool that answers
 * nothing is an outage for sure, while backends taken out by a burst of failures often answer again a second later.
 * A backend that is really dead then fails its request quickly (refused: 502) and the next attempt goes to the next
 * backend; a silent one costs {@code timeouts.backend-response} (504).
 *
 * <pre>
 * a cooldown, b down   → pick: a, b, a, b, …  (the balancer's own order and weights, tried backends skipped)
 * a up,       b down   → pick: a, a, a, …     (no panic: b gets nothing)
 * a up (tried), b down → pick: null → 502     (a failed this request; not in panic, so b is not tried for it)
 *
 * WARN every backend of the pool is out of rotation (127.0.0.1:9001 cooldown, 127.0.0.1:9002 down);
 *      sending to all of them in turn (panic)
 * INFO panic over: backend 127.0.0.1:9001 back in rotation (12 requests sent in panic)
 * </pre>
 *
 * Both kinds of "out" count: the passive cooldown and a failed active check ({@code down}). A pool whose health
 * checks all fail (a wrong {@code health-check.path}, a health page that depends on something else that is down)
 * then still serves what it can, which is what its clients want. A request sent in panic that gets its answer ends
 * the backend's cooldown ({@link Backend#answeredInPanic()}); an active {@code down} ends only by passing checks.
 *
 * <p>The state lives as long as the pool: a reload hands it to the new balancer, so an episode in progress is not
 * logged twice and the counter is not reset. Lock-free; the only cost on an ordinary pick is one volatile read.
 */
public final class Panic {
    private static final Logger LOG = LogManager.getLogger(Panic.class);

    private final AtomicBoolean active = new AtomicBoolean();
    private final LongAdder requests = new LongAdder();
    /** {@link #requests} when the current episode began. */
    private volatile long requestsAtStart;

    /**
     * The balancer picked {@code chosen}, a backend in rotation: an episode, if one was on, is over.
     *
     * @return {@code chosen}
     */
    Backend inRotation(Backend chosen) {
        if (active.get()) {
            end(chosen);
        }
        return chosen;
    }

    /**
     * The balancer found no backend in rotation among those not yet tried for this request. Panic applies when none
     * of the tried ones is in rotation either: then every backend of the pool is out (the episode begins, logged
     * once), and the balancer picks again among the untried ones whatever their health. When a tried one is in
     * rotation the pool is not in panic: that backend failed this request, and the ones out of rotation are not
     * tried for it.
     */
    boolean engaged(List<Backend> backends, List<Backend> tried) {
        for (Backend b : tried) {
            if (b.isAvailable()) {
                return false;
            }
        }
        begin(backends);
        return true;
    }

    /**
     * A pick made in panic, counted; {@code null} (every backend already tried) passes through uncounted.
     *
     * @return {@code chosen}
     */
    Backend sent(Backend chosen) {
        if (chosen != null) {
            requests.increment();
        }
        return chosen;
    }

    /**
     * Whether every backend of the pool is out of rotation now. A reading, for {@code /status} and
     * {@code /metrics}: it begins or ends an episode too, so the state shown and the log agree even without traffic.
     */
    boolean evaluate(List<Backend> backends) {
        for (Backend b : backends) {
            if (b.isAvailable()) {
                inRotation(b);
                return false;
            }
        }
        begin(backends);
        return true;
    }

    /** Whether the pool is in a panic episode: every backend out of rotation at the last pick or reading. */
    boolean active() {
        return active.get();
    }

    /** Picks made in panic since the pool was configured (a retry in panic counts again, as in Envoy). */
    public long requests() {
        return requests.sum();
    }

    private void begin(List<Backend> backends) {
        if (active.compareAndSet(false, true)) {
            requestsAtStart = requests.sum();
            String states = backends.stream().map(b -> b.label() + " " + b.health()).collect(Collectors.joining(", "));
            LOG.warn("every backend of the pool is out of rotation ({}); sending to all of them in turn (panic)",
                    states);
        }
    }

    private void end(Backend back) {
        if (active.compareAndSet(true, false)) {
            long sent = requests.sum() - requestsAtStart;
            LOG.info("panic over: backend {} back in rotation ({} request{} sent in panic)", back, sent,
                    sent == 1 ? "" : "s");
        }
    }
}
