package pibl.lb;

import pibl.testing.LogCapture;
import io.netty.channel.ConnectTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import pibl.config.BackendConfig;
import pibl.config.HealthCheckConfig;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Passive health and the state model, with a clock moved by hand. */
class BackendTest {
    private static final ConnectException REFUSED =
            new ConnectException("finishConnect(..) failed: Connection refused: /127.0.0.1:9002");

    private final ManualNanoTime clock = new ManualNanoTime();
    private final LogCapture log = new LogCapture("pibl.lb", org.apache.logging.log4j.Level.INFO);
    private final Backend backend = new Backend(new BackendConfig("127.0.0.1", 9002),
            new HealthCheckConfig(true, "/health", Duration.ofSeconds(2), Duration.ofSeconds(1), 3, 2, 3,
                    Duration.ofSeconds(10)), clock);

    @AfterEach
    void closeLog() {
        log.close();
    }

    @Test
    void threeFailuresInARowTakeItOutForTheCooldown() {
        backend.recordFailure(REFUSED);
        backend.recordFailure(REFUSED);
        assertThat(backend.isAvailable()).as("two failures are below passiveFailures=3").isTrue();
        assertThat(backend.health()).isEqualTo("up");
        backend.recordFailure(REFUSED);

        assertThat(backend.isAvailable()).isFalse();
        assertThat(backend.health()).isEqualTo("cooldown");
        assertThat(backend.cooldownRemainingMillis()).isEqualTo(10_000);
        assertThat(log.messages()).containsExactly(
                "WARN backend 127.0.0.1:9002 DOWN (3 consecutive failures: connection refused); retry in 10 s");

        clock.advance(Duration.ofMillis(9_999));
        assertThat(backend.isAvailable()).as("still inside the cooldown").isFalse();
        assertThat(backend.cooldownRemainingMillis()).isEqualTo(1);
        clock.advance(Duration.ofMillis(1));
        assertThat(backend.isAvailable()).as("cooldown over: back in rotation").isTrue();
        assertThat(backend.health()).isEqualTo("up");
        assertThat(log.messages()).hasSize(2).last().asString()
                .isEqualTo("INFO backend 127.0.0.1:9002 cooldown over; back in rotation on probation");
        assertThat(backend.failures()).isEqualTo(3);
    }

    @Test
    void aSuccessResetsTheStreak() {
        backend.recordFailure(REFUSED);
        backend.recordFailure(REFUSED);
        backend.recordSuccess();
        backend.recordFailure(REFUSED);
        backend.recordFailure(REFUSED);
        assertThat(backend.isAvailable()).as("2 + 2 failures with a success between are not 3 in a row").isTrue();
        assertThat(backend.consecutiveFailures()).isEqualTo(2);
        assertThat(backend.failures()).isEqualTo(4);
        assertThat(log.messages()).isEmpty();
    }

    @Test
    void oneFailureAfterTheCooldownTakesItOutAgain() {
        for (int i = 0; i < 3; i++) {
            backend.recordFailure(REFUSED);
        }
        clock.advance(Duration.ofSeconds(10));
        assertThat(backend.isAvailable()).isTrue();

        backend.recordFailure(new IOException("Connection reset by peer"));
        assertThat(backend.isAvailable()).as("half-open: a single failure on probation is enough").isFalse();
        assertThat(log.about("DOWN")).last().asString()
                .isEqualTo("WARN backend 127.0.0.1:9002 DOWN (4 consecutive failures: connection reset);"
                        + " retry in 10 s");
    }

    @Test
    void aSuccessAfterTheCooldownEndsTheProbation() {
        for (int i = 0; i < 3; i++) {
            backend.recordFailure(REFUSED);
        }
        clock.advance(Duration.ofSeconds(10));
        assertThat(backend.isAvailable()).isTrue();
        backend.recordSuccess();
        backend.recordFailure(REFUSED);
        backend.recordFailure(REFUSED);
        assertThat(backend.isAvailable()).as("the streak starts over after a success").isTrue();
    }

    @Test
    void failuresDuringTheCooldownNeitherExtendItNorLogAgain() {
        for (int i = 0; i < 3; i++) {
            backend.recordFailure(REFUSED);
        }
        clock.advance(Duration.ofSeconds(5));
        for (int i = 0; i < 5; i++) {
            backend.recordFailure(new ClosedChannelException()); // requests sent before it went out
        }
        assertThat(backend.cooldownRemainingMillis()).isEqualTo(5_000);
        clock.advance(Duration.ofSeconds(5));
        assertThat(backend.isAvailable()).isTrue();
        assertThat(log.about("DOWN")).hasSize(1);
    }

    @Test
    void activeVerdictWinsAndEachChangeIsLoggedOnce() {
        backend.markActivelyDown(3, "HTTP 500");
        backend.markActivelyDown(4, "HTTP 500");
        assertThat(backend.isAvailable()).isFalse();
        assertThat(backend.health()).isEqualTo("down");
        for (int i = 0; i < 3; i++) {
            backend.recordFailure(REFUSED);
        }
        assertThat(backend.health()).as("actively down is reported before cooldown").isEqualTo("down");
        backend.markActivelyUp(2);
        backend.markActivelyUp(3);
        assertThat(backend.health()).isEqualTo("cooldown");
        assertThat(backend.isAvailable()).as("up for the checker, still cooling down for requests").isFalse();
        clock.advance(Duration.ofSeconds(10));
        assertThat(backend.isAvailable()).isTrue();
        assertThat(log.messages()).containsExactly(
                "WARN backend 127.0.0.1:9002 DOWN (health check failed 3 times in a row: HTTP 500)",
                "WARN backend 127.0.0.1:9002 DOWN (3 consecutive failures: connection refused); retry in 10 s",
                "INFO backend 127.0.0.1:9002 passing its health checks again (2 in a row); out of rotation until its"
                        + " cooldown ends",
                "INFO backend 127.0.0.1:9002 cooldown over; back in rotation on probation");
    }

    @Test
    void theOnlyBackendOfItsPoolStaysInRotationAndEachStreakIsLoggedOnce() {
        backend.sole(true);
        for (int i = 0; i < 6; i++) {
            backend.recordFailure(REFUSED);
        }
        assertThat(backend.isAvailable()).as("passive checks never take out a pool's only backend").isTrue();
        assertThat(backend.health()).isEqualTo("up");
        assertThat(backend.failures()).isEqualTo(6);
        assertThat(backend.consecutiveFailures()).isEqualTo(6);
        backend.recordSuccess();
        backend.recordSuccess();
        backend.recordFailure(REFUSED);
        backend.recordSuccess();
        assertThat(log.messages()).as("one line when the streak reaches passive-failures, one when it ends")
                .containsExactly("WARN backend 127.0.0.1:9002 failing (3 consecutive failures: connection refused);"
                                + " the only backend of its pool, so it stays in rotation",
                        "INFO backend 127.0.0.1:9002 answering again after 6 consecutive failures");
    }

    @Test
    void anAnswerToARequestSentInPanicEndsTheCooldownButNotAnActiveDown() {
        for (int i = 0; i < 3; i++) {
            backend.recordFailure(REFUSED);
        }
        backend.recordSuccess(); // a request sent before the cooldown began: proves less, changes nothing
        assertThat(backend.health()).isEqualTo("cooldown");
        backend.answeredInPanic();
        assertThat(backend.health()).as("it answered while out of rotation: back at once").isEqualTo("up");
        assertThat(backend.isAvailable()).isTrue();
        assertThat(log.messages()).last().asString()
                .isEqualTo("INFO backend 127.0.0.1:9002 answered a request during its cooldown; back in rotation");
        backend.recordFailure(REFUSED);
        assertThat(backend.isAvailable()).as("the streak started over, no probation").isTrue();

        backend.markActivelyDown(3, "HTTP 500");
        backend.answeredInPanic();
        assertThat(backend.health()).as("an active DOWN ends only by passing checks").isEqualTo("down");
    }

    @Test
    void countersAndLatency() {
        backend.onRequestStart();
        backend.onRequestStart();
        assertThat(backend.inFlight()).isEqualTo(2);
        backend.onRequestEnd();
        assertThat(backend.inFlight()).isEqualTo(1);
        assertThat(backend.requests()).isEqualTo(2);
        assertThat(backend.latencyPercentile(0.5)).as("no samples yet").isZero();
        backend.recordLatency(2_000_000);
        assertThat(backend.latencyPercentile(0.5)).isBetween(1.6, 2.5);
        assertThat(backend.latency().count()).isEqualTo(1);
    }

    @Test
    void failureWordsForTheLog() {
        assertThat(Failures.describe(REFUSED)).isEqualTo("connection refused");
        assertThat(Failures.describe(new ConnectTimeoutException("connection timed out: /10.0.0.1:80")))
                .isEqualTo("connect timed out");
        assertThat(Failures.describe(new ClosedChannelException())).isEqualTo("connection closed before a response");
        assertThat(Failures.describe(new IOException("Connection reset by peer"))).isEqualTo("connection reset");
        assertThat(Failures.describe(null)).isEqualTo("unknown");
        assertThat(Failures.human(Duration.ofSeconds(10))).isEqualTo("10 s");
        assertThat(Failures.human(Duration.ofMillis(1500))).isEqualTo("1.5 s");
        assertThat(Failures.human(Duration.ofMillis(200))).isEqualTo("200 ms");
    }
}
