package pibl.upstream;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import pibl.config.BackendConfig;
import pibl.lb.Backend;
import pibl.testing.LogCapture;
import pibl.upstream.RetryPolicy.Decision;
import pibl.upstream.RetryPolicy.Failure;

import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A backend failing under load is a handful of lines, not one per request (issue 17's log storm). */
class AttemptLogTest {
    private final LogCapture log = new LogCapture(UpstreamCall.class.getName(), Level.DEBUG);
    private final AttemptLog attempts = new AttemptLog();
    /** The scheduler, by hand: the tasks wait here until the test says a second has passed. */
    private final List<Runnable> scheduled = new ArrayList<>();
    private final AttemptLog.Scheduler scheduler = (task, nanos) -> {
        assertThat(nanos).isEqualTo(AttemptLog.WINDOW_NANOS);
        scheduled.add(task);
    };
    private final Backend a = new Backend(BackendConfig.parse("127.0.0.1:9001"));
    private final Backend b = new Backend(BackendConfig.parse("127.0.0.1:9002"));
    private final HttpRequest get = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/a");

    @AfterEach
    void close() {
        log.close();
    }

    private void fail(Backend backend, Failure kind) {
        attempts.failed(scheduler, backend, get, kind, Decision.NEXT_BACKEND, new ConnectException("Connection refused"),
                false, true, false, 5_000_000_000L);
    }

    private void aSecondPasses() {
        List<Runnable> due = List.copyOf(scheduled);
        scheduled.clear();
        due.forEach(Runnable::run);
    }

    @Test
    void theFirstFailureIsOneFullLineAndTheRestOfTheSecondOneSummary() {
        for (int i = 0; i < 300; i++) {
            fail(a, i % 10 == 0 ? Failure.RESPONSE_TIMEOUT : Failure.CONNECT_REFUSED);
        }
        assertThat(log.messages()).as("one line however many failed").containsExactly(
                "WARN backend 127.0.0.1:9001 sent nothing for 5000 ms on GET /a, trying the next backend");
        aSecondPasses();
        assertThat(log.messages()).hasSize(2).last().isEqualTo(
                "WARN backend 127.0.0.1:9001: 299 more failed attempts in the last 1 s (connect refused 270, timed out 29)");

        fail(a, Failure.CONNECT_REFUSED);
        aSecondPasses();
        assertThat(log.messages()).as("still failing: one summary per second, no full line").hasSize(3).last()
                .isEqualTo("WARN backend 127.0.0.1:9001: 1 more failed attempt in the last 1 s (connect refused 1)");

        aSecondPasses();
        assertThat(log.messages()).as("a quiet second says nothing and closes the window").hasSize(3);
        assertThat(scheduled).isEmpty();
        fail(a, Failure.CONNECT_REFUSED);
        assertThat(log.messages()).as("after a quiet second, a full line again").hasSize(4).last().asString()
                .startsWith("WARN backend 127.0.0.1:9001 connect failed for GET /a: Connection refused");
    }

    @Test
    void eachBackendHasItsOwnWindow() {
        fail(a, Failure.CONNECT_REFUSED);
        fail(b, Failure.CONNECT_REFUSED);
        fail(b, Failure.CLOSED);
        assertThat(log.messages()).hasSize(2);
        aSecondPasses();
        assertThat(log.messages()).hasSize(3).last()
                .isEqualTo("WARN backend 127.0.0.1:9002: 1 more failed attempt in the last 1 s (closed 1)");
    }

    @Test
    void theKeepAliveRaceIsDebugOnlyAndOpensNoWindow() {
        attempts.failed(scheduler, a, get, Failure.CLOSED, Decision.RESEND_SAME_BACKEND, null, false, true, false, 0);
        assertThat(log.messages()).singleElement().asString().startsWith("DEBUG backend 127.0.0.1:9001 closed a reused");
        assertThat(scheduled).isEmpty();
    }
}
