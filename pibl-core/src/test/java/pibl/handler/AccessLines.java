package pibl.handler;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.LoggerConfig;
import pibl.testing.LogCapture;

import java.util.List;
import java.util.Map;

/**
 * The lines the {@code pibl.access} logger writes while open. The test log configuration keeps that logger at
 * WARN and sends it to the console; while open it is at INFO and its console appender is detached, so the lines
 * are captured and not printed.
 */
public final class AccessLines implements AutoCloseable {
    private static final String LOGGER = "pibl.access";

    private final LoggerConfig config;
    private final Level levelBefore;
    private final Map<String, Appender> appendersBefore;
    private final LogCapture capture;

    public AccessLines() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        config = ctx.getConfiguration().getLoggerConfig(LOGGER);
        if (!config.getName().equals(LOGGER)) {
            throw new IllegalStateException("log4j2-test.xml is expected to configure " + LOGGER);
        }
        levelBefore = config.getLevel();
        appendersBefore = Map.copyOf(config.getAppenders());
        appendersBefore.keySet().forEach(config::removeAppender);
        config.setLevel(Level.INFO);
        capture = new LogCapture(LOGGER, Level.INFO); // calls updateLoggers()
    }

    /** The access lines logged so far, without the level prefix. */
    public List<String> lines() {
        return capture.messages().stream().map(m -> m.substring(m.indexOf(' ') + 1)).toList();
    }

    /** The one line logged so far. */
    String only() {
        List<String> lines = lines();
        if (lines.size() != 1) {
            throw new AssertionError("expected one access line, got " + lines);
        }
        return lines.get(0);
    }

    @Override
    public void close() {
        capture.close();
        config.setLevel(levelBefore);
        appendersBefore.values().forEach(a -> config.addAppender(a, null, null));
        ((LoggerContext) LogManager.getContext(false)).updateLoggers();
    }
}
