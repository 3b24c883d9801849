package pibl.admin;

import pibl.cache.CacheStatus;

import java.time.Instant;
import java.util.Map;

/**
 * {@code GET /status}: the snapshot as one JSON object. Latencies are milliseconds rounded to the microsecond,
 * {@code null} before a backend has answered anything.
 *
 * <pre>
 * {"version":"1.0.0","startedAt":"2025-01-01T10:00:00Z","uptimeSeconds":42,"transport":"epoll","port":8080,
 *  "backends":[{"address":"10.0.0.1:9001","weight":1,"health":"up","inFlight":0,"requests":5,"errors":1,
 *               "latencyMs":{"p50":1.2,"p90":3.4,"p99":9.8}}],
 *  "cache":{"enabled":true,"entries":3,"bytes":5120,"hitRatio":0.75,
 *           "lookups":{"HIT":3,"MISS":1,"STALE":0,"REVALIDATED":0,"BYPASS":2}},
 *  "connections":{"open":1,"accepted":9,"rejected":0},
 *  "responses":{"1xx":0,"2xx":8,"3xx":0,"4xx":1,"5xx":0}}
 * </pre>
 */
final class StatusJson {
    private StatusJson() {
    }

    static String render(StatusSnapshot s) {
        Json j = new Json().beginObject()
                .name("version").value(s.version())
                .name("startedAt").value(Instant.ofEpochMilli(s.startedAtMillis()).toString())
                .name("uptimeSeconds").value(s.uptimeSeconds())
                .name("transport").value(s.transport())
                .name("port").value(s.port());
        j.name("backends").beginArray();
        for (StatusSnapshot.BackendRow b : s.backends()) {
            j.beginObject()
                    .name("address").value(b.address())
                    .name("weight").value(b.weight())
                    .name("health").value(b.health())
                    .name("inFlight").value(b.inFlight())
                    .name("requests").value(b.requests())
                    .name("errors").value(b.errors())
                    .name("latencyMs").beginObject()
                    .name("p50").value(round(b.p50()))
                    .name("p90").value(round(b.p90()))
                    .name("p99").value(round(b.p99()))
                    .endObject()
                    .endObject();
        }
        j.endArray();
        StatusSnapshot.CacheRow c = s.cache();
        j.name("cache").beginObject()
                .name("enabled").value(c.enabled())
                .name("entries").value(c.entries())
                .name("bytes").value(c.bytes())
                .name("hitRatio").value(Math.round(c.hitRatio() * 10_000) / 10_000.0)
                .name("lookups").beginObject();
        for (Map.Entry<CacheStatus, Long> e : c.lookups().entrySet()) {
            j.name(e.getKey().name()).value(e.getValue());
        }
        j.endObject().endObject();
        j.name("connections").beginObject()
                .name("open").value(s.connections().open())
                .name("accepted").value(s.connections().accepted())
                .name("rejected").value(s.connections().rejected())
                .endObject();
        j.name("responses").beginObject();
        for (Map.Entry<String, Long> e : s.responses().entrySet()) {
            j.name(e.getKey()).value(e.getValue());
        }
        return j.endObject().endObject().toString();
    }

    private static double round(double millis) {
        return Double.isFinite(millis) ? Math.round(millis * 1000) / 1000.0 : millis;
    }
}
