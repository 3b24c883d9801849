package pibl.cache;

import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static pibl.cache.CachePhase.BYPASS;
import static pibl.cache.CachePhase.HIT;
import static pibl.cache.CachePhase.LOOKUP;
import static pibl.cache.CachePhase.MISS;
import static pibl.cache.CachePhase.REVALIDATED;
import static pibl.cache.CachePhase.REVALIDATING;
import static pibl.cache.CachePhase.STALE;
import static pibl.cache.CachePhase.STALE_UPDATING;
import static pibl.cache.CachePhase.UNINIT;

class CachePhaseTest {

    @Test
    void theLegalMovesAreExactlyTheTable() {
        assertThat(UNINIT.next()).containsExactlyInAnyOrder(BYPASS, LOOKUP);
        assertThat(LOOKUP.next()).as("a second look after waiting behind another request's fetch is a move too")
                .containsExactlyInAnyOrder(LOOKUP, HIT, STALE, STALE_UPDATING, REVALIDATING, MISS);
        assertThat(REVALIDATING.next()).containsExactlyInAnyOrder(REVALIDATED, MISS, STALE);
        assertThat(MISS.next()).as("only stale-if-error can replace a miss's response").containsExactly(STALE);
        for (CachePhase terminal : EnumSet.of(BYPASS, HIT, STALE, STALE_UPDATING, REVALIDATED)) {
            assertThat(terminal.next()).as(terminal + " is final").isEmpty();
        }
    }

    @Test
    void anIllegalMoveThrowsAndNamesBothPhases() {
        for (CachePhase from : CachePhase.values()) {
            for (CachePhase to : CachePhase.values()) {
                if (from.next().contains(to)) {
                    assertThat(from.moveTo(to)).isEqualTo(to);
                } else {
                    assertThatThrownBy(() -> from.moveTo(to)).isInstanceOf(IllegalStateException.class)
                            .hasMessage("cache phase " + from + " cannot move to " + to);
                }
            }
        }
    }

    @Test
    void whatXCacheSaysForEachPhase() {
        assertThat(UNINIT.status()).as("PIBL's own refusals carry no X-Cache").isNull();
        assertThat(LOOKUP.status()).as("still looking: nothing to say yet").isNull();
        assertThat(BYPASS.status()).isEqualTo(CacheStatus.BYPASS);
        assertThat(HIT.status()).isEqualTo(CacheStatus.HIT);
        assertThat(MISS.status()).isEqualTo(CacheStatus.MISS);
        assertThat(REVALIDATING.status()).as("a revalidation whose answer is new content is a miss").isEqualTo(CacheStatus.MISS);
        assertThat(STALE.status()).isEqualTo(CacheStatus.STALE);
        assertThat(STALE_UPDATING.status()).isEqualTo(CacheStatus.STALE);
        assertThat(REVALIDATED.status()).isEqualTo(CacheStatus.REVALIDATED);
        Set<CachePhase> next = LOOKUP.next();
        assertThatThrownBy(() -> next.add(UNINIT)).as("the table cannot be changed from outside")
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
