package pibl.demo;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The classic test pages and everything they reference, built once at start and served from memory.
 *
 * <pre>
 *   /                   home page linking everything below           text/html
 *   /one-image.html     a page with one image                        text/html    + /images/1.png
 *   /many-images.html   a page with {@value #IMAGES} images          text/html    + /images/1..12.png
 *   /many-files.html    a page with {@value #PARTS} files of 128 KiB, CSS and JS  + /files/part-1..8.bin
 *   /ws.html            a page that talks to the /ws echo over a WebSocket          text/html
 *   /files/large.bin    exactly 1048576 pattern bytes                application/octet-stream
 *   /assets/style.css, /assets/app.js
 * </pre>
 *
 * Every resource here answers with {@code Cache-Control: max-age=300}, a strong {@code ETag} and
 * {@link #LAST_MODIFIED}. Pages name the instance that served them, so their ETags differ between instances; the
 * {@code .bin} files are {@link PatternBytes} and identical everywhere.
 */
final class StaticSite {

    /** The Last-Modified of all demo content: it never changes; only Cache-Control decides freshness. */
    static final String LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT";

    static final int IMAGES = 12;
    static final int PARTS = 8;
    static final int PART_SIZE = 128 * 1024;
    static final int LARGE_SIZE = 1024 * 1024;

    private static final String MAX_AGE = "max-age=300";

    private final Map<String, Resource> resources = new HashMap<>();

    /** A resource held in memory. */
    private record Resource(String contentType, byte[] bytes, String etag) {
        static Resource of(String contentType, byte[] bytes) {
            CRC32 crc = new CRC32();
            crc.update(bytes);
            return new Resource(contentType, bytes, String.format("\"%08x-%x\"", crc.getValue(), bytes.length));
        }
    }

    /** Builds every page and image for {@code instance}. */
    StaticSite(Instance instance) {
        SitePages pages = new SitePages(instance);
        html("/", pages.home());
        html("/index.html", pages.home());
        html("/one-image.html", pages.oneImage());
        html("/many-images.html", pages.manyImages(IMAGES));
        html("/many-files.html", pages.manyFiles(PARTS, PART_SIZE));
        html("/ws.html", pages.webSocket());
        resources.put("/assets/style.css", Resource.of("text/css; charset=utf-8", utf8(SitePages.css())));
        resources.put("/assets/app.js", Resource.of("text/javascript; charset=utf-8", utf8(SitePages.js())));
        for (int i = 1; i <= IMAGES; i++) {
            resources.put("/images/" + i + ".png", Resource.of("image/png", PngTiles.tile(i, IMAGES)));
        }
    }

    /** The resource at {@code path}, or {@code null} when there is none. */
    Reply find(String path) {
        Resource resource = resources.get(path);
        if (resource != null) {
            return Reply.of(HttpResponseStatus.OK, resource.contentType(), resource.bytes())
                    .with(HttpHeaderNames.ETAG, resource.etag())
                    .with(HttpHeaderNames.CACHE_CONTROL, MAX_AGE)
                    .with(HttpHeaderNames.LAST_MODIFIED, LAST_MODIFIED);
        }
        long size = fileSize(path);
        if (size < 0) {
            return null;
        }
        return Reply.pattern(size, false)
                .with(HttpHeaderNames.ETAG, "\"pattern-" + size + "\"")
                .with(HttpHeaderNames.CACHE_CONTROL, MAX_AGE)
                .with(HttpHeaderNames.LAST_MODIFIED, LAST_MODIFIED);
    }

    /** The size of {@code /files/large.bin} or {@code /files/part-N.bin}, or -1 for any other path. */
    private static long fileSize(String path) {
        if (path.equals("/files/large.bin")) {
            return LARGE_SIZE;
        }
        if (path.startsWith("/files/part-") && path.endsWith(".bin")) {
            String number = path.substring("/files/part-".length(), path.length() - ".bin".length());
            for (int i = 1; i <= PARTS; i++) {
                if (number.equals(Integer.toString(i))) {
                    return PART_SIZE;
                }
            }
        }
        return -1;
    }

    private void html(String path, String page) {
        resources.put(path, Resource.of("text/html; charset=utf-8", utf8(page)));
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
