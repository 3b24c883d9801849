package pibl.handler;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HttpsRedirectHandlerTest {
    @Test
    void theLocationKeepsHostAndTargetAndNamesTheTlsPortUnless443() {
        assertThat(HttpsRedirectHandler.location("shop.example:8080", "10.0.0.1", 8443, "/a?b=1"))
                .isEqualTo("https://shop.example:8443/a?b=1");
        assertThat(HttpsRedirectHandler.location("shop.example", "10.0.0.1", 443, "/"))
                .isEqualTo("https://shop.example/");
        assertThat(HttpsRedirectHandler.location("[2001:db8::1]:80", "10.0.0.1", 443, "/p"))
                .isEqualTo("https://[2001:db8::1]/p");
        assertThat(HttpsRedirectHandler.location(null, "10.0.0.1", 443, "/p")).as("HTTP/1.0 without Host")
                .isEqualTo("https://10.0.0.1/p");
        assertThat(HttpsRedirectHandler.location("h", "10.0.0.1", 443, "*")).as("OPTIONS *")
                .isEqualTo("https://h/");
    }
}
