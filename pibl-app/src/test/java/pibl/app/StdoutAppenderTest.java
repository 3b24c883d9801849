package pibl.app;

import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.logging.log4j.message.SimpleMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class StdoutAppenderTest {
    private static final AtomicInteger SEQ = new AtomicInteger();

    /** Counts write calls the way the kernel would count write(2)s, and whether anyone closed it. */
    private static final class CountingStream extends ByteArrayOutputStream {
        int writes;
        boolean closed;

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            writes++;
            super.write(b, off, len);
        }

        @Override
        public synchronized void write(int b) {
            writes++;
            super.write(b);
        }

        @Override
        public void close() {
            closed = true;
        }

        String text() {
            return toString(StandardCharsets.UTF_8);
        }
    }

    private final CountingStream out = new CountingStream();
    private StdoutAppender appender;

    private StdoutAppender start(boolean immediateFlush, int bufferSize) {
        StdoutAppender.Builder builder = StdoutAppender.newBuilder()
                .setName("test")
                .setImmediateFlush(immediateFlush)
                .setLayout(PatternLayout.newBuilder().withPattern("%m%n").build());
        if (bufferSize > 0) {
            builder.setBufferSize(bufferSize);
        }
        appender = builder.setStream(out, "stdout-test-" + SEQ.incrementAndGet()).build();
        appender.start();
        return appender;
    }

    private static LogEvent event(String text, boolean endOfBatch) {
        return Log4jLogEvent.newBuilder().setLoggerName("pibl.access").setMessage(new SimpleMessage(text))
                .setEndOfBatch(endOfBatch).build();
    }

    @AfterEach
    void stop() {
        if (appender != null && appender.isStarted()) {
            appender.stop();
        }
    }

    @Test
    void linesWaitForTheEndOfTheBatchAndThenGoOutInOneWrite() {
        start(false, 0);
        for (int i = 0; i < 100; i++) {
            appender.append(event("line " + i, false));
        }
        assertThat(out.writes).as("nothing written before the batch ends").isZero();

        appender.append(event("line 100", true));

        assertThat(out.writes).as("a batch of 101 lines is one write").isEqualTo(1);
        assertThat(out.text().lines()).hasSize(101).startsWith("line 0").endsWith("line 100");
    }

    @Test
    void immediateFlushStillMeansOneWritePerLine() {
        start(true, 0);
        for (int i = 0; i < 5; i++) {
            appender.append(event("line " + i, false));
        }
        assertThat(out.writes).isEqualTo(5);
        assertThat(out.text().lines()).containsExactly("line 0", "line 1", "line 2", "line 3", "line 4");
    }

    @Test
    void aFullBufferIsWrittenWithoutWaitingAndLosesNoLine() {
        start(false, 256);
        for (int i = 0; i < 200; i++) {
            appender.append(event("a line of about thirty bytes " + i, false));
        }
        assertThat(out.writes).as("written as the 256-byte buffer fills").isBetween(20, 40);
        appender.append(event("last", true));
        assertThat(out.text().lines()).hasSize(201).endsWith("last");
    }

    @Test
    void stoppingFlushesWhatIsLeftButDoesNotCloseTheDescriptor() {
        start(false, 0);
        appender.append(event("pending", false));
        assertThat(out.writes).isZero();

        appender.stop();

        assertThat(out.text()).isEqualTo("pending" + System.lineSeparator());
        assertThat(out.closed).as("file descriptor 1 outlives Log4j2").isFalse();
    }
}
