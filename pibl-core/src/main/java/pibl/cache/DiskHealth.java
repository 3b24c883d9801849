package pibl.cache;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether the cache directory is usable. A failure (disk full, read-only, a file where the directory should be)
 * logs one warning and pauses new writes for {@link #BACKOFF_MILLIS}; further failures log at debug level only,
 * until a write succeeds again. Responses are never affected: callers just do not get a writer.
 */
final class DiskHealth {
    static final long BACKOFF_MILLIS = 30_000;
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);

    private final Clock clock;
    private final AtomicBoolean warned = new AtomicBoolean();
    private volatile long retryAt;

    DiskHealth(Clock clock) {
        this.clock = clock;
    }

    boolean writable() {
        return clock.millis() >= retryAt;
    }

    void failed(String what, Throwable cause) {
        retryAt = clock.millis() + BACKOFF_MILLIS;
        if (warned.compareAndSet(false, true)) {
            LOG.warn("Cache disk failure ({}): {}; responses are passed through uncached, writes retried every {} s",
                    what, String.valueOf(cause), BACKOFF_MILLIS / 1000);
        } else {
            LOG.debug("Cache disk failure ({}): {}", what, String.valueOf(cause));
        }
    }

    void succeeded() {
        if (warned.get() && warned.compareAndSet(true, false)) {
            LOG.info("Cache disk writable again");
        }
    }
}
