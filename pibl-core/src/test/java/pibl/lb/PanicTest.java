package pibl.lb;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pibl.config.BackendConfig;
import pibl.config.HealthCheckConfig;
import pibl.testing.LogCapture;

import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Which backend each pick gives when backends are out of rotation: the table of panic, with a clock moved by hand. */
class PanicTest {
    private final ManualNanoTime clock = new ManualNanoTime();
    private final LogCapture log = new LogCapture("pibl.lb", org.apache.logging.log4j.Level.INFO);

    @AfterEach
    void closeLog() {
        log.close();
    }

    /** Backends a, b, c, … on ports 9001, … with the given weights. */
    private List<Backend> backends(int... weights) {
        List<Backend> list = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            list.add(new Backend(new BackendConfig("127.0.0.1", 9001 + i, weights[i]), HealthCheckConfig.defaults(),
                    clock));
        }
        return list;
    }

    private static String name(Backend b) {
        return b == null ? "-" : String.valueOf((char) ('a' + b.address().getPort() - 9001));
    }

    private static Backend named(List<Backend> list, String letter) {
        return list.get(letter.charAt(0) - 'a');
    }

    /** Three refused requests in a row: 10 s of passive cooldown (the default). */
    private static void coolDown(Backend b) {
        for (int i = 0; i < 3; i++) {
            b.recordFailure(new ConnectException("Connection refused"));
        }
        assertThat(b.health()).isEqualTo("cooldown");
    }

    /**
     * {@code out}: {@code a:c} cooling down after failed requests, {@code a:d} down by failed active checks;
     * {@code tried}: backends that already failed the request; {@code panicPicks}: how many of the picks were made
     * in panic (the counter).
     */
    @ParameterizedTest(name = "weights {0}, out {1}, tried {2} → {3}")
    @CsvSource(delimiter = '|', value = {
        // every backend out: all of them in turn, as if they were in rotation
        "1,1,1 | a:c b:d c:c | -     | a b c a b c   | 6",
        "1,1   | a:c b:c     | -     | a b a b       | 4",
        // a request's retry goes to the next one it has not tried after the one that failed
        "1,1,1 | a:c b:d c:c | a     | b b b         | 3",
        "1,1,1 | a:c b:d c:c | c     | a a a         | 3",
        "1,1,1 | a:c b:d c:c | b c   | a a a         | 3",
        // every backend tried: nothing left, the caller answers 502
        "1,1   | a:c b:d     | a b   | - -           | 0",
        // one in rotation: no panic, the others get nothing
        "1,1,1 | b:c c:d     | -     | a a a         | 0",
        // the one in rotation already failed this request: no panic for it either (502), the others are not tried
        "1,1,1 | b:c c:d     | a     | - - -         | 0",
        "1,1,1 | b:c         | a     | c c c         | 0",
        // weights hold in panic (nginx's smooth weighted order)
        "5,1,1 | a:c b:c c:d | -     | a a b a c a a | 7",
        "5,1,1 | a:c b:c c:d | a     | b c b c       | 4",
        "2,1   | b:c         | a     | - -           | 0",
        // the only backend of a pool, down by its checks: still sent everything
        "7     | a:d         | -     | a a a         | 3",
    })
    void picksWithBackendsOutOfRotation(String weights, String out, String tried, String expected, int panicPicks) {
        int[] w = Arrays.stream(weights.trim().split(",")).mapToInt(Integer::parseInt).toArray();
        List<Backend> list = backends(w);
        for (String o : out.trim().split(" ")) {
            Backend b = named(list, o.substring(0, 1));
            if (o.endsWith(":c")) {
                coolDown(b);
            } else {
                b.markActivelyDown(3, "HTTP 500");
            }
        }
        List<Backend> failed = tried.isBlank() || tried.trim().equals("-") ? List.of()
                : Arrays.stream(tried.trim().split(" ")).map(t -> named(list, t)).toList();
        LoadBalancer lb = LoadBalancers.create(list);
        String[] want = expected.trim().split(" ");
        StringBuilder got = new StringBuilder();
        for (int i = 0; i < want.length; i++) {
            got.append(i == 0 ? "" : " ").append(name(lb.pick(failed)));
        }
        assertThat(got.toString()).isEqualTo(expected.trim());
        assertThat(lb.panic().requests()).as("picks made in panic").isEqualTo(panicPicks);
    }

    @Test
    void anEpisodeIsLoggedOnceAndEndsWhenABackendIsBackInRotation() {
        List<Backend> list = backends(1, 1);
        LoadBalancer lb = LoadBalancers.create(list);
        coolDown(list.get(0));
        list.get(1).markActivelyDown(2, "HTTP 503");
        log.clear();
        for (int i = 0; i < 10; i++) {
            assertThat(lb.pick(List.of())).isNotNull();
        }
        assertThat(lb.panic().active()).isTrue();
        assertThat(log.messages()).as("one line for the episode, not one per request").containsExactly(
                "WARN every backend of the pool is out of rotation (127.0.0.1:9001 cooldown, 127.0.0.1:9002 down);"
                        + " sending to all of them in turn (panic)");

        clock.advance(Duration.ofSeconds(10));
        for (int i = 0; i < 4; i++) {
            assertThat(name(lb.pick(List.of()))).as("a is back; b is still down, so no panic: only a").isEqualTo("a");
        }
        assertThat(lb.panic().active()).isFalse();
        assertThat(log.messages()).containsExactly(
                "WARN every backend of the pool is out of rotation (127.0.0.1:9001 cooldown, 127.0.0.1:9002 down);"
                        + " sending to all of them in turn (panic)",
                "INFO backend 127.0.0.1:9001 cooldown over; back in rotation on probation",
                "INFO panic over: backend 127.0.0.1:9001 back in rotation (10 requests sent in panic)");

        list.get(0).recordFailure(new ConnectException("Connection refused")); // on probation: out again at once
        lb.pick(List.of());
        assertThat(log.about("panic")).as("a new episode, a new line").hasSize(3).last().asString()
                .startsWith("WARN every backend of the pool is out of rotation");
        assertThat(lb.panic().requests()).isEqualTo(11);
    }

    @Test
    void aReadingOfTheStateBeginsAndEndsAnEpisodeWithoutTraffic() {
        List<Backend> list = backends(1, 1);
        LoadBalancer lb = LoadBalancers.create(list);
        assertThat(lb.inPanic()).isFalse();
        coolDown(list.get(0));
        coolDown(list.get(1));
        assertThat(lb.inPanic()).as("what /status shows: every backend is out").isTrue();
        assertThat(lb.inPanic()).isTrue();
        assertThat(lb.panic().requests()).as("a reading sends nothing").isZero();
        clock.advance(Duration.ofSeconds(10));
        assertThat(lb.inPanic()).as("the cooldowns ended: /status says so with no request in between").isFalse();
        assertThat(log.about("panic")).containsExactly(
                "WARN every backend of the pool is out of rotation (127.0.0.1:9001 cooldown, 127.0.0.1:9002 cooldown);"
                        + " sending to all of them in turn (panic)",
                "INFO panic over: backend 127.0.0.1:9001 back in rotation (0 requests sent in panic)");
    }
}
