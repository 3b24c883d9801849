package pibl.cache;

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

/** Collects the events of one logger (and its children) at WARN and above while open. */
final class LogCapture extends AbstractAppender implements AutoCloseable {
    private final List<LogEvent> events = new CopyOnWriteArrayList<>();
    private final LoggerConfig loggerConfig;
    private final boolean added;

    LogCapture(String loggerName) {
        super("capture-" + loggerName, null, null, true, Property.EMPTY_ARRAY);
        start();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration config = ctx.getConfiguration();
        LoggerConfig existing = config.getLoggerConfig(loggerName);
        if (existing.getName().equals(loggerName)) {
            loggerConfig = existing;
            added = false;
        } else {
            loggerConfig = new LoggerConfig(loggerName, Level.WARN, true);
            config.addLogger(loggerName, loggerConfig);
            added = true;
        }
        loggerConfig.addAppender(this, Level.WARN, null);
        ctx.updateLoggers();
    }

    @Override
    public void append(LogEvent event) {
        events.add(event.toImmutable());
    }

    List<String> messages() {
        return events.stream().map(e -> e.getLevel() + " " + e.getMessage().getFormattedMessage()).toList();
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
