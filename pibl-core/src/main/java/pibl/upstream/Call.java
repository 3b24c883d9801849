package pibl.upstream;

/**
 * A request on its way through the backends, as its sender steers it: reading the response paused while the
 * client cannot take more, resumed when it can, abandoned when the client goes away.
 */
public interface Call {
    /** Stop reading the backend: the client cannot take more for now. */
    void pauseReading();

    /** The client can take more again. */
    void resumeReading();

    /** The client went away: drop the backend connection if it is mid-exchange. */
    void abort();
}
