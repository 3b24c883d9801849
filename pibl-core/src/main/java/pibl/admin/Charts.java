package pibl.admin;

import java.util.Locale;

/**
 * The status page's charts of the last 15 minutes ({@link History}), as inline SVG: one polyline per series, no
 * script and nothing fetched from anywhere, so the page works offline and behind any firewall.
 *
 * <pre>
 *   &lt;svg viewBox="0 0 300 60"&gt;&lt;polyline points="0,60 1.5,42.3 ..."/&gt;&lt;/svg&gt;   max 124 req/s
 * </pre>
 *
 * A value below 0 (a second without lookups has no hit ratio) is left out of its line.
 */
final class Charts {
    static final int WIDTH = 300;
    static final int HEIGHT = 60;

    private Charts() {
    }

    /** The history section of the page: requests, 5xx, p50/p99 and the hit ratio. */
    static void section(StringBuilder h, History.Series s) {
        h.append("<section class=\"card wide\"><h2>Last ").append(s.seconds().length / 60).append(" min ")
                .append(s.seconds().length % 60).append(" s</h2><div class=\"grid\">\n");
        chart(h, "Requests/s", "req/s", s.requests());
        chart(h, "5xx/s", "5xx/s", s.errors());
        chart(h, "p50 ms", "ms", s.p50Ms());
        chart(h, "p99 ms", "ms", s.p99Ms());
        chart(h, "Hit ratio", "", s.hitRatio());
        h.append("</div></section>\n");
    }

    static void chart(StringBuilder h, String title, String unit, double[] values) {
        double max = 0;
        for (double v : values) {
            max = Math.max(max, v);
        }
        double top = max > 0 ? max : 1;
        h.append("<figure><figcaption>").append(title).append(" <span class=\"muted\">max ")
                .append(format(max)).append(unit.isEmpty() ? "" : " " + unit).append("</span></figcaption>")
                .append("<svg class=\"chart\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(HEIGHT)
                .append("\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"").append(title)
                .append("\"><polyline fill=\"none\" stroke=\"#2e90fa\" stroke-width=\"1.5\" points=\"");
        double step = values.length > 1 ? (double) WIDTH / (values.length - 1) : 0;
        boolean first = true;
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0) {
                continue;
            }
            if (!first) {
                h.append(' ');
            }
            first = false;
            h.append(format(i * step)).append(',').append(format(HEIGHT - values[i] / top * HEIGHT));
        }
        h.append("\"/></svg></figure>\n");
    }

    private static String format(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
