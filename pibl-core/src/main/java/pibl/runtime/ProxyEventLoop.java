package pibl.runtime;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SingleThreadIoEventLoop;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The proxy's event loop: Netty's, plus one thing, {@link #runQueuedTasks(EventLoop)}: a connection that has just
 * handled a read may let the loop run the tasks queued so far, instead of waiting for the end of the loop's turn.
 *
 * <p>Why: a turn of Netty's loop is its I/O, then its queued tasks. On io_uring the I/O part handles up to 128
 * rounds of completions before it returns, and under steady load every round finds new ones: at 50 HTTP/2
 * connections of 10 streams a turn lasted 150-340 ms. A finished HTTP/2 stream channel is let go of in a task
 * (Netty deregisters it later, so that no handler sees its own close re-enter it), so ~4,600 finished streams,
 * with their pipelines and exchanges, waited at once; they outlived the young generation, were promoted, and the
 * full collections that followed (one a second) slowed the loop further. A fresh JVM under that load stayed at
 * 12-23k req/s. With the connection running the queue after each of its reads, six h2load runs on a fresh JVM had
 * one full collection instead of 50-59, and a median of 73k req/s instead of 66k (README, "Over TLS and HTTP/2").
 *
 * <p>When it is safe: the caller is the last handler of its connection's pipeline, in {@code channelReadComplete},
 * after every handler before it has finished with the read (the HTTP/2 codec and multiplexer have delivered the
 * frames and each stream's read-complete). A task run there is in the position of a handler acting in
 * {@code channelReadComplete}, which Netty allows for any channel, this one included (writing, closing). Never
 * from inside a task (no nesting), never off the loop's thread; at most {@link #QUANTUM_NANOS} of tasks (checked
 * every 64, as Netty does) before the I/O goes on.
 */
public final class ProxyEventLoop extends SingleThreadIoEventLoop {
    /** How long a connection's read may run the queue before the loop's I/O goes on. */
    static final long QUANTUM_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /** The loop is in its own turn's tasks, or in a {@link #runQueuedTasks(EventLoop)} already. */
    private boolean inTasks;

    private ProxyEventLoop(IoEventLoopGroup parent, Executor executor, IoHandlerFactory factory) {
        super(parent, executor, factory);
    }

    /** A group of {@code threads} loops of this kind, over the I/O of {@code factory}. */
    static EventLoopGroup group(int threads, IoHandlerFactory factory) {
        return new ProxyEventLoopGroup(threads, factory);
    }

    /** Its threads are {@code pibl-loop-G-N} (group G, thread N) in logs, thread dumps and profiles. */
    private static final class ProxyEventLoopGroup extends MultiThreadIoEventLoopGroup {
        ProxyEventLoopGroup(int threads, IoHandlerFactory factory) {
            super(threads, new DefaultThreadFactory("pibl-loop"), factory);
        }

        @Override
        protected IoEventLoop newChild(Executor executor, IoHandlerFactory ioHandlerFactory, Object... args) {
            return new ProxyEventLoop(this, executor, ioHandlerFactory);
        }
    }

    /**
     * Runs the tasks queued on {@code loop} so far, when it is a proxy loop, the caller is on its thread and not
     * already in one of its tasks; else does nothing (the tasks run at the end of the turn, as always).
     *
     * @return whether tasks were run
     */
    public static boolean runQueuedTasks(EventLoop loop) {
        return loop instanceof ProxyEventLoop l && l.runQueuedTasks();
    }

    private boolean runQueuedTasks() {
        return inEventLoop() && hasTasks() && runAllTasks(QUANTUM_NANOS); // runAllTasks refuses to nest
    }

    @Override
    protected boolean runAllTasks(long timeoutNanos) {
        if (inTasks) {
            return false;
        }
        inTasks = true;
        try {
            return super.runAllTasks(timeoutNanos);
        } finally {
            inTasks = false;
        }
    }
}
