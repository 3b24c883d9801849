package pibl.route;

import java.util.concurrent.atomic.LongAdder;

/** What one route did since start: requests it took, and those it refused (kept across reloads by its label). */
public final class RouteStats {
    private final LongAdder matched = new LongAdder();
    private final LongAdder denied = new LongAdder();
    private final LongAdder rateLimited = new LongAdder();

    void matched() {
        matched.increment();
    }

    void denied() {
        denied.increment();
    }

    void rateLimited() {
        rateLimited.increment();
    }

    /** Requests the route took, refused ones included. */
    public long matches() {
        return matched.sum();
    }

    /** Answered 403: the client's address is denied, or not allowed. */
    public long denials() {
        return denied.sum();
    }

    /** Answered 429: the client's bucket was empty. */
    public long rateLimits() {
        return rateLimited.sum();
    }
}
