package pibl.lb;

import java.util.List;

/** Chooses the backend for the next attempt of a request. Implementations are thread-safe. */
public interface LoadBalancer {

    /**
     * The next backend, skipping those already tried for this request and those out of rotation.
     *
     * @param tried backends that already failed this request (usually empty)
     * @return a backend, or {@code null} when none is left to try
     */
    Backend pick(List<Backend> tried);

    /** Every backend, in configuration order. */
    List<Backend> backends();
}
