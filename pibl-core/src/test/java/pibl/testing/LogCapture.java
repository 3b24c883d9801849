package pibl.testing;

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
 * Collects the events of one logger (and its children) at {@code level} and above while open, as
 * {@code "LEVEL message"}, so tests can check what was logged and how often.
 */
public final class LogCapture extends AbstractAppender implements AutoCloseable {
    private final List<LogEvent> events = new CopyOnWriteArrayList<>();
    private final LoggerConfig loggerConfig;
    private final boolean added;

    public LogCapture(String loggerName, Level level) {
        super("capture-" + loggerName + "-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY);
        start();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration config = ctx.getConfiguration();
        LoggerConfig existing = config.getLoggerConfig(loggerName);
        if (existing.getName().equals(loggerName)) {
            loggerConfig = existing;
            added = false;
        } else {
            loggerConfig = new LoggerConfig(loggerName, level, true);
            config.addLogger(loggerName, loggerConfig);
            added = true;
        }
        loggerConfig.addAppender(this, level, null);
        ctx.updateLoggers();
    }

    @Override
    public void append(LogEvent event) {
        events.add(event.toImmutable());
    }

    public List<String> messages() {
        return events.stream().map(e -> e.getLevel() + " " + e.getMessage().getFormattedMessage()).toList();
    }

    /** Messages that mention {@code text}. */
    public List<String> about(String text) {
        return messages().stream().filter(m -> m.contains(text)).toList();
    }

    public void clear() {
        events.clear();
    }

    @Override
    public void close() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        loggerConfig.removeAppender(getName());
        if (added) {
            ctx.getConfiguration().removeLogger(loggerConfig.getName());
        }
        ctx.updateLoggers();
        stop();
    }
}
