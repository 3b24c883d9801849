package pibl.app;

import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.Core;
import org.apache.logging.log4j.core.Filter;
import org.apache.logging.log4j.core.Layout;
import org.apache.logging.log4j.core.appender.AbstractOutputStreamAppender;
import org.apache.logging.log4j.core.appender.ManagerFactory;
import org.apache.logging.log4j.core.appender.OutputStreamManager;
import org.apache.logging.log4j.core.config.Property;
import org.apache.logging.log4j.core.config.plugins.Plugin;
import org.apache.logging.log4j.core.config.plugins.PluginBuilderAttribute;
import org.apache.logging.log4j.core.config.plugins.PluginBuilderFactory;
import org.apache.logging.log4j.core.util.CloseShieldOutputStream;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.Serializable;

/**
 * Standard output for Log4j2, buffered the way its file appenders are: lines collect in one
 * buffer and reach the stream when it fills or when the asynchronous logger's batch ends.
 *
 * <p>Why not {@code <Console>}: Log4j2's ConsoleAppender hard-codes {@code immediateFlush=true}
 * (its {@code immediateFlush}, {@code bufferedIo} and {@code bufferSize} attributes are accepted
 * and ignored, apache/logging-log4j2#4262, open in 2.26), so every access line cost its own
 * write(2): the log thread spent ~3.4 us per 64 KiB hit instead of ~0.9 (strace and per-thread CPU under wrk).
 *
 * <p>Every {@code <Stdout>} appender of a configuration shares one manager (one buffer), so
 * server and access lines keep their order. The file descriptor is never closed by Log4j2.
 *
 * <pre>{@code <Stdout name="access-stdout" immediateFlush="false" bufferSize="65536"><PatternLayout .../></Stdout>}</pre>
 */
@Plugin(name = "Stdout", category = Core.CATEGORY_NAME, elementType = Appender.ELEMENT_TYPE, printObject = true)
public final class StdoutAppender extends AbstractOutputStreamAppender<OutputStreamManager> {
    static final String MANAGER_NAME = "pibl-stdout";
    static final int DEFAULT_BUFFER_SIZE = 64 * 1024;

    private StdoutAppender(String name, Layout<? extends Serializable> layout,
                           Filter filter, boolean ignoreExceptions,
                           boolean immediateFlush, Property[] properties, OutputStreamManager manager) {
        super(name, layout, filter, ignoreExceptions, immediateFlush, properties, manager);
    }

    @PluginBuilderFactory
    public static Builder newBuilder() {
        return new Builder();
    }

    /** The builder Log4j2 fills from the XML attributes; {@code bufferSize} is read once, by the first appender. */
    public static final class Builder extends AbstractOutputStreamAppender.Builder<Builder>
            implements org.apache.logging.log4j.core.util.Builder<StdoutAppender> {
        @PluginBuilderAttribute
        private int bufferSize = DEFAULT_BUFFER_SIZE;

        private OutputStream stream;
        private String managerName = MANAGER_NAME;

        /** The {@code bufferSize} attribute, in bytes (at least 256; default 64 KiB). */
        public Builder setBufferSize(int bufferSize) {
            this.bufferSize = bufferSize;
            return this;
        }

        /** Another stream instead of file descriptor 1 (tests), under its own manager name. */
        Builder setStream(OutputStream stream, String managerName) {
            this.stream = stream;
            this.managerName = managerName;
            return this;
        }

        @Override
        public StdoutAppender build() {
            Layout<? extends Serializable> layout = getOrCreateLayout();
            OutputStreamManager manager = OutputStreamManager.getManager(managerName,
                    new Target(stream, layout, Math.max(bufferSize, 256)), Manager.FACTORY);
            return new StdoutAppender(getName(), layout, getFilter(), isIgnoreExceptions(), isImmediateFlush(),
                    getPropertyArray(), manager);
        }
    }

    /** What the first appender asks for; {@code stream} null means file descriptor 1. */
    private record Target(OutputStream stream, Layout<?> layout, int bufferSize) {
    }

    private static final class Manager extends OutputStreamManager {
        static final ManagerFactory<Manager, Target> FACTORY =
                (name, t) -> new Manager(new CloseShieldOutputStream(t.stream() != null ? t.stream()
                        : new FileOutputStream(FileDescriptor.out)), name, t.layout(), t.bufferSize());

        Manager(OutputStream os, String name, Layout<?> layout, int bufferSize) {
            super(os, name, layout, true, bufferSize);
        }
    }
}
