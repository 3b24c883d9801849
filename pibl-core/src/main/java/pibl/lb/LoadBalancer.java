package pibl.lb;

import io.netty.handler.codec.http.HttpRequest;

import java.util.List;

/** Chooses the backend for the next attempt of a request. Implementations are thread-safe. */
public interface LoadBalancer {

    /**
     * The next backend, skipping those already tried for this request and those out of rotation; when every
     * backend of the pool is out of rotation, the next of them not yet tried ({@link Panic}).
     *
     * @param tried backends that already failed this request (usually empty)
     * @param key   the request's {@link #key}, {@link HashKeys#NONE} for none; only the hash balancer reads it
     * @return a backend, or {@code null} when none is left to try; never {@code null} when {@code tried} is empty
     */
    Backend pick(List<Backend> tried, long key);

    /** {@link #pick(List, long)} without a key. */
    default Backend pick(List<Backend> tried) {
        return pick(tried, HashKeys.NONE);
    }

    /**
     * What {@link #pick(List, long)} needs of the request, worked out once per request: the hash of its
     * {@code hash.key} for the hash balancer, {@link HashKeys#NONE} for the others (which read nothing).
     *
     * @param clientAddress the client's address as the exchange has it (the one added to {@code X-Forwarded-For})
     */
    default long key(HttpRequest request, String clientAddress) {
        return HashKeys.NONE;
    }

    /** The algorithm as the log names it: {@code round robin}, {@code least-request}, {@code hash (uri)}, … */
    String policy();

    /** Every backend, in configuration order. */
    List<Backend> backends();

    /** The pool's panic state, kept across reloads. */
    Panic panic();

    /** Whether every backend is out of rotation now, so that picks go to all of them in turn. */
    default boolean inPanic() {
        return panic().evaluate(backends());
    }
}
