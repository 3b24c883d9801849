package pibl.admin;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Netty's paranoid leak reports, which otherwise only reach the log: open before the test; {@link #leaks()}
 * collects garbage and allocates so the detector reports what was collected unreleased.
 */
final class LeakWatch extends AbstractAppender implements AutoCloseable {
    private static final String LOGGER = "io.netty.util.ResourceLeakDetector";
    private final List<String> messages = new CopyOnWriteArrayList<>();
    private final LoggerConfig loggerConfig;

    LeakWatch() {
        super("admin-leaks-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY);
        start();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        loggerConfig = new LoggerConfig(LOGGER, Level.WARN, true);
        loggerConfig.addAppender(this, Level.WARN, null);
        ctx.getConfiguration().addLogger(LOGGER, loggerConfig);
        ctx.updateLoggers();
    }

    @Override
    public void append(LogEvent event) {
        messages.add(event.getMessage().getFormattedMessage());
    }

    List<String> leaks() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(20);
            for (int j = 0; j < 20; j++) {
                Unpooled.directBuffer(1).release();
                PooledByteBufAllocator.DEFAULT.directBuffer(1).release();
            }
        }
        return List.copyOf(messages);
    }

    @Override
    public void close() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        ctx.getConfiguration().removeLogger(LOGGER);
        ctx.updateLoggers();
        stop();
    }
}
