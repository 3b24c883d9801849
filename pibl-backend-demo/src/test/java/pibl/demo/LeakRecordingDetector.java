package pibl.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Netty's leak detector, but remembering what it reports so a test can fail on it instead of a log line scrolling by.
 * Installed for the whole test JVM with {@code -Dio.netty.customResourceLeakDetector=pibl.demo.LeakRecordingDetector}
 * (see the module pom); leak detection runs at {@code paranoid} level, so every buffer is tracked.
 */
public final class LeakRecordingDetector<T> extends ResourceLeakDetector<T> {

    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    public LeakRecordingDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        super(resourceType, samplingInterval, maxActive);
    }

    public LeakRecordingDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        LEAKS.add(resourceType + records);
        super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        LEAKS.add(resourceType);
        super.reportUntracedLeak(resourceType);
    }

    /**
     * Leaks reported so far, after nudging the collector: a leak is only noticed once its buffer has been collected
     * and a new buffer is tracked. Best effort by nature; a non-empty answer is always a real leak.
     */
    static List<String> leaksAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            for (int j = 0; j < 64; j++) {
                ByteBuf probe = ByteBufAllocator.DEFAULT.buffer(16);
                probe.release();
            }
        }
        return List.copyOf(LEAKS);
    }

    /** Whether this detector is the one Netty uses in this JVM. */
    static boolean installed() {
        return "pibl.demo.LeakRecordingDetector".equals(System.getProperty("io.netty.customResourceLeakDetector"));
    }
}
