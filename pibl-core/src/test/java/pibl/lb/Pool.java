package pibl.lb;

import pibl.config.BackendConfig;
import pibl.config.HealthCheckConfig;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Backends a, b, c, … on 127.0.0.1:9001, … for the balancer tables: in-flight counts set by hand, health and slow
 * start driven through the backends' own methods, one clock moved by hand.
 */
final class Pool {
    final ManualNanoTime clock = new ManualNanoTime();
    final List<Backend> backends = new ArrayList<>();

    /** With the given weights; slow start off. */
    Pool(int... weights) {
        for (int i = 0; i < weights.length; i++) {
            backends.add(new Backend(new BackendConfig("127.0.0.1", 9001 + i, weights[i]),
                    HealthCheckConfig.defaults(), clock));
        }
    }

    static Pool ofEqual(int n) {
        int[] w = new int[n];
        java.util.Arrays.fill(w, 1);
        return new Pool(w);
    }

    Backend get(String letter) {
        return backends.get(letter.charAt(0) - 'a');
    }

    static String name(Backend b) {
        return b == null ? "-" : String.valueOf((char) ('a' + b.address().getPort() - 9001));
    }

    /** {@code n} more requests at {@code letter}. */
    Pool load(String letter, int n) {
        for (int i = 0; i < n; i++) {
            get(letter).onRequestStart();
        }
        return this;
    }

    /** Out of rotation by failed active checks. */
    Pool down(String... letters) {
        for (String l : letters) {
            get(l).markActivelyDown(3, "HTTP 500");
        }
        return this;
    }

    /**
     * {@code letter} was down and its checks bring it back now, with {@code slowStart}: its ramp begins at the
     * clock's present.
     */
    Pool cameBack(String letter, Duration slowStart) {
        Backend b = get(letter);
        b.slowStart(slowStart);
        b.markActivelyDown(3, "HTTP 500");
        b.markActivelyUp(2);
        return this;
    }

    List<Backend> tried(String... letters) {
        return java.util.Arrays.stream(letters).map(this::get).toList();
    }

    /** How many of {@code n} picks went to each backend ({@code -} for none), sorted by name. */
    static Map<String, Integer> count(int n, Supplier<Backend> pick) {
        Map<String, Integer> counts = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            counts.merge(name(pick.get()), 1, Integer::sum);
        }
        return counts;
    }

    /**
     * A closed loop of {@code outstanding} requests: each pick starts a request at its backend, and once that many
     * are open a random open one ends first (each request as likely as any other: backends of equal speed).
     *
     * @return the picks each backend got
     */
    static Map<String, Integer> closedLoop(LoadBalancer lb, int outstanding, int picks, java.util.SplittableRandom r) {
        List<Backend> open = new ArrayList<>();
        Map<String, Integer> counts = new TreeMap<>();
        for (int i = 0; i < picks; i++) {
            if (open.size() >= outstanding) {
                open.remove(r.nextInt(open.size())).onRequestEnd();
            }
            Backend b = lb.pick(List.of());
            b.onRequestStart();
            open.add(b);
            counts.merge(name(b), 1, Integer::sum);
        }
        open.forEach(Backend::onRequestEnd);
        return counts;
    }
}
