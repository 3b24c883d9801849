package pibl.cache;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The disk threads of a {@link DiskCacheStore}, one queue each. Everything that touches the files of one key (its
 * own and its Vary variants': they share the {@link Digest#firstByte() first byte}) runs on one of them, in
 * submission order: a body's chunks reach its file in order, and a rename, a deletion, a header rewrite or a load
 * of that path never overtake one another. Different keys proceed on the other threads. Tasks submitted after
 * {@link #shutdown()} run on the submitting thread, so buffers are still released and files still cleaned up.
 */
final class DiskThreads {
    private static final Logger LOG = LogManager.getLogger(DiskCacheStore.class);

    private final ExecutorService[] threads;

    DiskThreads(int count) {
        threads = new ExecutorService[count];
        for (int i = 0; i < count; i++) {
            String name = "pibl-cache-disk-" + (i + 1);
            threads[i] = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
            });
        }
    }

    /** One to four, one per core. */
    static DiskThreads forThisMachine() {
        return new DiskThreads(Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors())));
    }

    /** The thread of the key (or variant) whose digest is {@code d}. */
    Executor of(Digest d) {
        ExecutorService t = threads[d.firstByte() % threads.length];
        return task -> {
            Runnable guarded = () -> {
                try {
                    task.run();
                } catch (RuntimeException | Error e) {
                    LOG.error("Cache disk task failed", e);
                }
            };
            try {
                t.execute(guarded);
            } catch (RejectedExecutionException shutDown) {
                guarded.run();
            }
        };
    }

    /** Waits until every task queued so far has run (tests; a quiet point before reading the directory). */
    void settle() throws InterruptedException {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(threads.length);
        for (ExecutorService t : threads) {
            try {
                t.execute(done::countDown);
            } catch (RejectedExecutionException shutDown) {
                done.countDown();
            }
        }
        done.await(30, TimeUnit.SECONDS);
    }

    /** Lets queued work finish (up to {@code seconds}), then stops the threads. */
    boolean shutdown(long seconds) throws InterruptedException {
        for (ExecutorService t : threads) {
            t.shutdown();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        boolean all = true;
        for (ExecutorService t : threads) {
            all &= t.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        return all;
    }
}
