package pibl.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import pibl.cache.CacheStatus;
import pibl.cache.HttpCache;
import pibl.lb.Backend;
import pibl.runtime.Json;
import pibl.runtime.LatencyHistogram;
import pibl.runtime.ProxyStats;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The last 15 minutes, second by second, kept in the process for the status page's charts and
 * {@code GET /status/history}: requests and 5xx per second, the p50 and p99 of the requests that ended in that
 * second, the hit ratio of that second's lookups, and each backend's requests and failures.
 *
 * <pre>
 * {"seconds":[1764655200,...],"requests":[120.0,...],"errors":[0.0,...],"p50Ms":[1.9,...],"p99Ms":[7.4,...],
 *  "hitRatio":[0.81,...],"backends":{"10.0.0.1:9001":{"requests":[40.0,...],"errors":[0.0,...]}}}
 * </pre>
 *
 * Each {@link #sample} takes the differences of the counters the proxy keeps anyway since the previous one (the
 * admin listener calls it once a second); nothing runs per request. A second without requests has p50/p99 0 and
 * a hit ratio of -1 (no lookups). A backend added by a reload starts with zeros. 900 samples, fixed arrays.
 */
final class History {
    static final int SECONDS = 900;

    private final ProxyView view;
    private final long[] at = new long[SECONDS];
    private final double[] requests = new double[SECONDS];
    private final double[] errors = new double[SECONDS];
    private final double[] p50 = new double[SECONDS];
    private final double[] p99 = new double[SECONDS];
    private final double[] hitRatio = new double[SECONDS];
    private final Map<String, double[][]> backends = new LinkedHashMap<>();
    private int next;
    private int size;
    private boolean primed;
    private long lastResponses;
    private long lastErrors;
    private LatencyHistogram.Snapshot lastDurations = LatencyHistogram.Snapshot.empty();
    private long lastHits;
    private long lastLookups;
    private final Map<String, long[]> lastBackend = new LinkedHashMap<>();

    History(ProxyView view) {
        this.view = view;
    }

    /** One second's figures (the first call only takes the counters' starting point). */
    synchronized void sample(long nowMillis) {
        ProxyStats stats = view.stats();
        long responses = stats.totalResponses();
        long fivexx = stats.responses(5);
        LatencyHistogram.Snapshot durations = LatencyHistogram.Snapshot.empty();
        for (int cls = 0; cls <= 5; cls++) {
            for (int o = 0; o < ProxyStats.CACHE_OUTCOMES; o++) {
                durations = durations.plus(stats.durations(cls, o).snapshot());
            }
        }
        // By address: a backend listed in two pools is one machine, its series the sum of both pools' counters.
        Map<String, long[]> perAddress = new LinkedHashMap<>();
        for (Backend b : view.backends()) {
            long[] sum = perAddress.computeIfAbsent(b.label(), k -> new long[2]);
            sum[0] += b.requests();
            sum[1] += b.failures();
        }
        HttpCache cache = view.cache();
        long hits = cache == null ? 0 : cache.stats().count(CacheStatus.HIT);
        long lookups = 0;
        if (cache != null) {
            for (CacheStatus s : CacheStatus.values()) {
                if (s != CacheStatus.BYPASS) {
                    lookups += cache.stats().count(s);
                }
            }
        }
        if (primed) {
            int i = next;
            at[i] = nowMillis / 1000;
            requests[i] = responses - lastResponses;
            errors[i] = fivexx - lastErrors;
            LatencyHistogram.Snapshot second = durations.minus(lastDurations);
            p50[i] = second.percentileMillis(0.5);
            p99[i] = second.percentileMillis(0.99);
            hitRatio[i] = lookups > lastLookups ? (double) (hits - lastHits) / (lookups - lastLookups) : -1;
            perAddress.forEach((address, now) -> {
                double[][] series = backends.computeIfAbsent(address, k -> new double[2][SECONDS]);
                long[] last = lastBackend.getOrDefault(address, now);
                series[0][i] = now[0] - last[0];
                series[1][i] = now[1] - last[1];
            });
            next = (next + 1) % SECONDS;
            size = Math.min(SECONDS, size + 1);
        }
        primed = true;
        lastResponses = responses;
        lastErrors = fivexx;
        lastDurations = durations;
        lastHits = hits;
        lastLookups = lookups;
        lastBackend.putAll(perAddress);
    }

    /** The figures, oldest first. */
    synchronized Series series() {
        Map<String, double[][]> perBackend = new LinkedHashMap<>();
        backends.forEach((k, v) -> perBackend.put(k, new double[][] {ordered(v[0]), ordered(v[1])}));
        long[] seconds = new long[size];
        for (int k = 0; k < size; k++) {
            seconds[k] = at[(next - size + k + SECONDS) % SECONDS];
        }
        return new Series(seconds, ordered(requests), ordered(errors), ordered(p50), ordered(p99),
                ordered(hitRatio), perBackend);
    }

    private double[] ordered(double[] ring) {
        double[] out = new double[size];
        for (int k = 0; k < size; k++) {
            out[k] = ring[(next - size + k + SECONDS) % SECONDS];
        }
        return out;
    }

    /** One reading of the history, oldest second first. */
    record Series(long[] seconds, double[] requests, double[] errors, double[] p50Ms, double[] p99Ms,
                  double[] hitRatio, Map<String, double[][]> backends) {

        String json() {
            return Json.toString(g -> {
                g.writeStartObject();
                g.writeArrayFieldStart("seconds");
                for (long s : seconds) {
                    g.writeNumber(s);
                }
                g.writeEndArray();
                array(g, "requests", requests);
                array(g, "errors", errors);
                array(g, "p50Ms", p50Ms);
                array(g, "p99Ms", p99Ms);
                array(g, "hitRatio", hitRatio);
                g.writeObjectFieldStart("backends");
                for (Map.Entry<String, double[][]> e : backends.entrySet()) {
                    g.writeObjectFieldStart(e.getKey());
                    array(g, "requests", e.getValue()[0]);
                    array(g, "errors", e.getValue()[1]);
                    g.writeEndObject();
                }
                g.writeEndObject();
                g.writeEndObject();
            });
        }

        private static void array(JsonGenerator g, String name, double[] values) throws IOException {
            g.writeArrayFieldStart(name);
            for (double v : values) {
                g.writeNumber(Math.round(v * 1000) / 1000.0);
            }
            g.writeEndArray();
        }
    }
}
