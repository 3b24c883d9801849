package pibl.http;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pibl.config.Cidr;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Who the client is: the peer, or the rightmost untrusted hop of X-Forwarded-For from a trusted peer. */
class ForwardedForTest {

    @ParameterizedTest(name = "trusted {0}, peer {1}, X-Forwarded-For {2}: {3}")
    @CsvSource(nullValues = "~", delimiter = '|', value = {
            "~                        | 10.0.0.5  | 192.0.2.7                     | 10.0.0.5",
            "10.0.0.0/8               | 10.0.0.5  | ~                             | 10.0.0.5",
            "10.0.0.0/8               | 10.0.0.5  | 192.0.2.7                     | 192.0.2.7",
            "10.0.0.0/8               | 10.0.0.5  | 6.6.6.6, 192.0.2.7, 10.0.0.9  | 192.0.2.7",
            "10.0.0.0/8               | 10.0.0.5  | 6.6.6.6,192.0.2.7,10.0.0.9    | 192.0.2.7",
            "10.0.0.0/8               | 10.0.0.5  | 10.0.0.8, 10.0.0.9            | 10.0.0.8",
            "10.0.0.0/8               | 192.0.2.1 | 1.2.3.4                       | 192.0.2.1",
            "10.0.0.0/8               | 10.0.0.5  | 192.0.2.7, garbage            | 10.0.0.5",
            "10.0.0.0/8               | 10.0.0.5  | garbage, 192.0.2.7            | 192.0.2.7",
            "10.0.0.0/8               | 10.0.0.5  | 192.0.2.7:5678                | 192.0.2.7",
            "10.0.0.0/8               | 10.0.0.5  | [2001:db8::1]:80              | 2001:db8::1",
            "10.0.0.0/8               | 10.0.0.5  | 2001:db8::1                   | 2001:db8::1",
            "10.0.0.0/8 ::1           | ::1       | 192.0.2.7, 10.1.1.1           | 192.0.2.7",
            "10.0.0.0/8               | ::ffff:10.0.0.5 | 192.0.2.7               | 192.0.2.7",
    })
    void client(String trusted, String peer, String forwardedFor, String client) {
        List<Cidr> networks = trusted == null ? List.of()
                : Arrays.stream(trusted.split(" ")).map(Cidr::parse).toList();
        List<String> lines = forwardedFor == null ? List.of() : List.of(forwardedFor);

        assertThat(ForwardedFor.client(Cidr.address(peer), lines, networks)).containsExactly(Cidr.address(client));
    }

    @ParameterizedTest(name = "lines {0}: {1}")
    @CsvSource(delimiter = '|', value = {
            "6.6.6.6;192.0.2.7 | 192.0.2.7",
            "192.0.2.7;10.0.0.9 | 192.0.2.7",
    })
    void severalLinesAreOneList(String lines, String client) {
        List<Cidr> trusted = List.of(Cidr.parse("10.0.0.0/8"));

        assertThat(ForwardedFor.client(Cidr.address("10.0.0.5"), List.of(lines.split(";")), trusted))
                .containsExactly(Cidr.address(client));
    }
}
