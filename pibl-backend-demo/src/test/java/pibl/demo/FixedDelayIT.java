package pibl.demo;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code --delay-ms}: one backend slow for every request, whatever the client asks (bench/balance.sh's slow backend). */
class FixedDelayIT {

    private static final long DELAY_MS = 300;

    private static DemoBackend slow;

    @BeforeAll
    static void start() {
        slow = DemoBackend.start("127.0.0.1", 0, "it-slow", 1, DELAY_MS, AccessLog.NONE);
    }

    @AfterAll
    static void stop() {
        slow.close();
    }

    @Test
    void everyAnswerIsLateByTheInstanceDelay() throws Exception {
        Timed health = get("/health");
        Timed download = get("/download?size=10");

        assertThat(health.response.statusCode()).isEqualTo(200);
        assertThat(health.millis).as("a request that asks for no delay still waits the instance's")
                .isGreaterThanOrEqualTo(DELAY_MS);
        assertThat(download.response.statusCode()).isEqualTo(200);
        assertThat(download.millis).as("on any path").isGreaterThanOrEqualTo(DELAY_MS);
    }

    @Test
    void theRequestsOwnDelayComesOnTop() throws Exception {
        Timed both = get("/health?delay=200");

        assertThat(both.response.statusCode()).isEqualTo(200);
        assertThat(both.millis).as("?delay=200 plus the instance's 300 ms").isGreaterThanOrEqualTo(DELAY_MS + 200);
    }

    @Test
    void aBadDelayIsStillABadRequest() throws Exception {
        assertThat(get("/health?delay=-5").response.statusCode()).isEqualTo(400);
    }

    @Test
    void anInstanceWithoutDelayAnswersAtOnce() throws Exception {
        try (DemoBackend quick = DemoBackend.start("127.0.0.1", 0, "it-quick", 1, 0, AccessLog.NONE)) {
            long start = System.nanoTime();
            HttpResponse<String> response = RunningBackend.CLIENT.send(request(quick, "/health"),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                    .as("the delay belongs to the instance it was given to, not to every instance")
                    .isLessThan(DELAY_MS);
        }
    }

    private record Timed(HttpResponse<String> response, long millis) {
    }

    private static Timed get(String pathAndQuery) throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> response = RunningBackend.CLIENT.send(request(slow, pathAndQuery),
                HttpResponse.BodyHandlers.ofString());
        return new Timed(response, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    private static HttpRequest request(DemoBackend backend, String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + backend.port() + pathAndQuery))
                .timeout(Duration.ofSeconds(30)).build();
    }
}
