package pibl.lb;

import org.junit.jupiter.api.extension.ExtendWith;
import pibl.testing.NoLeaks;
import pibl.testing.Closer;
import pibl.testing.LogCapture;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
import pibl.config.HealthCheckConfig;
import pibl.runtime.Transport;
import pibl.testing.PortBackend;
import pibl.testing.TestBackend;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** Active health checks over real loopback sockets, on a real event loop group. */
@ExtendWith(NoLeaks.class)
class HealthCheckerIT {
    private static final Transport TRANSPORT = Transport.best();

    private final EventLoopGroup loops = TRANSPORT.newGroup(2);
    private final Closer closer = new Closer();
    private final LogCapture log = new LogCapture("pibl.lb", org.apache.logging.log4j.Level.INFO);

    @AfterEach
    void tearDown() throws Exception {
        closer.close();
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        log.close();
    }

    private <T extends AutoCloseable> T track(T c) {
        return closer.track(c);
    }

    private PortBackend backend(String name) throws InterruptedException {
        return track(PortBackend.start(name, 0));
    }

    /** Checks every 100 ms, 150 ms timeout, out after {@code fall}, back after {@code rise}. */
    private static HealthCheckConfig checks(int fall, int rise) {
        return new HealthCheckConfig(true, "/health", Duration.ofMillis(100), Duration.ofMillis(150), fall, rise, 3,
                Duration.ofSeconds(10));
    }

    private BackendGroup group(HealthCheckConfig health, PortBackend... backends) {
        List<BackendConfig> configs = new ArrayList<>();
        for (PortBackend b : backends) {
            configs.add(BackendConfig.parse(b.address()));
        }
        BackendGroup group = track(BackendGroup.create(configs, health, BalanceConfig.defaults()));
        group.startHealthChecks(loops, TRANSPORT.clientChannel());
        return group;
    }

    /** Polls every 10 ms for at most 3 s. */
    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    /** The state flips just before the line is logged, on the checker's loop: wait for the line too. */
    private void awaitLogged(String text) throws InterruptedException {
        await("a log line with '" + text + "'", () -> !log.about(text).isEmpty());
    }

    @Test
    void aBackendThatNeverAnswersGoesDownAfterFallTimeouts() throws Exception {
        PortBackend good = backend("good");
        PortBackend hung = backend("hung").hang();
        BackendGroup group = group(checks(2, 2), good, hung);
        Backend goodBackend = group.backends().get(0);
        Backend hungBackend = group.backends().get(1);

        int[] unansweredWhenDown = new int[1];
        await("the hung backend is down", () -> {
            unansweredWhenDown[0] = hung.hung();
            return hungBackend.isActivelyDown();
        });
        assertThat(unansweredWhenDown[0]).as("fall = 2: two checks went unanswered first").isGreaterThanOrEqualTo(2);
        assertThat(hungBackend.health()).isEqualTo("down");
        assertThat(goodBackend.health()).isEqualTo("up");
        for (int i = 0; i < 6; i++) {
            assertThat(group.balancer().pick(List.of())).as("only the good backend is in rotation")
                    .isSameAs(goodBackend);
        }
        awaitLogged(hung.address() + " DOWN");
        assertThat(log.about(hung.address())).containsExactly("WARN backend " + hung.address()
                + " DOWN (health check failed 2 times in a row: no answer within 150 ms)");
        assertThat(log.about(good.address())).isEmpty();

        TestBackend.Received check = good.received().get(0);
        assertThat(check.method()).isEqualTo("GET");
        assertThat(check.uri()).isEqualTo("/health");
        assertThat(check.headers().get("Connection")).isEqualTo("close");
        assertThat(check.headers().get("Host")).isEqualTo(good.address());
    }

    @Test
    void aServerErrorTakesItOutAndRiseGoodAnswersBringItBack() throws Exception {
        PortBackend b = backend("b").answer(500);
        BackendGroup group = group(checks(3, 3), b);
        Backend backend = group.backends().get(0);

        int[] failedWhenDown = new int[1];
        await("the 500 backend is down", () -> {
            failedWhenDown[0] = b.answered(500);
            return backend.isActivelyDown();
        });
        assertThat(failedWhenDown[0]).as("fall = 3").isGreaterThanOrEqualTo(3);
        // This was a null pick (a 503). Issue 12: the only backend is out, so the pool is in panic and still sends
        // it the requests; the checks decide only what /status and the log say.
        assertThat(group.balancer().pick(List.of())).as("the only backend is out: picked in panic")
                .isSameAs(backend);
        assertThat(group.balancer().inPanic()).isTrue();

        b.answer(200);
        int[] goodWhenUp = new int[1];
        await("the backend is up again", () -> {
            goodWhenUp[0] = b.answered(200);
            return !backend.isActivelyDown();
        });
        assertThat(goodWhenUp[0]).as("rise = 3: not back before three good checks").isGreaterThanOrEqualTo(3);
        assertThat(group.balancer().pick(List.of())).isSameAs(backend);
        awaitLogged(b.address() + " UP");
        assertThat(log.messages()).containsSubsequence(
                "WARN backend " + b.address() + " DOWN (health check failed 3 times in a row: HTTP 500)",
                "INFO backend " + b.address() + " UP (health check passed 3 times in a row)");
        assertThat(log.about(" DOWN ")).hasSize(1);
        assertThat(log.about(" UP ")).hasSize(1);
    }

    @Test
    void redirectsAreHealthyAndNotFoundIsNot() throws Exception {
        PortBackend redirect = backend("redirect").answer(302);
        PortBackend missing = backend("missing").answer(404);
        BackendGroup group = group(checks(2, 2), redirect, missing);

        await("the 404 backend is down", () -> group.backends().get(1).isActivelyDown());
        await("the 302 backend answered a few checks", () -> redirect.answered(302) >= 4);
        assertThat(group.backends().get(0).health()).as("3xx counts as healthy").isEqualTo("up");
    }

    @Test
    void aKilledBackendRejoinsAfterRestartingOnTheSamePort() throws Exception {
        PortBackend b = backend("b");
        PortBackend other = backend("other");
        BackendGroup group = group(checks(2, 2), b, other);
        Backend backend = group.backends().get(0);
        await("a first good check", () -> b.answered(200) >= 1);

        b.stop();
        await("the stopped backend is down", backend::isActivelyDown);
        assertThat(group.balancer().pick(List.of())).isSameAs(group.backends().get(1));
        awaitLogged(b.address() + " DOWN");
        assertThat(log.about(b.address())).containsExactly("WARN backend " + b.address()
                + " DOWN (health check failed 2 times in a row: connection refused)");

        b.restart();
        int[] goodWhenUp = new int[1];
        await("the restarted backend is up", () -> {
            goodWhenUp[0] = b.answered(200);
            return !backend.isActivelyDown();
        });
        assertThat(goodWhenUp[0]).as("one good check before the kill, rise = 2 after the restart")
                .isGreaterThanOrEqualTo(3);
        awaitLogged(b.address() + " UP");
        assertThat(log.about(b.address())).hasSize(2).last().asString()
                .isEqualTo("INFO backend " + b.address() + " UP (health check passed 2 times in a row); slow start"
                        + " over 30 s");
        assertThat(backend.rampFactor()).as("back from DOWN, it ramps up from a tenth of its share")
                .isBetween(0.1, 0.2);
        assertThat(group.backends().get(1).rampFactor()).as("a backend of the first configuration never ramped")
                .isEqualTo(1.0);
    }

    @Test
    void reconfigureKeepsHealthAndStopsTheOldChecker() throws Exception {
        PortBackend failing = backend("failing").answer(500);
        PortBackend dropped = backend("dropped");
        PortBackend added = backend("added");
        BackendGroup old = group(checks(2, 2), failing, dropped);
        Backend failingBackend = old.backends().get(0);
        await("the failing backend is down", failingBackend::isActivelyDown);

        BackendGroup next = track(old.reconfigure(List.of(
                new BackendConfig("127.0.0.1", failing.port(), 3), BackendConfig.parse(added.address())),
                checks(2, 2)));
        assertThat(next.backends().get(0)).as("same address: same Backend, same health and counters")
                .isSameAs(failingBackend);
        assertThat(failingBackend.isActivelyDown()).isTrue();
        assertThat(failingBackend.weight()).isEqualTo(3);
        assertThat(next.balancer()).isInstanceOf(SmoothWeightedBalancer.class);
        assertThat(next.balancer().pick(List.of())).isSameAs(next.backends().get(1));

        await("the new checker reaches the added backend", () -> added.answered(200) >= 2);
        int droppedChecks = dropped.requestCount();
        failing.answer(200);
        await("the new checker brings the kept backend back", () -> !failingBackend.isActivelyDown());
        Thread.sleep(300);
        assertThat(dropped.requestCount()).as("the old checker stopped: the removed backend is no longer checked")
                .isLessThanOrEqualTo(droppedChecks + 1);
    }

    @Test
    void switchingActiveChecksOffBringsDownBackendsBack() throws Exception {
        PortBackend failing = backend("failing").answer(500);
        BackendGroup old = group(checks(2, 2), failing);
        await("down", () -> old.backends().get(0).isActivelyDown());

        HealthCheckConfig off = new HealthCheckConfig(false, "/health", Duration.ofMillis(100), Duration.ofMillis(150),
                2, 2, 3, Duration.ofSeconds(10));
        BackendGroup next = track(old.reconfigure(List.of(BackendConfig.parse(failing.address())), off));
        assertThat(next.backends().get(0).health()).as("nothing would ever bring it back").isEqualTo("up");
        int checks = failing.requestCount();
        Thread.sleep(300);
        assertThat(failing.requestCount()).as("no checks when they are off").isLessThanOrEqualTo(checks + 1);
    }

    @Test
    void closeStopsTheChecks() throws Exception {
        PortBackend b = backend("b");
        BackendGroup group = group(checks(2, 2), b);
        await("checks run", () -> b.answered(200) >= 2);
        group.close();
        int checks = b.requestCount();
        Thread.sleep(300);
        assertThat(b.requestCount()).isLessThanOrEqualTo(checks + 1);
    }
}
