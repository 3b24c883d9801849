package pibl.lb;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Collects the INFO-and-above events of {@code pibl.lb} while open, as {@code "LEVEL message"},
 * so tests can check that each health change is logged exactly once.
 */
final class LbLogCapture extends AbstractAppender implements AutoCloseable {
    private static final String LOGGER = "pibl.lb";
    private final List<LogEvent> events = new CopyOnWriteArrayList<>();
    private final LoggerConfig loggerConfig;

    LbLogCapture() {
        super("capture-" + LOGGER + "-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY);
        start();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration config = ctx.getConfiguration();
        loggerConfig = new LoggerConfig(LOGGER, Level.INFO, true);
        config.addLogger(LOGGER, loggerConfig);
        loggerConfig.addAppender(this, Level.INFO, null);
        ctx.updateLoggers();
    }

    @Override
    public void append(LogEvent event) {
        events.add(event.toImmutable());
    }

    List<String> messages() {
        return events.stream().map(e -> e.getLevel() + " " + e.getMessage().getFormattedMessage()).toList();
    }

    /** Messages that mention {@code text}. */
    List<String> about(String text) {
        return messages().stream().filter(m -> m.contains(text)).toList();
    }

    void clear() {
        events.clear();
    }

    @Override
    public void close() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        loggerConfig.removeAppender(getName());
        ctx.getConfiguration().removeLogger(LOGGER);
        ctx.updateLoggers();
        stop();
    }
}
