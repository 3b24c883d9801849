package pibl.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class DelayIT {

    /** One event loop only: a delay that blocked its thread would stall every other connection. */
    @RegisterExtension
    static final RunningBackend backend = new RunningBackend("it-delay", 1, AccessLog.NONE);

    @Test
    void delayPostponesTheAnswer() throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> response = backend.getText("/health?delay=200");
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("ok\n");
        assertThat(elapsedMillis).isGreaterThanOrEqualTo(200);
    }

    @Test
    void delayAppliesToAnyPath() throws Exception {
        long start = System.nanoTime();
        HttpResponse<byte[]> response = backend.getBytes("/download?size=10&delay=200");
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(response.body()).isEqualTo(Patterns.expected(0, 10));
        assertThat(elapsedMillis).isGreaterThanOrEqualTo(200);
    }

    @Test
    void aDelayedRequestDoesNotHoldUpOtherConnections() throws Exception {
        long start = System.nanoTime();
        CompletableFuture<HttpResponse<String>> slow = RunningBackend.CLIENT.sendAsync(
                backend.request("/health?delay=1500").build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> quick = backend.getText("/health");
        long quickMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(quick.statusCode()).isEqualTo(200);
        assertThat(quickMillis)
                .as("the only event loop was free while the other request waited: the delay is a timer, not a sleep")
                .isLessThan(1500);
        assertThat(slow.isDone()).as("and the delayed one is still waiting").isFalse();
        assertThat(slow.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void aBadDelayIsABadRequest() throws Exception {
        assertThat(backend.getText("/health?delay=-5").statusCode()).isEqualTo(400);
        assertThat(backend.getText("/health?delay=soon").statusCode()).isEqualTo(400);
    }
}
