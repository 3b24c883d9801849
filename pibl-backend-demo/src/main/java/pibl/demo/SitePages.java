package pibl.demo;

/**
 * The HTML, CSS and JavaScript of the {@link StaticSite}, as text. Every page carries a badge naming the instance that
 * rendered it, so a browser behind the proxy shows which backend (or which cached copy) it got.
 */
final class SitePages {

    private final String name;
    private final String started;

    SitePages(Instance instance) {
        this.name = escape(instance.name());
        this.started = instance.startedAt().toString() + " (run " + instance.nonce() + ")";
    }

    String home() {
        return page("PIBL demo backend", """
                <h2>Test pages</h2>
                <ul class="cards">
                  <li><a href="/one-image.html">One image</a><span>an HTML page and one PNG</span></li>
                  <li><a href="/many-images.html">Many images</a><span>an HTML page and %d PNGs</span></li>
                  <li><a href="/files/large.bin">Large file</a><span>1 MiB (1048576 bytes) in one response</span></li>
                  <li><a href="/many-files.html">Many files</a><span>%d files of 128 KiB, plus CSS and JS</span></li>
                  <li><a href="/ws.html">WebSocket echo</a><span>messages to /ws and back, over one WebSocket</span></li>
                </ul>
                <h2>Endpoints</h2>
                <table>
                  <tr><th>Path</th><th>What it answers</th></tr>
                  <tr><td><a href="/api/info">/api/info</a></td><td>JSON: this instance, the request line and headers as received, the client address</td></tr>
                  <tr><td><a href="/health">/health</a></td><td><code>ok</code> while up</td></tr>
                  <tr><td><a href="/download?size=1048576">/download?size=BYTES</a></td><td>exactly BYTES deterministic bytes, streamed: byte i = (i * 31 + 7) &amp; 0xff</td></tr>
                  <tr><td><a href="/chunked?size=65536">/chunked?size=BYTES</a></td><td>the same bytes with Transfer-Encoding: chunked</td></tr>
                  <tr><td><a href="/cache/max-age/60">/cache/max-age/N</a></td><td>Cache-Control: max-age=N, with ETag and Last-Modified</td></tr>
                  <tr><td><a href="/cache/etag">/cache/etag</a></td><td>Cache-Control: no-cache and a strong ETag: revalidate every time</td></tr>
                  <tr><td><a href="/cache/no-store">/cache/no-store</a>, <a href="/cache/private">/cache/private</a>, <a href="/cache/none">/cache/none</a></td><td>no-store, private, no Cache-Control at all</td></tr>
                  <tr><td><a href="/cache/vary">/cache/vary</a>, <a href="/cache/set-cookie">/cache/set-cookie</a></td><td>Vary: Accept-Encoding; Set-Cookie with max-age=60</td></tr>
                  <tr><td><a href="/status/404">/status/CODE</a></td><td>that status, e.g. <a href="/status/503">503</a></td></tr>
                  <tr><td>/echo</td><td>any method: the request body back, same Content-Type</td></tr>
                  <tr><td><a href="/ws.html">/ws</a></td><td>WebSocket echo: text and binary frames back, pings answered with pongs, the close handshake</td></tr>
                  <tr><td><a href="/close">/close</a></td><td>answers, then closes the connection</td></tr>
                  <tr><td><a href="/?delay=1000">any path?delay=MS</a></td><td>the same answer, MS milliseconds later (at most 120000)</td></tr>
                </table>
                """.formatted(StaticSite.IMAGES, StaticSite.PARTS));
    }

    String oneImage() {
        return page("One image", """
                <p>One page, one image.</p>
                <figure><img src="/images/1.png" width="256" height="256" alt="tile 1"></figure>
                """);
    }

    String manyImages(int count) {
        StringBuilder tiles = new StringBuilder("<div class=\"grid\">\n");
        for (int i = 1; i <= count; i++) {
            tiles.append("  <img src=\"/images/").append(i).append(".png\" width=\"128\" height=\"128\" alt=\"tile ")
                    .append(i).append("\">\n");
        }
        tiles.append("</div>\n");
        return page("Many images", "<p>One page, " + count + " images.</p>\n" + tiles);
    }

    String manyFiles(int parts, int partSize) {
        StringBuilder list = new StringBuilder("<ol class=\"files\">\n");
        for (int i = 1; i <= parts; i++) {
            list.append("  <li><a data-part href=\"/files/part-").append(i).append(".bin\">part-").append(i)
                    .append(".bin</a> <span>").append(partSize / 1024).append(" KiB</span></li>\n");
        }
        list.append("</ol>\n<p id=\"total\"></p>\n<script src=\"/assets/app.js\"></script>\n");
        return page("Many files", "<p>One page, " + parts + " files of " + partSize / 1024
                + " KiB, a stylesheet and a script that fetches every file.</p>\n" + list);
    }

    /**
     * Opens {@code /ws} relative to the page (so through PIBL when the page came through PIBL; {@code wss://} under
     * https) and shows every message going out and coming back.
     */
    String webSocket() {
        return page("WebSocket echo", """
                <p>One WebSocket to <code>/ws</code>, which echoes every message. <span id="state">connecting</span></p>
                <form id="chat"><input id="text" autocomplete="off" placeholder="a message" autofocus>
                <button>Send</button> <button type="button" id="binary">Send 4 binary bytes</button></form>
                <ol id="log"></ol>
                <script>
                const log = (who, what) => {
                  const li = document.createElement("li");
                  li.textContent = new Date().toISOString().slice(11, 23) + " " + who + " " + what;
                  document.getElementById("log").prepend(li);
                };
                const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
                ws.binaryType = "arraybuffer";
                const state = document.getElementById("state");
                ws.onopen = () => { state.textContent = "open"; log("--", "connected"); };
                ws.onclose = e => { state.textContent = "closed (" + e.code + ")"; log("--", "closed"); };
                ws.onmessage = e => log("<-", typeof e.data === "string" ? e.data
                    : "binary [" + new Uint8Array(e.data).join(", ") + "]");
                document.getElementById("chat").onsubmit = e => {
                  e.preventDefault();
                  const input = document.getElementById("text");
                  if (input.value && ws.readyState === WebSocket.OPEN) { ws.send(input.value); log("->", input.value); }
                  input.value = "";
                };
                document.getElementById("binary").onclick = () => {
                  ws.send(new Uint8Array([0, 1, 2, 255])); log("->", "binary [0, 1, 2, 255]");
                };
                </script>
                """);
    }

    private String page(String title, String body) {
        return """
                <!DOCTYPE html>
                <html lang="en">
                <head>
                <meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <title>%s - %s</title>
                <link rel="stylesheet" href="/assets/style.css">
                </head>
                <body>
                <header><a href="/" class="home">PIBL demo</a><span class="badge">served by <b>%s</b></span></header>
                <main>
                <h1>%s</h1>
                %s</main>
                <footer>%s started %s</footer>
                </body>
                </html>
                """.formatted(title, name, name, title, body, name, started);
    }

    static String css() {
        return """
                body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1d2433; background: #f4f6fb; }
                header { display: flex; justify-content: space-between; align-items: center; padding: 12px 24px;
                         background: #1d2433; color: #fff; }
                header a.home { color: #fff; font-weight: 600; text-decoration: none; }
                .badge { background: #3b82f6; border-radius: 999px; padding: 2px 12px; font-size: 14px; }
                main { max-width: 920px; margin: 24px auto; padding: 0 24px; }
                h1 { margin-top: 0; }
                a { color: #2563eb; }
                ul.cards { list-style: none; padding: 0; display: grid;
                           grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
                ul.cards li { background: #fff; border-radius: 8px; padding: 12px 16px;
                              box-shadow: 0 1px 3px rgba(0, 0, 0, .12); }
                ul.cards span { display: block; color: #5b6477; font-size: 14px; }
                table { border-collapse: collapse; width: 100%; background: #fff; }
                th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e3e7ef; vertical-align: top; }
                .grid { display: grid; grid-template-columns: repeat(auto-fill, 128px); gap: 12px; }
                img { border-radius: 6px; box-shadow: 0 1px 3px rgba(0, 0, 0, .2); }
                ol.files span { color: #5b6477; margin-left: 8px; }
                footer { max-width: 920px; margin: 24px auto; padding: 0 24px; color: #8a93a6; font-size: 13px; }
                """;
    }

    static String js() {
        return """
                // Fetches every file listed on the page and shows its size and time, then the total.
                (async () => {
                  const started = performance.now();
                  const links = [...document.querySelectorAll('a[data-part]')];
                  const sizes = await Promise.all(links.map(async (link) => {
                    const t0 = performance.now();
                    const body = await (await fetch(link.href)).arrayBuffer();
                    link.nextElementSibling.textContent =
                        `${body.byteLength} bytes in ${Math.round(performance.now() - t0)} ms`;
                    return body.byteLength;
                  }));
                  const total = sizes.reduce((a, b) => a + b, 0);
                  document.getElementById('total').textContent =
                      `${total} bytes in ${links.length} files, ${Math.round(performance.now() - started)} ms`;
                })();
                """;
    }

    /** Escapes text for HTML element content and attribute values. */
    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
