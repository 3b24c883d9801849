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
 * The primary cache key of every cacheable request: built once per request, and hashed on a miss (the hash names
 * the entry file) but not on a hit (lookups compare {@link CacheKey#text()}).
 *
 * <pre>
 *   CacheKey.of("http", "shop.example:8080", "/products/42?color=red")  -&gt; "http://shop.example:8080/products/42?color=red"
 *   .hash()                                                           -&gt; SHA-256 hex, 64 chars
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

    /** A fresh key each time: the hash is memoised per key, so this measures SHA-256 and hex as well. */
    @Benchmark
    public String ofAndHash() {
        return CacheKey.of(scheme, host, target).hash();
    }
}
