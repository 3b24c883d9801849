package pibl.cache;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What a writer in flight may still do after its key is invalidated, and what the table remembers. */
class InvalidationsTest {
    private final Invalidations invalidations = new Invalidations();

    private static Digest key(int i) {
        return Digest.of("http://example.com/" + i);
    }

    @Test
    void aWriterThatBeganBeforeTheInvalidationIsRefusedAndOneAfterIsAdmitted() {
        long before = invalidations.writerBegins(key(1));
        invalidations.invalidate(key(1));
        long after = invalidations.writerBegins(key(1));
        assertThat(invalidations.admits(key(1), before)).isFalse();
        assertThat(invalidations.admits(key(1), after)).isTrue();
        assertThat(invalidations.admits(key(2), before)).as("another key is not touched").isTrue();
    }

    @Test
    void invalidationsOfKeysNobodyWritesAreNotRemembered() {
        long began = invalidations.writerBegins(key(0));
        for (int i = 1; i <= 4 * Invalidations.MAX_KEYS; i++) {
            if ((key(i).hi() & (Invalidations.STRIPES - 1)) != (key(0).hi() & (Invalidations.STRIPES - 1))) {
                invalidations.invalidate(key(i)); // a flood of POSTs to uncached URLs
            }
        }
        assertThat(invalidations.admits(key(0), began)).as("no floor raised by what nobody was writing").isTrue();
    }

    @Test
    void aForgottenInvalidationStillRefusesEveryWriterThatBeganBeforeIt() {
        long began = invalidations.writerBegins(key(0));
        invalidations.invalidate(key(0));
        for (int i = 1; i <= 2 * Invalidations.MAX_KEYS; i++) { // each with a writer in flight: all remembered
            invalidations.writerBegins(key(i));
            invalidations.invalidate(key(i));
        }
        assertThat(invalidations.admits(key(0), began)).as("evicted for room: the floor refuses it").isFalse();
        long now = invalidations.writerBegins(key(0));
        assertThat(invalidations.admits(key(0), now)).isTrue();
    }

    @Test
    void aWriterDoneNoLongerMakesItsKeysInvalidationsRemembered() {
        invalidations.writerBegins(key(1));
        invalidations.writerDone(key(1));
        long began = invalidations.writerBegins(key(2));
        for (int i = 0; i < 2 * Invalidations.MAX_KEYS; i++) {
            invalidations.invalidate(key(1));
        }
        assertThat(invalidations.admits(key(2), began)).isTrue();
    }

    @Test
    void clearRefusesEveryWriterBegunBeforeIt() {
        long began = invalidations.writerBegins(key(3));
        invalidations.invalidateAll();
        assertThat(invalidations.admits(key(3), began)).isFalse();
        assertThat(invalidations.admits(key(3), invalidations.writerBegins(key(3)))).isTrue();
    }
}
