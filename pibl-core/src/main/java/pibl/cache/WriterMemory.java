package pibl.cache;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the writers of one store hold in direct memory together, in two budgets: bodies being gathered (a writer
 * that cannot reserve more streams to its file instead) and chunks queued for the disk threads by streaming
 * writers (one whose chunk does not fit gives up: the response goes on to the client, unstored). Both count what
 * is allocated, so that a disk that falls behind, or many large misses at once, cannot exhaust direct memory.
 */
final class WriterMemory {
    static final long GATHERED_BUDGET = 64L << 20;
    static final long STREAMING_BUDGET = 64L << 20;

    private final AtomicLong gathered = new AtomicLong();
    private final AtomicLong streaming = new AtomicLong();

    boolean reserveGathered(long bytes) {
        return reserve(gathered, bytes, GATHERED_BUDGET);
    }

    void releaseGathered(long bytes) {
        gathered.addAndGet(-bytes);
    }

    boolean reserveStreaming(long bytes) {
        return reserve(streaming, bytes, STREAMING_BUDGET);
    }

    void releaseStreaming(long bytes) {
        streaming.addAndGet(-bytes);
    }

    /** Bytes reserved now: gathered and streaming (tests). */
    long inUse() {
        return gathered.get() + streaming.get();
    }

    private static boolean reserve(AtomicLong counter, long bytes, long budget) {
        if (counter.addAndGet(bytes) > budget) {
            counter.addAndGet(-bytes);
            return false;
        }
        return true;
    }
}
