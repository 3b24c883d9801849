package pibl.cache;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Collapsed forwarding: of the concurrent misses for one key, the first leads (asks the backend)
 * and the others wait for it, then look the key up again.
 *
 * <pre>
 * 100 clients GET /cold at once
 *   request 1: enter("/cold") → Ticket(lease, null): forwards, stores, release(lease)
 *   requests 2..100: enter("/cold") → Ticket(null, leaderDone): wait, then HIT
 * </pre>
 *
 * A waiter never becomes a leader after waking: if the leader's response was not stored, the
 * waiters forward on their own at once, so one slow or failing request cannot make the others
 * queue behind each other. A background refresh (stale-while-revalidate) leads with
 * {@link #tryLead}: when a fetch of the key is already under way it does not start another.
 * This is PIBL's one single-flight mechanism.
 */
public final class MissLock {
    private final ConcurrentHashMap<String, Lease> flights = new ConcurrentHashMap<>();

    /** The leader's right to fetch a key; {@link #release} it exactly once (further calls are ignored). */
    public static final class Lease {
        private final String key;
        private final CompletableFuture<Void> done = new CompletableFuture<>();

        private Lease(String key) {
            this.key = key;
        }
    }

    /** Either {@code lease} (you lead) or {@code leaderDone} (someone else does) is non-null, or neither: {@link #NO_LOCK}. */
    public record Ticket(Lease lease, CompletableFuture<Void> leaderDone) {
    }

    /** The ticket of a fetch that takes no lock (a conditional request, a pass-through key, a second look). */
    public static final Ticket NO_LOCK = new Ticket(null, null);

    public Ticket enter(String key) {
        Lease mine = new Lease(key);
        Lease leader = flights.putIfAbsent(key, mine);
        return leader == null ? new Ticket(mine, null) : new Ticket(null, leader.done);
    }

    /** The lease if nobody is fetching {@code key}, else null (and nothing to wait for). */
    public Lease tryLead(String key) {
        Lease mine = new Lease(key);
        return flights.putIfAbsent(key, mine) == null ? mine : null;
    }

    /** Ends the leader's fetch and wakes the waiters. Null-safe and idempotent. */
    public void release(Lease lease) {
        if (lease != null && !lease.done.isDone()) {
            flights.remove(lease.key, lease);
            lease.done.complete(null);
        }
    }

    /** Keys being fetched right now. */
    public int inFlight() {
        return flights.size();
    }
}
