package pibl.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import pibl.cache.CacheStatus;
import pibl.runtime.Json;

import java.io.IOException;
import java.time.Instant;
import java.util.Map;

/**
 * {@code GET /status}: the snapshot as one JSON object. Latencies are milliseconds rounded to the microsecond,
 * {@code null} before a backend has answered anything. {@code slowStart}: the share a backend that came back gets
 * while it ramps up (0.1 at first, 1 after {@code slow-start}), {@code null} when it is not ramping.
 *
 * <pre>
 * {"version":"1.0.0","startedAt":"2025-01-01T10:00:00Z","uptimeSeconds":42,"transport":"epoll","port":8080,
 *  "backends":[{"address":"10.0.0.1:9001","pool":"default","weight":1,"tls":false,"health":"up","inFlight":0,
 *               "requests":5,"errors":1,"latencyMs":{"p50":1.2,"p90":3.4,"p99":9.8},"slowStart":null}],
 *  "upstream":{"panic":false,"panicRequests":0},
 *  "pools":[{"name":"default","balance":"round robin","slowStartSeconds":30,"backends":["10.0.0.1:9001"],"health":{"up":1,"down":0,"cooldown":0},
 *            "inFlight":0,"requests":5,"errors":1,"latencyMs":{"p50":1.2,"p90":3.4,"p99":9.8},
 *            "panic":false,"panicRequests":0}],
 *  "routes":[{"route":"/","pool":"default","matches":5,"denied":0,"rateLimited":0}],"noRoute":0,
 *  "cache":{"enabled":true,"entries":3,"bytes":12288,"hitRatio":0.75,
 *           "lookups":{"HIT":3,"MISS":1,"STALE":0,"REVALIDATED":0,"BYPASS":2},
 *           "index":{"loading":false,"filesScanned":3,"slots":3,"maxSlots":1074816,
 *                   "stored":3,"evicted":0}},
 *  "connections":{"open":1,"accepted":9,"rejected":0},
 *  "tunnels":{"open":1,"total":3},
 *  "responses":{"1xx":0,"2xx":8,"3xx":0,"4xx":1,"5xx":0},
 *  "refused":{"total":1,"400":1,"405":0,"408":0,"413":0,"414":0,"431":0,"505":0},
 *  "tls":{"handshakes":3,"handshakeFailures":1},
 *  "http2":{"connections":2,"streams":40,"goAway":{"graceful":1,"rapidReset":1,"controlFlood":0,
 *           "headerFlood":0,"protocolError":0},"idleClosed":0,"headerTimeouts":0}}
 * </pre>
 */
final class StatusJson {
    private StatusJson() {
    }

    static String render(StatusSnapshot s) {
        return Json.toString(g -> write(g, s));
    }

    private static void write(JsonGenerator g, StatusSnapshot s) throws IOException {
        g.writeStartObject();
        g.writeStringField("version", s.version());
        g.writeStringField("startedAt", Instant.ofEpochMilli(s.startedAtMillis()).toString());
        g.writeNumberField("uptimeSeconds", s.uptimeSeconds());
        g.writeStringField("transport", s.transport());
        g.writeNumberField("port", s.port());
        g.writeArrayFieldStart("backends");
        for (StatusSnapshot.BackendRow b : s.backends()) {
            g.writeStartObject();
            g.writeStringField("address", b.address());
            g.writeStringField("pool", b.pool());
            g.writeNumberField("weight", b.weight());
            g.writeBooleanField("tls", b.tls());
            g.writeStringField("health", b.health());
            g.writeNumberField("inFlight", b.inFlight());
            g.writeNumberField("requests", b.requests());
            g.writeNumberField("errors", b.errors());
            latency(g, b.p50(), b.p90(), b.p99());
            g.writeFieldName("slowStart");
            Json.number(g, Double.isFinite(b.slowStart()) ? Math.round(b.slowStart() * 1000) / 1000.0 : b.slowStart());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeObjectFieldStart("upstream");
        g.writeBooleanField("panic", s.upstream().panic());
        g.writeNumberField("panicRequests", s.upstream().panicRequests());
        g.writeEndObject();
        g.writeArrayFieldStart("pools");
        for (StatusSnapshot.PoolRow p : s.pools()) {
            g.writeStartObject();
            g.writeStringField("name", p.name());
            g.writeStringField("balance", p.balance());
            g.writeNumberField("slowStartSeconds", p.slowStartSeconds());
            g.writeArrayFieldStart("backends");
            for (String address : p.backends()) {
                g.writeString(address);
            }
            g.writeEndArray();
            g.writeObjectFieldStart("health");
            for (Map.Entry<String, Integer> e : p.health().entrySet()) {
                g.writeNumberField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
            g.writeNumberField("inFlight", p.inFlight());
            g.writeNumberField("requests", p.requests());
            g.writeNumberField("errors", p.errors());
            latency(g, p.p50(), p.p90(), p.p99());
            g.writeBooleanField("panic", p.panic());
            g.writeNumberField("panicRequests", p.panicRequests());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("routes");
        for (StatusSnapshot.RouteRow r : s.routes()) {
            g.writeStartObject();
            g.writeStringField("route", r.route());
            g.writeStringField("pool", r.pool());
            g.writeNumberField("matches", r.matches());
            g.writeNumberField("denied", r.denied());
            g.writeNumberField("rateLimited", r.rateLimited());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeNumberField("noRoute", s.noRoute());
        StatusSnapshot.CacheRow c = s.cache();
        g.writeObjectFieldStart("cache");
        g.writeBooleanField("enabled", c.enabled());
        g.writeNumberField("entries", c.entries());
        g.writeNumberField("bytes", c.bytes());
        g.writeFieldName("hitRatio");
        Json.number(g, Math.round(c.hitRatio() * 10_000) / 10_000.0);
        g.writeObjectFieldStart("lookups");
        for (Map.Entry<CacheStatus, Long> e : c.lookups().entrySet()) {
            g.writeNumberField(e.getKey().name(), e.getValue());
        }
        g.writeEndObject();
        g.writeObjectFieldStart("index");
        g.writeBooleanField("loading", c.index().loading());
        g.writeNumberField("filesScanned", c.index().scanned());
        g.writeNumberField("slots", c.index().slots());
        g.writeNumberField("maxSlots", c.index().maxSlots());
        g.writeNumberField("stored", c.index().stored());
        g.writeNumberField("evicted", c.index().evicted());
        g.writeEndObject();
        g.writeEndObject();
        g.writeObjectFieldStart("connections");
        g.writeNumberField("open", s.connections().open());
        g.writeNumberField("accepted", s.connections().accepted());
        g.writeNumberField("rejected", s.connections().rejected());
        g.writeEndObject();
        g.writeObjectFieldStart("tunnels");
        g.writeNumberField("open", s.tunnels().open());
        g.writeNumberField("total", s.tunnels().total());
        g.writeEndObject();
        counts(g, "responses", s.responses());
        counts(g, "refused", s.refused());
        g.writeObjectFieldStart("tls");
        g.writeNumberField("handshakes", s.tls().handshakes());
        g.writeNumberField("handshakeFailures", s.tls().handshakeFailures());
        g.writeEndObject();
        StatusSnapshot.Http2Row h2 = s.http2();
        g.writeObjectFieldStart("http2");
        g.writeNumberField("connections", h2.connections());
        g.writeNumberField("streams", h2.streams());
        g.writeNumberField("openStreams", h2.openStreams());
        g.writeNumberField("refusedStreams", h2.refusedStreams());
        counts(g, "goAway", h2.goAway());
        g.writeNumberField("idleClosed", h2.idleClosed());
        g.writeNumberField("headerTimeouts", h2.headerTimeouts());
        g.writeEndObject();
        g.writeArrayFieldStart("peers");
        for (StatusSnapshot.PeerRow p : s.peers()) {
            g.writeStartObject();
            g.writeStringField("address", p.address());
            g.writeBooleanField("self", p.self());
            g.writeStringField("health", p.health());
            g.writeNumberField("inFlight", p.inFlight());
            g.writeNumberField("sent", p.sent());
            g.writeNumberField("received", p.received());
            g.writeNumberField("keyShare", round(p.keyShare()));
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void latency(JsonGenerator g, double p50, double p90, double p99) throws IOException {
        g.writeObjectFieldStart("latencyMs");
        g.writeFieldName("p50");
        Json.number(g, round(p50));
        g.writeFieldName("p90");
        Json.number(g, round(p90));
        g.writeFieldName("p99");
        Json.number(g, round(p99));
        g.writeEndObject();
    }

    private static void counts(JsonGenerator g, String name, Map<String, Long> counts) throws IOException {
        g.writeObjectFieldStart(name);
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            g.writeNumberField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
    }

    private static double round(double millis) {
        return Double.isFinite(millis) ? Math.round(millis * 1000) / 1000.0 : millis;
    }
}
