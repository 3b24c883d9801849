package pibl.runtime;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

class TransportTest {
    private final String before = System.getProperty("pibl.transport");

    @AfterEach
    void restore() {
        if (before == null) {
            System.clearProperty("pibl.transport");
        } else {
            System.setProperty("pibl.transport", before);
        }
    }

    @Test
    void theBestAvailableComesFirstAndNioIsAlwaysThere() {
        System.clearProperty("pibl.transport");
        assertThat(Transport.available()).endsWith(Transport.NIO).doesNotHaveDuplicates();
        assertThat(Transport.best()).isEqualTo(Transport.available().get(0));
    }

    @Test
    void thePropertyPicksAnAvailableTransportByItsLabel() {
        for (Transport t : Transport.available()) {
            System.setProperty("pibl.transport", t.label().toUpperCase(Locale.ROOT));
            assertThat(Transport.best()).isEqualTo(t);
        }
    }

    @Test
    void anUnknownOrUnavailableNameFallsBackToTheBest() {
        System.setProperty("pibl.transport", "kqueue");
        assertThat(Transport.best()).isEqualTo(Transport.available().get(0));
    }
}
