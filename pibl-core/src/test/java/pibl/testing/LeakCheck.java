package pibl.testing;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;

import java.util.List;

/**
 * Surfaces Netty's paranoid leak reports, which otherwise only appear in the log: open before the test, then
 * {@link #leaks()} collects garbage and allocates so that the detector reports what was collected unreleased.
 */
public final class LeakCheck implements AutoCloseable {
    private final LogCapture log = new LogCapture("io.netty.util.ResourceLeakDetector", org.apache.logging.log4j.Level.WARN);

    public List<String> leaks() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(20);
            for (int j = 0; j < 20; j++) {
                Unpooled.directBuffer(1).release();
                PooledByteBufAllocator.DEFAULT.directBuffer(1).release();
            }
        }
        return log.messages();
    }

    @Override
    public void close() {
        log.close();
    }
}
