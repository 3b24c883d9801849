package pibl.runtime;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class Http2StatsTest {
    @Test
    void aStreamPastTheOpenBudgetIsRefusedUntilOneCloses() {
        Http2Stats s = new Http2Stats();
        assertThat(s.tryOpenStream(2)).isTrue();
        assertThat(s.tryOpenStream(2)).isTrue();
        assertThat(s.tryOpenStream(2)).isFalse();
        s.streamClosed();
        assertThat(s.tryOpenStream(2)).as("a closed stream gives its open place back").isTrue();
        assertThat(s.openStreams()).isEqualTo(2);
        assertThat(s.refusedStreams()).isEqualTo(1);
    }

    @Test
    void finishedStreamsTheEventLoopStillHoldsCountAgainstFourTimesTheBudget() {
        Http2Stats s = new Http2Stats();
        for (int i = 0; i < 4; i++) {
            assertThat(s.tryOpenStream(1)).isTrue();
            s.streamClosed(); // finished, its channel not yet deregistered
        }
        assertThat(s.openStreams()).isZero();
        assertThat(s.heldStreams()).isEqualTo(4);
        assertThat(s.tryOpenStream(1)).as("four held for a budget of one").isFalse();
        s.streamReleased();
        assertThat(s.tryOpenStream(1)).isTrue();
        assertThat(s.heldStreams()).isEqualTo(4);
        assertThat(s.refusedStreams()).isEqualTo(1);
    }
}
