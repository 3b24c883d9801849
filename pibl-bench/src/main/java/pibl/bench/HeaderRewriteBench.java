package pibl.bench;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import pibl.http.HopByHop;
import pibl.http.ProxyHeaders;

import java.util.concurrent.TimeUnit;

/**
 * The per-hop header rules of {@link ProxyHeaders} on a realistic browser request and backend response. The rules
 * work in place, so every invocation rewrites a fresh copy; {@code copyRequest}/{@code copyResponse} measure the
 * copy alone, to subtract.
 *
 * <pre>
 *   request  (12 fields)  Connection: keep-alive, X-Forwarded-For: 198.51.100.23, ...
 *     HopByHop.strip + addForwarded -&gt; Connection gone; X-Forwarded-For: 198.51.100.23, 203.0.113.7;
 *                                     X-Forwarded-Proto, X-Forwarded-Host, Via: 1.1 pibl added
 *   response (11 fields)  Connection: keep-alive, Keep-Alive: timeout=60, ...
 *     HopByHop.strip + appendVia    -&gt; both gone; Via: 1.1 pibl added
 * </pre>
 */
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HeaderRewriteBench {
    private static final String CLIENT_IP = "203.0.113.7";

    private HttpHeaders request;
    private HttpHeaders response;

    @Setup
    public void setup() {
        request = new DefaultHttpHeaders()
                .add("Host", "shop.example")
                .add("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
                .add("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
                .add("Accept-Language", "en-US,en;q=0.5")
                .add("Accept-Encoding", "gzip, deflate, br")
                .add("Connection", "keep-alive")
                .add("Referer", "https://shop.example/products?page=2")
                .add("Cookie", "session=8f14e45fceea167a5a36dedd4bea2543; theme=dark")
                .add("Upgrade-Insecure-Requests", "1")
                .add("X-Forwarded-For", "198.51.100.23")
                .add("X-Request-Id", "7c9e6679-7425-40de-944b-e07fc1f90ae7")
                .add("Cache-Control", "max-age=0");
        response = new DefaultHttpHeaders()
                .add("Date", "Thu, 27 Nov 2025 11:39:00 GMT")
                .add("Server", "nginx/1.22.1")
                .add("Content-Type", "text/html; charset=utf-8")
                .add("Content-Length", "1024")
                .add("Last-Modified", "Wed, 26 Nov 2025 08:00:00 GMT")
                .add("Connection", "keep-alive")
                .add("Keep-Alive", "timeout=60")
                .add("ETag", "\"6926b480-400\"")
                .add("Cache-Control", "max-age=3600")
                .add("Vary", "Accept-Encoding")
                .add("X-Backend", "b1");
    }

    @Benchmark
    public HttpHeaders copyRequest() {
        return request.copy();
    }

    @Benchmark
    public HttpHeaders rewriteRequest() {
        HttpHeaders h = request.copy();
        HopByHop.strip(h);
        ProxyHeaders.addForwarded(h, CLIENT_IP, "http", HttpVersion.HTTP_1_1);
        return h;
    }

    @Benchmark
    public HttpHeaders copyResponse() {
        return response.copy();
    }

    @Benchmark
    public HttpHeaders rewriteResponse() {
        HttpHeaders h = response.copy();
        HopByHop.strip(h);
        ProxyHeaders.appendVia(h, HttpVersion.HTTP_1_1);
        return h;
    }
}
