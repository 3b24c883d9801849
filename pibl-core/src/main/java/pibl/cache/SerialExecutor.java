package pibl.cache;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs tasks one at a time, in submission order, on a shared pool: one writer's chunks must reach its file in
 * order while other writers proceed on other threads. If the pool rejects (it was shut down), tasks run on the
 * submitting thread so that buffers are still released and files still cleaned up.
 */
final class SerialExecutor implements Executor {
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);

    private final Executor pool;
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private boolean active;

    SerialExecutor(Executor pool) {
        this.pool = pool;
    }

    @Override
    public void execute(Runnable task) {
        synchronized (tasks) {
            tasks.add(task);
            if (active) {
                return;
            }
            active = true;
        }
        try {
            pool.execute(this::drain);
        } catch (RejectedExecutionException shutDown) {
            drain();
        }
    }

    private void drain() {
        for (;;) {
            Runnable task;
            synchronized (tasks) {
                task = tasks.poll();
                if (task == null) {
                    active = false;
                    return;
                }
            }
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                LOG.error("Cache disk task failed", e);
            }
        }
    }
}
