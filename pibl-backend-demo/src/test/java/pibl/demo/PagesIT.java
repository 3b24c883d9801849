package pibl.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class PagesIT {

    @RegisterExtension
    static final RunningBackend backend = new RunningBackend("it-pages");

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @Test
    void homePageLinksTheClassicTestPagesAndNamesTheBackend() throws Exception {
        HttpResponse<String> home = backend.getText("/");

        assertThat(home.statusCode()).isEqualTo(200);
        assertThat(home.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(home.headers().firstValue("cache-control")).hasValue("max-age=300");
        assertThat(home.headers().firstValue("x-backend")).hasValue("it-pages");
        assertThat(home.headers().firstValue("date")).isPresent();
        assertThat(home.headers().firstValue("etag")).isPresent();
        assertThat(home.body())
                .contains("href=\"/one-image.html\"", "href=\"/many-images.html\"", "href=\"/files/large.bin\"",
                        "href=\"/many-files.html\"")
                .as("the page shows which backend served it")
                .contains("it-pages");
    }

    @Test
    void everyImageOnTheImagePagesIsAValidPng() throws Exception {
        List<String> one = links(backend.getText("/one-image.html").body(), "img src=\"([^\"]+)\"");
        List<String> many = links(backend.getText("/many-images.html").body(), "img src=\"([^\"]+)\"");

        assertThat(one).hasSize(1);
        assertThat(many).hasSizeGreaterThan(5).doesNotHaveDuplicates();
        for (String image : many) {
            HttpResponse<byte[]> png = backend.getBytes(image);
            assertThat(png.statusCode()).as(image).isEqualTo(200);
            assertThat(png.headers().firstValue("content-type")).as(image).hasValue("image/png");
            assertThat(png.headers().firstValue("cache-control")).as(image).hasValue("max-age=300");
            assertThat(png.body()).as(image).startsWith(PNG_SIGNATURE);
        }
    }

    @Test
    void manyFilesPageReferencesAboutOneMebibyteOfFilesPlusCssAndJs() throws Exception {
        String page = backend.getText("/many-files.html").body();
        List<String> parts = links(page, "href=\"(/files/part-[0-9]+\\.bin)\"");
        List<String> assets = new ArrayList<>(links(page, "href=\"(/assets/[^\"]+\\.css)\""));
        assets.addAll(links(page, "src=\"(/assets/[^\"]+\\.js)\""));

        long total = 0;
        for (String part : parts) {
            HttpResponse<byte[]> file = backend.getBytes(part);
            assertThat(file.statusCode()).as(part).isEqualTo(200);
            assertThat(file.body()).as(part + " holds pattern bytes").isEqualTo(Patterns.expected(0, 128 * 1024));
            total += file.body().length;
        }
        assertThat(parts).hasSize(8);
        assertThat(total).isEqualTo(1024 * 1024);
        assertThat(assets).hasSize(2);
        for (String asset : assets) {
            assertThat(backend.getText(asset).statusCode()).as(asset).isEqualTo(200);
        }
    }

    @Test
    void largeFileIsExactlyOneMebibyteOfPatternBytes() throws Exception {
        HttpResponse<byte[]> large = backend.getBytes("/files/large.bin");

        assertThat(large.statusCode()).isEqualTo(200);
        assertThat(large.headers().firstValue("content-length")).hasValue("1048576");
        assertThat(large.headers().firstValue("cache-control")).hasValue("max-age=300");
        assertThat(large.body()).isEqualTo(Patterns.expected(0, 1048576));
    }

    @Test
    void staticContentRevalidatesWithItsEtag() throws Exception {
        String etag = backend.getText("/one-image.html").headers().firstValue("etag").orElseThrow();
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response revalidated = connection
                    .send("GET /one-image.html HTTP/1.1\r\nHost: t\r\nIf-None-Match: " + etag + "\r\n\r\n").read();

            assertThat(revalidated.status()).isEqualTo(304);
            assertThat(revalidated.header("etag")).isEqualTo(etag);
            assertThat(revalidated.header("content-length")).as("a 304 carries no body framing").isNull();
            assertThat(connection.get("/health").read().text())
                    .as("no body bytes followed the 304: the next response parses cleanly")
                    .isEqualTo("ok\n");
        }
    }

    @Test
    void unknownPathIsA404HtmlPage() throws Exception {
        HttpResponse<String> missing = backend.getText("/no/such/page?x=1");

        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(missing.headers().firstValue("x-backend")).hasValue("it-pages");
        assertThat(missing.body()).contains("404", "/no/such/page");
    }

    @Test
    void staticContentRefusesOtherMethods() throws Exception {
        HttpResponse<String> post = RunningBackend.CLIENT.send(
                backend.request("/").POST(java.net.http.HttpRequest.BodyPublishers.ofString("x")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
    }

    private static List<String> links(String html, String regex) {
        List<String> found = new ArrayList<>();
        Matcher matcher = Pattern.compile(regex).matcher(html);
        while (matcher.find()) {
            found.add(matcher.group(1));
        }
        return found;
    }
}
