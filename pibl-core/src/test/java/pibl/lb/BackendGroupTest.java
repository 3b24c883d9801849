package pibl.lb;

import org.junit.jupiter.api.Test;
import pibl.config.BackendConfig;
import pibl.config.BalanceConfig;
import pibl.config.HealthCheckConfig;

import java.net.ConnectException;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Building and reloading a group, without the network (active checks are in {@link HealthCheckerIT}). */
class BackendGroupTest {
    private static final HealthCheckConfig HEALTH = HealthCheckConfig.defaults();
    private static final BalanceConfig BALANCE = BalanceConfig.defaults();
    private final ManualNanoTime clock = new ManualNanoTime();

    private static BackendConfig at(int port, int weight) {
        return new BackendConfig("127.0.0.1", port, weight);
    }

    @Test
    void theBalancerFollowsTheWeights() {
        try (BackendGroup equal = BackendGroup.create(List.of(at(9001, 1), at(9002, 1)), HEALTH, BALANCE);
             BackendGroup weighted = BackendGroup.create(List.of(at(9001, 2), at(9002, 1)), HEALTH, BALANCE)) {
            assertThat(equal.balancer()).isInstanceOf(RoundRobinBalancer.class);
            assertThat(weighted.balancer()).isInstanceOf(SmoothWeightedBalancer.class);
            assertThat(weighted.backends()).extracting(Backend::label)
                    .containsExactly("127.0.0.1:9001", "127.0.0.1:9002");
            assertThat(weighted.balancer().backends()).isEqualTo(weighted.backends());
        }
    }

    @Test
    void reloadKeepsTheBackendsOfKeptAddressesWithTheirCountersAndHealth() {
        BackendGroup old = BackendGroup.create(List.of(at(9001, 1), at(9002, 1), at(9003, 1)), HEALTH, BALANCE,
                clock);
        Backend kept = old.backends().get(1);
        kept.onRequestStart();
        kept.onRequestEnd();
        kept.recordLatency(5_000_000);
        for (int i = 0; i < 3; i++) {
            kept.recordFailure(new ConnectException("Connection refused"));
        }
        HealthCheckConfig longer = new HealthCheckConfig(true, "/health", Duration.ofSeconds(2), Duration.ofSeconds(1),
                3, 2, 5, Duration.ofSeconds(30));

        BackendGroup next = old.reconfigure(List.of(at(9002, 4), at(9004, 1)), longer);

        assertThat(next.backends()).hasSize(2);
        assertThat(next.backends().get(0)).isSameAs(kept);
        assertThat(kept.weight()).as("the new weight applies to the kept backend").isEqualTo(4);
        assertThat(kept.requests()).isEqualTo(1);
        assertThat(kept.latency().count()).isEqualTo(1);
        assertThat(kept.health()).as("a reload does not forgive a backend cooling down").isEqualTo("cooldown");
        assertThat(next.backends().get(1)).isNotIn(old.backends());
        assertThat(next.backends().get(1).requests()).isZero();
        assertThat(next.balancer()).isInstanceOf(SmoothWeightedBalancer.class);
        assertThat(next.healthCheck()).isEqualTo(longer);

        clock.advance(Duration.ofSeconds(10));
        assertThat(kept.isAvailable()).isTrue();
        kept.recordSuccess();
        for (int i = 0; i < 4; i++) {
            kept.recordFailure(new ConnectException("Connection refused"));
        }
        assertThat(kept.isAvailable()).as("passive-failures is now 5").isTrue();
        kept.recordFailure(new ConnectException("Connection refused"));
        assertThat(kept.cooldownRemainingMillis()).as("the new 30 s cooldown").isEqualTo(30_000);
        next.close();
        old.close();
    }

    @Test
    void aBackendIsItsAddressAndItsTlsSettings() {
        BackendConfig.Tls unverified = new BackendConfig.Tls(true, null, false, null);
        BackendConfig.Tls named = new BackendConfig.Tls(true, "shop.example", false, null);
        BackendGroup old = BackendGroup.create(List.of(at(9001, 1), at(9002, 1).withTls(unverified),
                at(9003, 1).withTls(unverified)), HEALTH, BALANCE);
        Backend cleartext = old.backends().get(0);
        Backend tls = old.backends().get(1);
        Backend renamed = old.backends().get(2);
        assertThat(cleartext.tls()).isNull();
        assertThat(tls.tls()).isNotNull();
        assertThat(tls.tls().serverName()).as("an IP literal without sni sends none").isNull();

        BackendGroup next = old.reconfigure(List.of(at(9001, 1).withTls(unverified), at(9002, 3).withTls(unverified),
                at(9003, 1).withTls(named)), HEALTH);

        assertThat(next.backends().get(0)).as("cleartext to TLS: another backend").isNotSameAs(cleartext);
        assertThat(next.backends().get(0).tls()).isNotNull();
        assertThat(next.backends().get(1)).as("the same TLS settings, another weight: kept").isSameAs(tls);
        assertThat(tls.weight()).isEqualTo(3);
        assertThat(next.backends().get(2)).as("another sni: another backend").isNotSameAs(renamed);
        assertThat(next.backends().get(2).tls().serverName()).isEqualTo("shop.example");
        next.close();
        old.close();
    }

    @Test
    void aDuplicatedAddressGetsOneBackendPerEntry() {
        BackendGroup old = BackendGroup.create(List.of(at(9001, 1), at(9001, 1)), HEALTH, BALANCE);
        assertThat(old.backends().get(0)).isNotSameAs(old.backends().get(1));
        BackendGroup next = old.reconfigure(List.of(at(9001, 1), at(9001, 1), at(9001, 1)), HEALTH, BALANCE);
        assertThat(next.backends().subList(0, 2)).containsExactlyElementsOf(old.backends());
        assertThat(next.backends().get(2)).isNotIn(old.backends());
    }

    @Test
    void activeVerdictsStayOnReloadUnlessChecksAreSwitchedOff() {
        BackendGroup old = BackendGroup.create(List.of(at(9001, 1)), HEALTH, BALANCE);
        Backend b = old.backends().get(0);
        b.markActivelyDown(3, "HTTP 500");
        BackendGroup same = old.reconfigure(List.of(at(9001, 1)), HEALTH, BALANCE);
        assertThat(same.backends().get(0).health()).isEqualTo("down");
        // This used to be a null pick (the caller answered 503). Issue 12: the pool's only backend is down, so the
        // pool is in panic and the backend still gets the requests.
        assertThat(same.balancer().pick(List.of())).isSameAs(b);
        assertThat(same.balancer().inPanic()).isTrue();

        HealthCheckConfig off = new HealthCheckConfig(false, "/health", Duration.ofSeconds(2), Duration.ofSeconds(1),
                3, 2, 3, Duration.ofSeconds(10));
        BackendGroup unchecked = same.reconfigure(List.of(at(9001, 1)), off);
        assertThat(unchecked.backends().get(0).health()).isEqualTo("up");
        assertThat(unchecked.balancer().pick(List.of())).isSameAs(b);
        assertThat(unchecked.balancer().inPanic()).isFalse();
    }

    @Test
    void theOnlyBackendOfAPoolIsNeverCooledDownAndAReloadThatLeavesOneOnlyEndsItsCooldown() {
        BackendGroup lone = BackendGroup.create(List.of(at(9001, 1)), HEALTH, BALANCE, clock);
        Backend only = lone.backends().get(0);
        for (int i = 0; i < 5; i++) {
            only.recordFailure(new ConnectException("Connection refused"));
        }
        assertThat(only.health()).as("passive checks never take out a pool's only backend").isEqualTo("up");
        assertThat(only.failures()).as("its failures still count").isEqualTo(5);

        BackendGroup two = lone.reconfigure(List.of(at(9001, 1), at(9002, 1)), HEALTH, BALANCE);
        Backend other = two.backends().get(1);
        for (int i = 0; i < 3; i++) {
            other.recordFailure(new ConnectException("Connection refused"));
            only.recordFailure(new ConnectException("Connection refused"));
        }
        assertThat(other.health()).as("in a pool of two, three failures start the cooldown").isEqualTo("cooldown");
        assertThat(only.health()).as("no longer alone: the streak goes on and takes it out").isEqualTo("cooldown");

        BackendGroup alone = two.reconfigure(List.of(at(9002, 1)), HEALTH, BALANCE);
        assertThat(alone.backends().get(0)).isSameAs(other);
        assertThat(other.health()).as("alone again: back in rotation at once").isEqualTo("up");
        assertThat(alone.balancer().inPanic()).isFalse();
        alone.close();
        two.close();
        lone.close();
    }

    @Test
    void thePanicStateOfThePoolSurvivesAReload() {
        BackendGroup old = BackendGroup.create(List.of(at(9001, 1), at(9002, 1)), HEALTH, BALANCE, clock);
        for (Backend b : old.backends()) {
            b.markActivelyDown(3, "HTTP 500");
        }
        old.balancer().pick(List.of());
        old.balancer().pick(List.of());
        BackendGroup next = old.reconfigure(List.of(at(9001, 1), at(9002, 3)), HEALTH, BALANCE);
        assertThat(next.balancer()).isInstanceOf(SmoothWeightedBalancer.class);
        assertThat(next.balancer().panic()).as("the pool's state, not the balancer's").isSameAs(old.balancer().panic());
        next.balancer().pick(List.of());
        assertThat(next.balancer().panic().requests()).as("the counter goes on over the reload").isEqualTo(3);
        next.close();
        old.close();
    }
}
