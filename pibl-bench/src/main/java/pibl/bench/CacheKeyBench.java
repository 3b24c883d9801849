package pibl.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import pibl.cache.CacheKey;

import java.util.concurrent.TimeUnit;

/**
 * The primary cache key of every cacheable request, built once per request (its 96-bit digest, which the index and
 * the entry files are named by, is the cache package's own: {@code DigestTest} checks it, JFR measures its garbage).
 *
 * <pre>
 *   CacheKey.of("http", "shop.example:8080", "/products/42?color=red")  -&gt; "http://shop.example:8080/products/42?color=red"
 * </pre>
 */
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CacheKeyBench {
    // Not final, so the JIT cannot fold the key into a constant.
    private String scheme = "http";
    private String host = "shop.example:8080";
    private String target = "/products/42?color=red";

    @Benchmark
    public CacheKey of() {
        return CacheKey.of(scheme, host, target);
    }
}
