package pibl.upstream;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import pibl.server.ProxyServer;
import pibl.testing.LogCapture;
import pibl.testing.NoLeaks;
import pibl.testing.ProxyFixture;
import pibl.testing.RawHttp;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A dead backend under load, over real sockets: every request gets its 502 and its access line, and the error log
 * stays a line or two (before: one WARN per failed request).
 */
@ExtendWith(NoLeaks.class)
class OutageLogIT {

    @Test
    void aHundredRequestsToADeadBackendAreOneWarningNotAHundred() throws Exception {
        String dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = "127.0.0.1:" + s.getLocalPort(); // nothing listens there once closed
        }
        try (LogCapture log = new LogCapture(UpstreamCall.class.getName(), Level.WARN);
             ProxyServer proxy = ProxyFixture.start(List.of(dead));
             RawHttp http = new RawHttp(proxy.port())) {
            for (int i = 0; i < 100; i++) {
                assertThat(http.get("/r" + i).status()).as("request %d", i).isEqualTo(502);
            }
            assertThat(log.messages()).as("the first failure in full; the rest are a summary at the second's end")
                    .hasSizeLessThanOrEqualTo(2)
                    .first().asString().startsWith("WARN backend " + dead + " connect failed for GET /r0");
            assertThat(proxy.stats().responses(5)).as("every request still answered and counted").isEqualTo(100);
        }
    }
}
