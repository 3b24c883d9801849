package pibl.lb;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.config.BackendConfig;
import pibl.config.HealthCheckConfig;
import pibl.runtime.LatencyHistogram;
import pibl.tls.BackendTls;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * One upstream server as the balancer sees it: where it is, whether it may be picked, and what it
 * has done. Thread-safe and lock-free; the counters are cheap enough for every request.
 *
 * <p>Two verdicts keep a backend out of rotation, each logged once when it changes:
 * <pre>
 * active   HealthChecker: fall failed checks → DOWN, rise good checks → UP
 * passive  requests: passiveFailures refused/reset/timed-out in a row → cooldown for passiveCooldown,
 *          then back on probation: the next failure takes it out again, a success clears the count;
 *          a request sent to it in panic that gets its answer ends the cooldown at once
 *
 * WARN backend 127.0.0.1:9002 DOWN (3 consecutive failures: connection refused); retry in 10 s
 * INFO backend 127.0.0.1:9002 cooldown over; back in rotation on probation
 * </pre>
 *
 * <p>The only backend of its pool is never taken out by the passive verdict (nginx ignores {@code max_fails} for
 * a lone server): without it nothing answers, and a backend that failed three requests may answer the fourth.
 * Its failures are still counted, and a streak is logged once when it reaches {@code passiveFailures}:
 * <pre>
 * WARN backend 127.0.0.1:9002 failing (3 consecutive failures: connection reset); the only backend of its pool,
 *      so it stays in rotation
 * INFO backend 127.0.0.1:9002 answering again after 3 consecutive failures
 * </pre>
 * The active verdict still applies to it; the pool is then in {@link Panic} and still sends it requests.
 *
 * <p>What the balancers read besides: requests in flight, the latency estimate of {@link PeakEwma} (fed by
 * {@link #recordResponse} and {@link #recordFailure}), and the {@link SlowStart} factor of a backend that came
 * back, said by the line that logs its return:
 * <pre>
 * INFO backend 127.0.0.1:9002 UP (health check passed 2 times in a row); slow start over 30 s
 * INFO backend 127.0.0.1:9004 added; slow start over 30 s
 * </pre>
 */
public final class Backend {
    private static final Logger LOG = LogManager.getLogger(Backend.class);

    private final InetSocketAddress address;
    private final String label;
    private final LongSupplier nanoTime;
    private final long origin;
    private volatile BackendConfig config;
    private volatile HealthCheckConfig health;
    /** Null for cleartext. */
    private volatile BackendTls.Peer tls;
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Left the configuration (a reload removed it or its pool): its pooled connections are closed, not reused. */
    private volatile boolean retired;
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    /** Nanoseconds since {@link #origin} when the passive cooldown ends; 0 when not cooling down. */
    private final AtomicLong cooldownUntil = new AtomicLong();
    /** Good active checks since the current passive cooldown began. */
    private final AtomicInteger checksPassedInCooldown = new AtomicInteger();
    private final AtomicBoolean activelyDown = new AtomicBoolean();
    /** The only backend of its pool: passive failures are counted but never start a cooldown. */
    private volatile boolean sole;
    /** It answered a request, or passed a check while in rotation, since this process started. */
    private volatile boolean served;
    private volatile boolean rampOnlyAfterServing;
    private final LatencyHistogram latency = new LatencyHistogram();
    private final PeakEwma ewma = new PeakEwma();
    private final SlowStart slowStart = new SlowStart();

    /** With the default health settings (only the passive ones matter here). */
    public Backend(BackendConfig config) {
        this(config, HealthCheckConfig.defaults());
    }

    public Backend(BackendConfig config, HealthCheckConfig health) {
        this(config, health, System::nanoTime);
    }

    /** With the clock the passive cooldown is measured by (tests move it instead of sleeping). */
    public Backend(BackendConfig config, HealthCheckConfig health, LongSupplier nanoTime) {
        this(config, health, nanoTime, new BackendTls().peer(config, config.address()));
    }

    /** With the TLS of its pool ({@link BackendGroup} shares the contexts among its backends). */
    Backend(BackendConfig config, HealthCheckConfig health, LongSupplier nanoTime, BackendTls.Peer tls) {
        if (config.tls().enabled() != (tls != null)) {
            throw new IllegalArgumentException(config + ": TLS settings and context disagree");
        }
        this.config = config;
        this.health = health;
        this.tls = tls;
        this.nanoTime = nanoTime;
        this.origin = nanoTime.getAsLong();
        // An unresolvable name stays unresolved here and fails (and is retried) at connect time.
        this.address = new InetSocketAddress(config.host(), config.port());
        this.label = config.address();
    }

    public BackendConfig config() {
        return config;
    }

    public InetSocketAddress address() {
        return address;
    }

    public int weight() {
        return config.weight();
    }

    /** {@code host:port}, as written in the access log. */
    public String label() {
        return label;
    }

    /** A reload removed this backend (or its pool): requests under way finish, its idle connections close. */
    public void retire() {
        retired = true;
    }

    public boolean retired() {
        return retired;
    }

    /** How its connections speak TLS; null for a cleartext backend. */
    public BackendTls.Peer tls() {
        return tls;
    }

    /**
     * What a reload matches backends by: the address and the TLS settings. A backend whose {@code tls}, {@code sni},
     * {@code verify} or {@code ca} changed is another backend, whose pooled connections were made another way.
     */
    static Identity identity(BackendConfig config) {
        return new Identity(config.address(), config.tls());
    }

    record Identity(String address, BackendConfig.Tls tls) {
    }

    /**
     * A reload kept this backend: new weight and health settings, same counters and health; its TLS context is the
     * new pool's (the same trust, built again: a CA file rewritten in place counts from now on).
     */
    void update(BackendConfig newConfig, HealthCheckConfig newHealth, BackendTls.Peer newTls) {
        if (!identity(newConfig).equals(identity(config))) {
            throw new IllegalArgumentException(newConfig + " is not " + config);
        }
        this.config = newConfig;
        this.health = newHealth;
        this.tls = newTls;
    }

    /** Whether the balancer may pick this backend now: not actively DOWN and not cooling down. */
    public boolean isAvailable() {
        if (activelyDown.get()) {
            return false;
        }
        long until = cooldownUntil.get();
        if (until == 0) {
            return true;
        }
        if (now() - until < 0) {
            return false;
        }
        if (cooldownUntil.compareAndSet(until, 0)) {
            LOG.info("backend {} cooldown over; back in rotation on probation{}", label, cameBack());
        }
        return true;
    }

    /** {@code down} (failed active checks), {@code cooldown} (failed requests), else {@code up}. */
    public String health() {
        if (activelyDown.get()) {
            return "down";
        }
        return inCooldown() ? "cooldown" : "up";
    }

    public boolean isActivelyDown() {
        return activelyDown.get();
    }

    public boolean inCooldown() {
        long until = cooldownUntil.get();
        return until != 0 && now() - until < 0;
    }

    /** Milliseconds left of the passive cooldown, 0 when none. */
    public long cooldownRemainingMillis() {
        long until = cooldownUntil.get();
        long left = until == 0 ? 0 : until - now();
        return left <= 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(left);
    }

    public void onRequestStart() {
        requests.increment();
        inFlight.incrementAndGet();
    }

    public void onRequestEnd() {
        inFlight.decrementAndGet();
    }

    /**
     * Set by the {@link BackendGroup} it belongs to: whether it is the pool's only backend. Becoming the only one
     * (a reload removed the others) ends a cooldown, since a lone backend is never out for its requests' failures.
     */
    void sole(boolean alone) {
        sole = alone;
        long until = cooldownUntil.get();
        if (alone && until != 0 && cooldownUntil.compareAndSet(until, 0)) {
            consecutiveFailures.set(0);
            LOG.info("backend {} back in rotation: the only backend of its pool now", label);
        }
    }

    /** A request reached the backend and got a response: the failure streak is over. */
    public void recordSuccess() {
        served = true;
        if (consecutiveFailures.get() != 0) {
            int streak = consecutiveFailures.getAndSet(0);
            if (sole && streak >= health.passiveFailures()) {
                LOG.info("backend {} answering again after {} consecutive failures", label, streak);
            }
        }
    }

    /**
     * A request sent to it while it was out of rotation (the pool in {@link Panic}) got its response: it works, so a
     * passive cooldown ends now instead of keeping the pool in panic. A request sent before the cooldown began
     * proves less (the failures came after it) and does not count; an active DOWN ends only by passing checks.
     */
    public void answeredInPanic() {
        long until = cooldownUntil.get();
        if (until != 0 && now() - until < 0 && cooldownUntil.compareAndSet(until, 0)) {
            consecutiveFailures.set(0);
            if (!activelyDown.get()) {
                LOG.info("backend {} answered a request during its cooldown; back in rotation{}", label,
                        cameBack());
            }
        }
    }

    /** Connection refused or reset, or a timeout, cause unknown. */
    public void recordFailure() {
        recordFailure(null);
    }

    /**
     * Connection refused or reset, or a timeout. The {@code passiveFailures}-th in a row starts
     * the cooldown; so does the first one after a cooldown, since a success alone clears the streak.
     * Never for the only backend of its pool. The ewma estimate takes a failure's penalty.
     */
    public void recordFailure(Throwable cause) {
        failures.increment();
        ewma.penalize(0, now());
        int streak = consecutiveFailures.incrementAndGet();
        HealthCheckConfig h = health;
        if (streak < h.passiveFailures()) {
            return;
        }
        if (sole) {
            if (streak == h.passiveFailures()) {
                LOG.warn("backend {} failing ({} consecutive failures: {}); the only backend of its pool, so it stays"
                        + " in rotation", label, streak, Failures.describe(cause));
            }
            return;
        }
        long now = now();
        long until = cooldownUntil.get();
        if (until != 0 && now - until < 0) {
            return; // already out: requests sent before the cooldown are still failing
        }
        long newUntil = Math.max(1, now + h.passiveCooldown().toNanos());
        if (cooldownUntil.compareAndSet(until, newUntil)) {
            checksPassedInCooldown.set(0);
            LOG.warn("backend {} DOWN ({} consecutive failures: {}); retry in {}", label, streak,
                    Failures.describe(cause), Failures.human(h.passiveCooldown()));
        }
    }

    /** Called by the health checker after {@code fall} failed checks; logs when it changes anything. */
    void markActivelyDown(int failedChecks, String reason) {
        if (activelyDown.compareAndSet(false, true)) {
            LOG.warn("backend {} DOWN (health check failed {} time{} in a row: {})", label, failedChecks,
                    failedChecks == 1 ? "" : "s", reason);
        }
    }

    /**
     * Called by the health checker after every good check. A backend that failed real requests
     * comes back before its cooldown ends once {@code rise} checks in a row have passed since it
     * went out (HAProxy's way: requests take a server out, checks bring it back).
     */
    void activeCheckPassed() {
        if (!activelyDown.get()) {
            served = true; // passing while in rotation: it has served, a later return is a comeback
        }
        if (inCooldown() && checksPassedInCooldown.incrementAndGet() >= health.rise()) {
            long until = cooldownUntil.get();
            if (until != 0 && cooldownUntil.compareAndSet(until, 0)) {
                consecutiveFailures.set(0);
                if (activelyDown.get()) {
                    // also failed its checks: the UP line and the ramp come once, when markActivelyUp clears that
                    LOG.debug("backend {} cooldown ended by passing checks; still DOWN by its checks", label);
                } else {
                    LOG.info("backend {} UP (health check passed {} times since its requests failed){}", label,
                            health.rise(), cameBack());
                }
            }
        }
    }

    /** Called by the health checker after {@code rise} good checks; logs when it changes anything. */
    void markActivelyUp(int passedChecks) {
        if (activelyDown.compareAndSet(true, false)) {
            endExpiredCooldown();
            if (inCooldown()) {
                LOG.info("backend {} passing its health checks again ({} in a row); out of rotation until its"
                        + " cooldown ends", label, passedChecks);
            } else {
                LOG.info("backend {} UP (health check passed {} time{} in a row){}", label, passedChecks,
                        passedChecks == 1 ? "" : "s", cameBack());
            }
        }
    }

    /**
     * A cooldown that ran out while the backend was DOWN by its checks ends here, with no line of its own: the
     * one coming back is the UP that follows (else {@link #isAvailable} would log it, and begin a second ramp).
     */
    private void endExpiredCooldown() {
        long until = cooldownUntil.get();
        if (until != 0 && now() - until >= 0) {
            cooldownUntil.compareAndSet(until, 0);
        }
    }

    /** Active checks were switched off: nothing can bring a DOWN backend back, so it is UP now. */
    void clearActiveVerdict() {
        if (activelyDown.compareAndSet(true, false)) {
            endExpiredCooldown();
            if (!inCooldown()) {
                LOG.info("backend {} UP (active health checks switched off){}", label, cameBack());
            }
        }
    }

    /** A response below 500 whose head came {@code nanos} after the request was dispatched. */
    public void recordLatency(long nanos) {
        recordResponse(200, nanos);
    }

    /**
     * A response head with {@code status} came {@code nanos} after the request was dispatched (to the final head,
     * not the last byte): the latency quantiles take it, and the ewma estimate as a latency, or for a 5xx as a
     * failure's penalty ({@link PeakEwma}: a backend answering 503 in 1 ms must not look fast).
     */
    public void recordResponse(int status, long nanos) {
        latency.record(nanos);
        if (status >= 500) {
            ewma.penalize(nanos, now());
        } else {
            ewma.observe(nanos, now());
        }
    }

    /** The ewma balancer's latency estimate in nanoseconds now ({@link PeakEwma}); 0 before any response. */
    public double latencyEstimateNanos() {
        return ewma.read(now());
    }

    /**
     * The {@link SlowStart} factor now: 0.1..1 while the backend ramps up after coming back, else 1. The balancers
     * scale its share by it.
     */
    public double rampFactor() {
        return slowStart.factor(now());
    }

    /** The pool's {@code slow-start}, set by its {@link BackendGroup}; zero (the default here) is off. */
    void slowStart(Duration duration) {
        slowStart.duration(duration);
    }

    /** Added to its pool by a reload: it ramps up like a backend that came back. */
    void added() {
        String ramp = cameBack();
        if (!ramp.isEmpty()) {
            LOG.info("backend {} added{}", label, ramp);
        }
    }

    /**
     * Back in rotation after being out (or new): the slow start begins, but for the only backend of its pool,
     * which has no one to leave the rest of its share to.
     *
     * @return what the log line saying so adds: {@code ; slow start over 30 s}, or nothing when it is off
     */
    private String cameBack() {
        if (rampOnlyAfterServing && !served) {
            served = true; // first seen up now: it joins at its full share
            return "";
        }
        return !sole && slowStart.begin(now()) ? "; slow start over " + Failures.human(slowStart.duration()) : "";
    }

    /**
     * A backend that was out before it ever served (not listening yet when this process started) gets no slow
     * start when it comes: what a fleet's peers need, all starting together, where a ramp would send a share of
     * the late node's keys to others for 30 s, each fetched twice. Off for a pool's backends (a ramp protects
     * a cold backend's JIT and costs nothing more there).
     */
    public void rampOnlyAfterServing() {
        this.rampOnlyAfterServing = true;
    }

    /** The {@code q}-quantile (0..1) of {@link #recordLatency} samples in milliseconds, 0 when none. */
    public double latencyPercentile(double q) {
        return latency.percentileMillis(q);
    }

    public LatencyHistogram latency() {
        return latency;
    }

    public long requests() {
        return requests.sum();
    }

    public long failures() {
        return failures.sum();
    }

    public int inFlight() {
        return inFlight.get();
    }

    public int consecutiveFailures() {
        return consecutiveFailures.get();
    }

    private long now() {
        return nanoTime.getAsLong() - origin;
    }

    @Override
    public String toString() {
        return label;
    }
}
