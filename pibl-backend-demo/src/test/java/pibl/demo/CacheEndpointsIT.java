package pibl.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

class CacheEndpointsIT {

    @RegisterExtension
    static final RunningBackend backend = new RunningBackend("it-cache");

    @Test
    void maxAgeCarriesValidators() throws Exception {
        HttpResponse<String> response = backend.getText("/cache/max-age/42");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("cache-control")).hasValue("max-age=42");
        assertThat(response.headers().firstValue("etag")).hasValue("\"max-age-42\"");
        assertThat(response.headers().firstValue("last-modified")).hasValue(StaticSite.LAST_MODIFIED);
        assertThat(response.body()).startsWith("it-cache /cache/max-age/42 request=");
    }

    @Test
    void everyResponseTheBackendSendsHasAFreshBody() throws Exception {
        String first = backend.getText("/cache/max-age/60").body();
        String second = backend.getText("/cache/max-age/60").body();

        assertThat(second)
                .as("the request number in the body tells a fresh response from a cached one")
                .isNotEqualTo(first);
    }

    @Test
    void etagPathRevalidatesWith304() throws Exception {
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response ok = connection.get("/cache/etag").read();
            String etag = ok.header("etag");

            RawConnection.Response matching = connection.send("GET /cache/etag HTTP/1.1\r\nHost: t\r\n"
                    + "If-None-Match: " + etag + "\r\n\r\n").read();
            RawConnection.Response weak = connection.send("GET /cache/etag HTTP/1.1\r\nHost: t\r\n"
                    + "If-None-Match: \"other\", W/" + etag + "\r\n\r\n").read();
            RawConnection.Response different = connection.send("GET /cache/etag HTTP/1.1\r\nHost: t\r\n"
                    + "If-None-Match: \"other\"\r\n\r\n").read();

            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.header("cache-control")).isEqualTo("no-cache");
            assertThat(etag).as("a strong ETag").startsWith("\"");
            assertThat(matching.status()).isEqualTo(304);
            assertThat(matching.header("etag")).isEqualTo(etag);
            assertThat(matching.header("cache-control")).isEqualTo("no-cache");
            assertThat(matching.header("x-backend")).isEqualTo("it-cache");
            assertThat(matching.body()).isEmpty();
            assertThat(weak.status()).as("If-None-Match compares weakly, in a list").isEqualTo(304);
            assertThat(different.status()).isEqualTo(200);
            assertThat(different.text()).contains("/cache/etag");
        }
    }

    @Test
    void etagPathHonoursIfModifiedSince() throws Exception {
        try (RawConnection connection = backend.connect()) {
            RawConnection.Response unchanged = connection.send("GET /cache/etag HTTP/1.1\r\nHost: t\r\n"
                    + "If-Modified-Since: " + StaticSite.LAST_MODIFIED + "\r\n\r\n").read();
            RawConnection.Response older = connection.send("GET /cache/etag HTTP/1.1\r\nHost: t\r\n"
                    + "If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n").read();

            assertThat(unchanged.status()).isEqualTo(304);
            assertThat(older.status()).as("modified since then").isEqualTo(200);
        }
    }

    @Test
    void noStorePrivateAndNone() throws Exception {
        HttpResponse<String> noStore = backend.getText("/cache/no-store");
        HttpResponse<String> privately = backend.getText("/cache/private");
        HttpResponse<String> none = backend.getText("/cache/none");

        assertThat(noStore.headers().firstValue("cache-control")).hasValue("no-store");
        assertThat(privately.headers().firstValue("cache-control")).hasValue("private");
        assertThat(none.statusCode()).isEqualTo(200);
        assertThat(none.headers().firstValue("cache-control")).isEmpty();
        assertThat(none.headers().firstValue("expires")).isEmpty();
        assertThat(none.headers().firstValue("last-modified"))
                .as("no Last-Modified either, or a cache could compute a heuristic lifetime")
                .isEmpty();
        assertThat(none.headers().firstValue("etag")).isEmpty();
    }

    @Test
    void varyNamesAcceptEncodingAndEchoesIt() throws Exception {
        HttpResponse<String> response = RunningBackend.CLIENT.send(
                backend.request("/cache/vary").header("Accept-Encoding", "gzip, br").build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.headers().firstValue("vary")).hasValue("Accept-Encoding");
        assertThat(response.headers().firstValue("cache-control")).hasValue("max-age=60");
        assertThat(response.body()).contains("accept-encoding=gzip, br");
    }

    @Test
    void setCookieIsCacheableButCarriesACookie() throws Exception {
        HttpResponse<String> response = backend.getText("/cache/set-cookie");

        assertThat(response.headers().firstValue("cache-control")).hasValue("max-age=60");
        assertThat(response.headers().firstValue("set-cookie")).hasValueSatisfying(
                cookie -> assertThat(cookie).startsWith("demo=").endsWith("; Path=/"));
    }

    @Test
    void unknownCachePathsAreNotFoundAndBadMaxAgesAreBadRequests() throws Exception {
        assertThat(backend.getText("/cache/nothing").statusCode()).isEqualTo(404);
        assertThat(backend.getText("/cache/max-age/soon").statusCode()).isEqualTo(400);
    }
}
