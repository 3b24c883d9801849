package pibl.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CidrTest {

    @ParameterizedTest(name = "{0} contains {1}: {2}")
    @CsvSource({
            "10.0.0.0/8,       10.1.2.3,            true",
            "10.0.0.0/8,       11.0.0.1,            false",
            "10.0.0.0/8,       ::ffff:10.1.2.3,     true",
            "192.0.2.7,        192.0.2.7,           true",
            "192.0.2.7,        192.0.2.8,           false",
            "0.0.0.0/0,        203.0.113.9,         true",
            "0.0.0.0/0,        ::1,                 false",
            "192.168.4.0/22,   192.168.7.255,       true",
            "192.168.4.0/22,   192.168.8.0,         false",
            "2001:db8::/32,    2001:db8:ffff::1,    true",
            "2001:db8::/32,    2001:db9::1,         false",
            "::1,              ::1,                 true",
            "::1,              127.0.0.1,           false",
            "::/0,             fe80::1,             true",
            "2001:db8::,       2001:0db8:0:0:0:0:0:0, true",
            "2001:db8:0:0:0:0:0:7/128, 2001:db8::7, true",
    })
    void contains(String network, String address, boolean expected) {
        assertThat(Cidr.parse(network).contains(Cidr.address(address))).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10.1", "10.0.0.256", "010.0.0.1", "1.2.3.4.5", "localhost", "10.0.0.0/", "10.0.0.0/x",
            "1::2::3", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0", "::g", "12345::", "1.2.3.4/33", "::/129", " /8",
            "10.0.0.1/8"})
    void refuses(String text) {
        assertThatThrownBy(() -> Cidr.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anAddressIsNeverLookedUp() {
        assertThat(Cidr.address("localhost")).as("a name is not an address").isNull();
        assertThat(Cidr.address("10.1")).as("no BSD shorthand").isNull();
        assertThat(Cidr.address("::ffff:192.0.2.7")).as("IPv4-mapped is its IPv4 address")
                .containsExactly(192, 0, 2, 7);
        assertThat(Cidr.address("::ffff:c000:0207")).containsExactly(192, 0, 2, 7);
    }

    @Test
    void equalNetworksAreEqualWhateverTheSpelling() {
        assertThat(Cidr.parse("2001:DB8::/32")).isEqualTo(Cidr.parse("2001:0db8:0::/32"));
        assertThat(Cidr.parse("127.0.0.1")).isEqualTo(Cidr.parse("127.0.0.1/32"));
        assertThat(Cidr.parse("10.0.0.0/8").toString()).isEqualTo("10.0.0.0/8");
    }
}
