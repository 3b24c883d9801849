package pibl.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import pibl.config.BackendConfig;
import pibl.lb.Backend;
import pibl.lb.LoadBalancer;
import pibl.lb.LoadBalancers;
import pibl.lb.RoundRobinBalancer;
import pibl.lb.SmoothWeightedBalancer;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One pick per request, from every event loop: the lock-free {@link RoundRobinBalancer} (one shared atomic
 * counter) and the {@link SmoothWeightedBalancer} (one short lock), alone and with two threads contending (the
 * proxy's event loops on a 2-core machine).
 *
 * <pre>
 *   round robin  127.0.0.1:9001, :9002, :9003 (weight 1 each)  -&gt; 1 2 3 1 2 3 ...
 *   weighted     weights 5, 1, 1                                -&gt; 1 1 2 1 3 1 1 ...
 * </pre>
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BalancerBench {
    private static final List<Backend> NONE_TRIED = List.of();

    private LoadBalancer roundRobin;
    private LoadBalancer weighted;

    @Setup
    public void setup() {
        roundRobin = new RoundRobinBalancer(List.of(backend(9001, 1), backend(9002, 1), backend(9003, 1)));
        weighted = LoadBalancers.create(List.of(backend(9001, 5), backend(9002, 1), backend(9003, 1)));
        if (!(weighted instanceof SmoothWeightedBalancer)) {
            throw new IllegalStateException("unequal weights should give the weighted balancer, got " + weighted);
        }
    }

    private static Backend backend(int port, int weight) {
        return new Backend(new BackendConfig("127.0.0.1", port, weight));
    }

    @Benchmark
    @Threads(1)
    public Backend roundRobin() {
        return roundRobin.pick(NONE_TRIED);
    }

    @Benchmark
    @Threads(2)
    public Backend roundRobinContended() {
        return roundRobin.pick(NONE_TRIED);
    }

    @Benchmark
    @Threads(1)
    public Backend weighted() {
        return weighted.pick(NONE_TRIED);
    }

    @Benchmark
    @Threads(2)
    public Backend weightedContended() {
        return weighted.pick(NONE_TRIED);
    }
}
