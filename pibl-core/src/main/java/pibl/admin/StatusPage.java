package pibl.admin;

import pibl.cache.CacheStatus;

import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/**
 * {@code GET /}: the snapshot as a small HTML page for a person, rendered on the server and reloaded by the
 * browser every two seconds ({@code <meta http-equiv="refresh">}, no script, no external assets). Every value
 * taken from outside (backend addresses, the version) is HTML-escaped.
 */
final class StatusPage {
    static final int REFRESH_SECONDS = 2;

    private static final String CSS = """
            :root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--muted:#667085;--line:#e4e7ec}
            *{box-sizing:border-box}
            body{margin:0;padding:24px;background:var(--bg);color:var(--ink);
              font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
            header{display:flex;align-items:baseline;gap:16px;flex-wrap:wrap;margin-bottom:16px}
            h1{font-size:20px;margin:0}
            h2{font-size:13px;margin:0 0 8px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
            .muted{color:var(--muted)}
            .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:16px;margin-top:16px}
            .card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px}
            table{border-collapse:collapse;width:100%}
            th,td{padding:6px 10px;text-align:right;border-bottom:1px solid var(--line);white-space:nowrap}
            th:first-child,td:first-child{text-align:left}
            th{font-weight:600;color:var(--muted);font-size:12px}
            tr:last-child td{border-bottom:0}
            dl{display:grid;grid-template-columns:auto auto;gap:4px 16px;margin:0}
            dt{color:var(--muted)} dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
            td{font-variant-numeric:tabular-nums}
            .badge{display:inline-block;min-width:64px;padding:2px 8px;border-radius:999px;color:#fff;
              font-size:12px;font-weight:600;text-align:center}
            .up{background:#12b76a}.down{background:#f04438}.cooldown{background:#f79009}.unknown{background:#98a2b3}
            a{color:#1570ef}
            .wide{margin-top:16px} figure{margin:0} figcaption{font-size:12px;margin-bottom:4px}
            .chart{width:100%;height:60px;background:var(--bg);border-radius:4px}
            """;

    private StatusPage() {
    }

    static String render(StatusSnapshot s) {
        return render(s, null);
    }

    /** With the charts of the last minutes when {@code history} is not null. */
    static String render(StatusSnapshot s, History.Series history) {
        StringBuilder h = new StringBuilder(4096);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"refresh\" content=\"").append(REFRESH_SECONDS).append("\">")
                .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
                .append("<title>PIBL status</title><style>").append(CSS).append("</style></head><body>\n");
        h.append("<header><h1>PIBL</h1><span class=\"muted\">version ").append(esc(s.version()))
                .append(" &middot; ").append(esc(s.transport())).append(" &middot; port ").append(s.port())
                .append(" &middot; up ").append(duration(s.uptimeSeconds()))
                .append(" (since ").append(esc(Instant.ofEpochMilli(s.startedAtMillis()).toString())).append(")")
                .append("</span><span class=\"muted\"><a href=\"/status\">/status</a> &middot; ")
                .append("<a href=\"/metrics\">/metrics</a></span></header>\n");

        h.append("<section class=\"card\"><h2>Backends</h2><table><thead><tr><th>Address</th><th>Pool</th>")
                .append("<th>Health</th><th>Weight</th><th>In flight</th><th>Requests</th><th>Errors</th>")
                .append("<th>p50 ms</th><th>p90 ms</th><th>p99 ms</th></tr></thead><tbody>\n");
        for (StatusSnapshot.BackendRow b : s.backends()) {
            String health = esc(b.health());
            String css = switch (b.health()) {
                case "up", "down", "cooldown" -> b.health();
                default -> "unknown";
            };
            h.append("<tr><td>").append(esc(b.address())).append("</td><td>").append(esc(b.pool()))
                    .append("</td><td><span class=\"badge ").append(css)
                    .append("\">").append(health).append("</span>").append(slowStart(b.slowStart()))
                    .append("</td><td>").append(b.weight())
                    .append("</td><td>").append(b.inFlight()).append("</td><td>").append(b.requests())
                    .append("</td><td>").append(b.errors()).append("</td><td>").append(millis(b.p50()))
                    .append("</td><td>").append(millis(b.p90())).append("</td><td>").append(millis(b.p99()))
                    .append("</td></tr>\n");
        }
        h.append("</tbody></table>");
        if (s.upstream().panic()) {
            h.append("<p><span class=\"badge down\">panic</span> every backend is out of rotation;")
                    .append(" requests go to all of them in turn</p>");
        }
        h.append("<p class=\"muted\">Requests sent in panic since start: ").append(s.upstream().panicRequests())
                .append("</p></section>\n");
        pools(h, s);
        routes(h, s);
        peers(h, s);
        h.append("<div class=\"grid\">\n");

        StatusSnapshot.CacheRow c = s.cache();
        h.append("<section class=\"card\"><h2>Cache</h2><dl>");
        if (c.enabled()) {
            item(h, "Entries", Long.toString(c.entries()));
            item(h, "Size", bytes(c.bytes()));
            item(h, "Index", c.index().loading()
                    ? "loading (" + c.index().scanned() + " files so far)"
                    : c.index().slots() + " of " + c.index().maxSlots() + " slots");
            item(h, "Hit ratio", String.format(Locale.ROOT, "%.1f %%", c.hitRatio() * 100));
            for (Map.Entry<CacheStatus, Long> e : c.lookups().entrySet()) {
                item(h, e.getKey().name(), Long.toString(e.getValue()));
            }
        } else {
            item(h, "Cache", "disabled");
        }
        h.append("</dl></section>\n");

        h.append("<section class=\"card\"><h2>Connections</h2><dl>");
        item(h, "Open", Integer.toString(s.connections().open()));
        item(h, "Accepted", Long.toString(s.connections().accepted()));
        item(h, "Rejected", Long.toString(s.connections().rejected()));
        item(h, "TLS handshakes", Long.toString(s.tls().handshakes()));
        item(h, "TLS handshakes failed", Long.toString(s.tls().handshakeFailures()));
        item(h, "Tunnels open", Integer.toString(s.tunnels().open()));
        item(h, "Tunnels opened", Long.toString(s.tunnels().total()));
        h.append("</dl></section>\n");

        h.append("<section class=\"card\"><h2>Responses</h2><dl>");
        for (Map.Entry<String, Long> e : s.responses().entrySet()) {
            item(h, e.getKey(), Long.toString(e.getValue()));
        }
        h.append("</dl></section>\n");

        h.append("<section class=\"card\"><h2>Refused requests</h2><dl>");
        for (Map.Entry<String, Long> e : s.refused().entrySet()) {
            if (e.getKey().equals("total") || e.getValue() > 0) {
                item(h, e.getKey(), Long.toString(e.getValue()));
            }
        }
        h.append("</dl></section>\n</div>\n");
        if (history != null && history.seconds().length > 1) {
            Charts.section(h, history);
        }
        h.append("<p class=\"muted\">Refreshes every ").append(REFRESH_SECONDS).append(" s.</p></body></html>\n");
        return h.toString();
    }

    /** The fleet ({@code cluster:}), when on: each node's health, traffic each way, and share of the keys. */
    private static void peers(StringBuilder h, StatusSnapshot s) {
        if (s.peers().isEmpty()) {
            return;
        }
        h.append("<section class=\"card wide\"><h2>Fleet</h2><table><thead><tr><th>Node</th><th>Health</th>")
                .append("<th>In flight</th><th>Sent to</th><th>Received from</th><th>Keys owned</th></tr></thead>")
                .append("<tbody>\n");
        for (StatusSnapshot.PeerRow p : s.peers()) {
            h.append("<tr><td>").append(esc(p.address())).append(p.self() ? " (this node)" : "").append("</td><td>")
                    .append(esc(p.health())).append("</td><td>").append(p.inFlight()).append("</td><td>")
                    .append(p.sent()).append("</td><td>").append(p.received()).append("</td><td>")
                    .append(Math.round(p.keyShare() * 100)).append(" %</td></tr>\n");
        }
        h.append("</tbody></table></section>\n");
    }

    /** Each pool: its backends by health, what they carry together, its panic. */
    private static void pools(StringBuilder h, StatusSnapshot s) {
        h.append("<section class=\"card wide\"><h2>Pools</h2><table><thead><tr><th>Pool</th><th>Balance</th><th>Backends</th>")
                .append("<th>Up</th><th>Down</th><th>Cooldown</th><th>In flight</th><th>Requests</th><th>Errors</th>")
                .append("<th>p50 ms</th><th>p99 ms</th><th>Panic</th></tr></thead><tbody>\n");
        for (StatusSnapshot.PoolRow p : s.pools()) {
            h.append("<tr><td>").append(esc(p.name())).append("</td><td>").append(esc(p.balance()))
                    .append(p.slowStartSeconds() > 0 ? ", slow start " + p.slowStartSeconds() + " s" : "")
                    .append("</td><td>").append(p.backends().size())
                    .append("</td><td>").append(p.health().get("up")).append("</td><td>").append(p.health().get("down"))
                    .append("</td><td>").append(p.health().get("cooldown")).append("</td><td>").append(p.inFlight())
                    .append("</td><td>").append(p.requests()).append("</td><td>").append(p.errors())
                    .append("</td><td>").append(millis(p.p50())).append("</td><td>").append(millis(p.p99()))
                    .append("</td><td>").append(p.panic() ? "<span class=\"badge down\">panic</span>" : "no")
                    .append("</td></tr>\n");
        }
        h.append("</tbody></table></section>\n");
    }

    /** Each route, first match first: its pool, what it took and refused; then the requests none took. */
    private static void routes(StringBuilder h, StatusSnapshot s) {
        if (s.routes().isEmpty()) {
            return;
        }
        h.append("<section class=\"card wide\"><h2>Routes</h2><table><thead><tr><th>Route</th><th>Pool</th>")
                .append("<th>Matches</th><th>Denied</th><th>Rate-limited</th></tr></thead><tbody>\n");
        for (StatusSnapshot.RouteRow r : s.routes()) {
            h.append("<tr><td>").append(esc(r.route())).append("</td><td>").append(esc(r.pool()))
                    .append("</td><td>").append(r.matches()).append("</td><td>").append(r.denied())
                    .append("</td><td>").append(r.rateLimited()).append("</td></tr>\n");
        }
        h.append("</tbody></table><p class=\"muted\">No route (404): ").append(s.noRoute()).append("</p></section>\n");
    }

    private static void item(StringBuilder h, String term, String value) {
        h.append("<dt>").append(esc(term)).append("</dt><dd>").append(esc(value)).append("</dd>");
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    static String duration(long seconds) {
        long d = seconds / 86_400;
        long h = seconds / 3600 % 24;
        long m = seconds / 60 % 60;
        long sec = seconds % 60;
        if (d > 0) {
            return d + "d " + h + "h " + m + "m";
        }
        if (h > 0) {
            return h + "h " + m + "m " + sec + "s";
        }
        return m > 0 ? m + "m " + sec + "s" : sec + "s";
    }

    /** {@code  · slow start 40 %} after the health badge of a backend ramping up; nothing otherwise. */
    private static String slowStart(double share) {
        return Double.isFinite(share)
                ? String.format(Locale.ROOT, " <span class=\"muted\">slow start %.0f %%</span>", share * 100) : "";
    }

    private static String millis(double ms) {
        return Double.isFinite(ms) ? String.format(Locale.ROOT, "%.1f", ms) : "&ndash;";
    }

    private static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
