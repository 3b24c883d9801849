package pibl.demo;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class DemoCommandTest {

    @Test
    void helpPrintsUsageWithEveryOption() {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            DemoBackend.main(new String[] {"--help"});
        } finally {
            System.setOut(original);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8))
                .contains("Usage: pibl-backend-demo", "--port", "--bind", "--name", "--threads", "--delay-ms", "--help");
    }

    @Test
    void aNegativeDelayIsRefusedBeforeListening() {
        StringWriter err = new StringWriter();
        int exitCode = new CommandLine(new DemoCommand())
                .setErr(new PrintWriter(err, true))
                .execute("--port", "0", "--delay-ms", "-1");

        assertThat(exitCode).as("a usage error, as picocli's own").isEqualTo(2);
        assertThat(err.toString()).contains("--delay-ms must be >= 0, got -1");
    }
}
