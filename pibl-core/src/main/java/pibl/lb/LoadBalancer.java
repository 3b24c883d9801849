package pibl.lb;

import java.util.List;

/** Chooses the backend for the next attempt of a request. Implementations are thread-safe. */
public interface LoadBalancer {

    /**
     * The next backend, skipping those already tried for this request and those out of rotation; when every
     * backend of the pool is out of rotation, the next of them not yet tried ({@link Panic}).
     *
     * @param tried backends that already failed this request (usually empty)
     * @return a backend, or {@code null} when none is left to try; never {@code null} when {@code tried} is empty
     */
    Backend pick(List<Backend> tried);

    /** Every backend, in configuration order. */
    List<Backend> backends();

    /** The pool's panic state, kept across reloads. */
    Panic panic();

    /** Whether every backend is out of rotation now, so that picks go to all of them in turn. */
    default boolean inPanic() {
        return panic().evaluate(backends());
    }
}
