package pibl.cache;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static pibl.cache.CacheIndex.MARKER;
import static pibl.cache.CacheIndex.RESPONSE;
import static pibl.cache.CacheIndex.Removal.EVICTED;
import static pibl.cache.CacheIndex.Removal.EXPIRED;
import static pibl.cache.CacheIndex.Removal.REMOVED;
import static pibl.cache.CacheIndex.VERIFIED;

/** A broken table or hand tends to loop forever rather than fail: every test has a deadline. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CacheIndexTest {
    private static final int NOW = 1_000;
    private static final int FAR = 1_000_000;
    /** Enough that nothing is ever evicted: 10000 slots per segment, no byte limit to speak of. */
    private static final long MANY = 64L * 10_000;
    private static final long NO_BYTE_LIMIT = Long.MAX_VALUE;
    /** Four slots per segment; the segment table then never grows past 6 slots. */
    private static final long FOUR_PER_SEGMENT = 64L * 4;
    private static final int SMALL_CAPACITY = 6;

    private final AtomicInteger now = new AtomicInteger(NOW);
    private final List<Event> events = new ArrayList<>();

    record Event(CacheIndex.Slot slot, CacheIndex.Removal why) {
    }

    private CacheIndex index(long maxEntries, long maxBytes) {
        return new CacheIndex(maxEntries, maxBytes, now::get, (slot, why) -> events.add(new Event(slot, why)));
    }

    /**
     * A digest in {@code segment} (its top 6 bits) whose probe starts from {@code low32} (the low half of hi); the
     * {@code id} (at least 1) goes into the middle bits of hi and into lo, so that digests of distinct ids differ.
     */
    private static Digest digest(int segment, long low32, int id) {
        long hi = ((long) segment << 58) | ((long) (id & 0x03FF_FFFF) << 32) | (low32 & 0xFFFF_FFFFL);
        return new Digest(hi, id * 0x9E37_79B9 | 1);
    }

    /** The low32 whose probe starts at slot {@code k} of a table of {@code capacity} slots. */
    private static long home(int k, int capacity) {
        return (((long) k << 32) + capacity - 1) / capacity;
    }

    private static boolean put(CacheIndex index, Digest d, int version, int aux, int keep, int flags) {
        return index.put(d, version, aux, keep, flags, () -> true);
    }

    private List<Event> events(CacheIndex.Removal why) {
        return events.stream().filter(e -> e.why() == why).toList();
    }

    // ---- basic semantics ----

    @Test
    void putThenGetAndPeekReturnTheFieldsWithoutTheClockBits() {
        CacheIndex index = index(MANY, NO_BYTE_LIMIT);
        Digest d = digest(3, 12345, 1);
        assertThat(index.get(d)).isNull();
        assertThat(index.peek(d)).isNull();

        assertThat(put(index, d, 7, 12, NOW + 60, RESPONSE | VERIFIED)).isTrue();

        CacheIndex.Slot expected = new CacheIndex.Slot(d, 7, 12, NOW + 60, RESPONSE | VERIFIED);
        assertThat(index.peek(d)).isEqualTo(expected);
        for (int i = 0; i < 5; i++) {
            assertThat(index.get(d)).as("reads count as uses, but the counter is not part of the flags")
                    .isEqualTo(expected);
        }
        assertThat(index.peek(d).isMarker()).isFalse();
        assertThat(index.peek(d).verified()).isTrue();
        assertThat(index.peek(d).sizeKiB()).isEqualTo(12);
        assertThat(index.get(digest(3, 12345, 2))).as("same probe home, another digest").isNull();
        assertThat(index.get(new Digest(d.hi(), d.lo() + 2))).as("same hi, another lo").isNull();
        assertThat(events).isEmpty();
    }

    @Test
    void responsesCountOnlyResponsesWhileSlotsAndBytesCountMarkersToo() {
        CacheIndex index = index(MANY, NO_BYTE_LIMIT);
        put(index, digest(1, 0, 1), 1, 10, FAR, RESPONSE);
        put(index, digest(1, 0, 2), 1, 3, FAR, RESPONSE | VERIFIED);
        put(index, digest(2, 0, 3), 1, 999, FAR, MARKER | VERIFIED);

        assertThat(index.slots()).isEqualTo(3);
        assertThat(index.responses()).as("a marker is a slot, not a response").isEqualTo(2);
        assertThat(index.bytes()).as("a marker's aux is its Vary list: it counts one 4 KiB block")
                .isEqualTo((10 + 3 + CacheIndex.MARKER_KIB) * 1024L);
        assertThat(index.peek(digest(2, 0, 3)).isMarker()).isTrue();
        assertThat(index.peek(digest(2, 0, 3)).sizeKiB()).isEqualTo(CacheIndex.MARKER_KIB);
        assertThat(index.peek(digest(2, 0, 3)).aux()).isEqualTo(999);
    }

    @Test
    void capacityIsMaxEntriesRoundedUpToAMultipleOfTheSegments() {
        assertThat(index(1000, NO_BYTE_LIMIT).capacity()).isEqualTo(64L * 16);
        assertThat(index(1024, NO_BYTE_LIMIT).capacity()).isEqualTo(1024);
        assertThat(index(1, NO_BYTE_LIMIT).capacity()).isEqualTo(64);
    }

    @Test
    void putReplacesTheSlotOfTheSameDigestSilently() {
        CacheIndex index = index(MANY, NO_BYTE_LIMIT);
        Digest d = digest(5, 0, 1);
        put(index, d, 1, 10, FAR, RESPONSE | VERIFIED);

        assertThat(put(index, d, 2, 20, FAR + 1, RESPONSE)).isTrue();
        assertThat(index.peek(d)).isEqualTo(new CacheIndex.Slot(d, 2, 20, FAR + 1, RESPONSE));
        assertThat(index.slots()).isEqualTo(1);
        assertThat(index.responses()).isEqualTo(1);
        assertThat(index.bytes()).isEqualTo(20 * 1024L);

        assertThat(put(index, d, 3, 77, FAR, MARKER)).as("a response replaced by a marker").isTrue();
        assertThat(index.slots()).isEqualTo(1);
        assertThat(index.responses()).isZero();
        assertThat(index.bytes()).isEqualTo(CacheIndex.MARKER_KIB * 1024L);
        assertThat(events).as("a replacement is no removal: the store must not delete the new file").isEmpty();
    }

    @Test
    void putRefusedByAdmitChangesNothing() {
        CacheIndex index = index(MANY, NO_BYTE_LIMIT);
        Digest present = digest(5, 0, 1);
        Digest absent = digest(5, 0, 2);
        put(index, present, 1, 10, FAR, RESPONSE);
        AtomicInteger asked = new AtomicInteger();

        assertThat(index.put(absent, 1, 10, FAR, RESPONSE, () -> asked.incrementAndGet() < 0)).isFalse();
        assertThat(index.put(present, 2, 20, FAR, RESPONSE, () -> asked.incrementAndGet() < 0)).isFalse();
        assertThat(index.putIfAbsent(absent, 1, 10, FAR, RESPONSE, () -> asked.incrementAndGet() < 0)).isFalse();

        assertThat(asked).hasValue(3);
        assertThat(index.peek(absent)).isNull();
        assertThat(index.peek(present)).as("not replaced")
                .isEqualTo(new CacheIndex.Slot(present, 1, 10, FAR, RESPONSE));
        assertThat(index.slots()).isEqualTo(1);
        assertThat(index.bytes()).isEqualTo(10 * 1024L);
        assertThat(events).isEmpty();
    }

    @Test
    void putIfAbsentLeavesAnExistingSlotAlone() {
        CacheIndex index = index(MANY, NO_BYTE_LIMIT);
        Digest d = digest(5, 0, 1);
        assertThat(index.putIfAbsent(d, 1, 10, FAR, RESPONSE, () -> true)).isTrue();
        assertThat(index.putIfAbsent(d, 2, 20, FAR, MARKER, () -> true)).as("what is there is newer").isFalse();

        assertThat(index.peek(d)).isEqualTo(new CacheIndex.Slot(d, 1, 10, FAR, RESPONSE));
        assertThat(index.slots()).isEqualTo(1);
        assertThat(index.responses()).isEqualTo(1);
        assertThat(index.bytes()).isEqualTo(10 * 1024L);
        assertThat(events).isEmpty();
    }

    @Test
    void removeChecksTheVersionAndReportsRemoved() {
        CacheIndex index = index(MANY, NO_BYTE_LIMIT);
        Digest d = digest(5, 0, 1);
        Digest other = digest(5, 0, 2);
        put(index, d, 4, 10, FAR, RESPONSE);
        put(index, other, 9, 1, FAR, MARKER);

        assertThat(index.remove(d, 3)).as("another version: replaced meanwhile").isFalse();
        assertThat(index.peek(d)).isNotNull();
        assertThat(events).isEmpty();

        assertThat(index.remove(d, 4)).isTrue();
        assertThat(index.peek(d)).isNull();
        assertThat(index.remove(d, 4)).as("already gone").isFalse();
        assertThat(index.remove(other, -1)).as("-1: any version").isTrue();

        assertThat(events).containsExactly(new Event(new CacheIndex.Slot(d, 4, 10, FAR, RESPONSE), REMOVED),
                new Event(new CacheIndex.Slot(other, 9, 1, FAR, MARKER), REMOVED));
        assertThat(index.slots()).isZero();
        assertThat(index.responses()).isZero();
        assertThat(index.bytes()).isZero();
    }

    @Test
    void updateChecksTheVersionAndChangesVersionSizeKeepAndAddsFlags() {
        CacheIndex index = index(MANY, NO_BYTE_LIMIT);
        Digest d = digest(5, 0, 1);
        put(index, d, 4, 10, NOW + 5, RESPONSE);

        assertThat(index.update(d, 3, 5, 30, FAR, VERIFIED)).as("another version").isFalse();
        assertThat(index.update(digest(5, 0, 2), 4, 5, 30, FAR, VERIFIED)).as("absent").isFalse();
        assertThat(index.peek(d)).isEqualTo(new CacheIndex.Slot(d, 4, 10, NOW + 5, RESPONSE));

        assertThat(index.update(d, 4, 5, 30, NOW + 50, VERIFIED)).isTrue();
        assertThat(index.peek(d)).isEqualTo(new CacheIndex.Slot(d, 5, 30, NOW + 50, RESPONSE | VERIFIED));
        assertThat(index.bytes()).isEqualTo(30 * 1024L);

        assertThat(index.update(d, 5, 5, -1, NOW + 60, 0)).as("-1 keeps the size").isTrue();
        assertThat(index.peek(d)).isEqualTo(new CacheIndex.Slot(d, 5, 30, NOW + 60, RESPONSE | VERIFIED));
        assertThat(index.bytes()).isEqualTo(30 * 1024L);

        Digest marker = digest(6, 0, 3);
        put(index, marker, 1, 42, FAR, MARKER);
        assertThat(index.update(marker, 1, 1, 43, FAR, 0)).isTrue();
        assertThat(index.bytes()).as("a marker stays one block whatever its Vary list")
                .isEqualTo((30 + CacheIndex.MARKER_KIB) * 1024L);
        assertThat(index.slots()).isEqualTo(2);
        assertThat(index.responses()).isEqualTo(1);
        assertThat(events).isEmpty();
    }

    @Test
    void keepAtLeastOnlyExtendsAndOnlyTheSameVersion() {
        CacheIndex index = index(MANY, NO_BYTE_LIMIT);
        Digest d = digest(5, 0, 1);
        put(index, d, 4, 7, NOW + 100, MARKER);

        index.keepAtLeast(d, 4, NOW + 50);
        assertThat(index.peek(d).keepUntil()).as("never shortened").isEqualTo(NOW + 100);
        index.keepAtLeast(d, 3, NOW + 500);
        assertThat(index.peek(d).keepUntil()).as("another version").isEqualTo(NOW + 100);
        index.keepAtLeast(d, 4, NOW + 500);
        assertThat(index.peek(d).keepUntil()).isEqualTo(NOW + 500);
        index.keepAtLeast(digest(5, 0, 2), 4, NOW + 500);
        assertThat(index.peek(digest(5, 0, 2))).as("absent stays absent").isNull();
    }

    @Test
    void clearForgetsEverythingWithoutReporting() {
        CacheIndex index = index(MANY, NO_BYTE_LIMIT);
        for (int i = 1; i <= 300; i++) {
            put(index, digest(i % 64, i * 7919L, i), i, 2, FAR, i % 5 == 0 ? MARKER : RESPONSE);
        }
        index.clear();

        assertThat(index.slots()).isZero();
        assertThat(index.responses()).isZero();
        assertThat(index.bytes()).isZero();
        for (int i = 1; i <= 300; i++) {
            assertThat(index.peek(digest(i % 64, i * 7919L, i))).isNull();
        }
        assertThat(events).as("the caller deletes the files itself").isEmpty();

        Digest d = digest(1, 7919, 1);
        assertThat(put(index, d, 1, 1, FAR, RESPONSE)).as("usable after clear").isTrue();
        assertThat(index.get(d)).isNotNull();
        assertThat(index.slots()).isEqualTo(1);
    }

    // ---- the table against a model ----

    record Fields(int version, int aux, int keep, int flags) {
        CacheIndex.Slot slot(Digest d) {
            return new CacheIndex.Slot(d, version, aux, keep, flags);
        }

        int kib() {
            return CacheIndex.sizeKiB(flags, aux);
        }
    }

    /**
     * Random puts, replacements, removes (version-checked or not), updates and reads, on 45 digests of one segment
     * whose probes start at nine slots of its 64, in threes (one three at the end, so that its chain wraps into the
     * next; one in the middle, so that its slots sit at their homes), and some that differ in lo only: every chain is
     * long and interleaved with others, and every removal shifts slots back. The table stays at its initial size:
     * 45 is under 0.8 of 64.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void matchesAMapUnderRandomOperationsOnCollidingDigests(long seed) {
        List<Digest> keys = new ArrayList<>();
        long[] homes = {home(0, 64), home(1, 64), home(2, 64), home(30, 64), home(31, 64), home(33, 64),
            home(61, 64), home(62, 64), home(63, 64)};
        for (int id = 1; keys.size() < 40; id++) {
            keys.add(digest(9, homes[id % homes.length], id));
        }
        for (int i = 0; i < 5; i++) { // same hi as keys[i], another lo
            keys.add(new Digest(keys.get(i).hi(), keys.get(i).lo() ^ 0x100));
        }
        runModel(index(MANY, NO_BYTE_LIMIT), keys, new Random(seed), 20_000, 1);
    }

    /**
     * The same from empty through several doublings (64 to 4096 slots) of one segment: 3000 digests whose probes
     * start at 24 places, inserted more than removed, checked against the model every 250 operations.
     */
    @Test
    void matchesAMapWhileASegmentGrowsFromEmpty() {
        Random random = new Random(42);
        long[] homes = new long[24];
        for (int i = 0; i < homes.length; i++) {
            homes[i] = random.nextInt();
        }
        List<Digest> keys = new ArrayList<>();
        for (int id = 1; id <= 3000; id++) {
            keys.add(digest(33, homes[random.nextInt(homes.length)], id));
        }
        CacheIndex index = index(64L * 4000, NO_BYTE_LIMIT);
        int peak = runModel(index, keys, random, 12_000, 250);
        assertThat(peak).as("grew past several doublings").isGreaterThan(2048 * 8 / 10);
    }

    /** Runs random operations; checks counts after each and every key every {@code checkEvery}; the peak size. */
    private int runModel(CacheIndex index, List<Digest> keys, Random random, int operations, int checkEvery) {
        Map<Digest, Fields> model = new HashMap<>();
        Set<Digest> removed = new HashSet<>();
        List<Event> expectedEvents = new ArrayList<>();
        int nextVersion = 1;
        int peak = 0;
        for (int op = 0; op < operations; op++) {
            Digest d = keys.get(random.nextInt(keys.size()));
            Fields current = model.get(d);
            int choice = random.nextInt(10);
            if (choice < 4) {
                Fields f = new Fields(nextVersion++, 1 + random.nextInt(64), FAR + random.nextInt(100),
                        (random.nextInt(4) == 0 ? MARKER : RESPONSE) | (random.nextBoolean() ? VERIFIED : 0));
                assertThat(put(index, d, f.version(), f.aux(), f.keep(), f.flags())).isTrue();
                model.put(d, f);
                removed.remove(d);
            } else if (choice == 4) {
                Fields f = new Fields(nextVersion++, 1 + random.nextInt(64), FAR, RESPONSE);
                assertThat(index.putIfAbsent(d, f.version(), f.aux(), f.keep(), f.flags(), () -> true))
                        .isEqualTo(current == null);
                if (current == null) {
                    model.put(d, f);
                    removed.remove(d);
                }
            } else if (choice < 7) {
                int version = current == null || random.nextInt(4) == 0 ? -1 - random.nextInt(2)
                        : random.nextInt(5) == 0 ? current.version() + 1 : current.version();
                boolean expected = current != null && (version == -1 || version == current.version());
                assertThat(index.remove(d, version)).as("remove %s version %d of %s", d, version, current)
                        .isEqualTo(expected);
                if (expected) {
                    model.remove(d);
                    removed.add(d);
                    expectedEvents.add(new Event(current.slot(d), REMOVED));
                }
            } else if (choice == 7) {
                int version = current != null && random.nextInt(4) != 0 ? current.version() : nextVersion + 1000;
                int newAux = random.nextBoolean() ? -1 : 1 + random.nextInt(64);
                boolean expected = current != null && version == current.version();
                assertThat(index.update(d, version, nextVersion, newAux, FAR + 7, VERIFIED)).isEqualTo(expected);
                if (expected) {
                    model.put(d, new Fields(nextVersion, newAux < 0 ? current.aux() : newAux, FAR + 7,
                            current.flags() | VERIFIED));
                }
                nextVersion++;
            } else {
                CacheIndex.Slot got = index.get(d);
                assertThat(got).as("get %s", d).isEqualTo(current == null ? null : current.slot(d));
            }

            peak = Math.max(peak, model.size());
            assertThat(index.slots()).isEqualTo(model.size());
            assertThat(index.responses())
                    .isEqualTo(model.values().stream().filter(f -> (f.flags() & 3) == RESPONSE).count());
            assertThat(index.bytes()).isEqualTo(1024L * model.values().stream().mapToLong(Fields::kib).sum());
            if (op % checkEvery == 0 || op == operations - 1) {
                for (Map.Entry<Digest, Fields> e : model.entrySet()) {
                    assertThat(index.peek(e.getKey())).as("after op %d: %s must be found", op, e.getKey())
                            .isEqualTo(e.getValue().slot(e.getKey()));
                }
                for (Digest gone : removed) {
                    assertThat(index.peek(gone)).as("after op %d: %s was removed", op, gone).isNull();
                }
            }
        }
        assertThat(events).as("only removals are reported, each once, none evicted or expired")
                .isEqualTo(expectedEvents);
        return peak;
    }

    // ---- CLOCK ----

    /**
     * Four slots in one segment, probing from slots 0..3 of its 6: the hand's order is the insertion order. A new
     * entry has 1, B is read twice (3). Inserting E: the hand takes A to 0, B to 2, C and D to 0, comes round and
     * evicts A. Then C, then D; B (2, then 1) is passed by and stays.
     */
    @Test
    void theHandEvictsTheFirstAtZeroAndAReadEntrySurvivesItsPasses() {
        CacheIndex index = index(FOUR_PER_SEGMENT, NO_BYTE_LIMIT);
        Digest[] d = new Digest[7];
        for (int i = 0; i < d.length; i++) {
            d[i] = digest(7, home(i % SMALL_CAPACITY, SMALL_CAPACITY), i + 1);
        }
        for (int i = 0; i < 4; i++) {
            put(index, d[i], i, 1, FAR, RESPONSE);
        }
        index.get(d[1]);
        index.get(d[1]);
        index.peek(d[0]);
        index.peek(d[0]);
        index.peek(d[0]); // peek is not a use: A stays at 1

        put(index, d[4], 4, 1, FAR, RESPONSE);
        assertThat(events).extracting(e -> e.slot().digest()).containsExactly(d[0]);
        put(index, d[5], 5, 1, FAR, RESPONSE);
        put(index, d[6], 6, 1, FAR, RESPONSE);

        assertThat(events).extracting(e -> e.slot().digest()).as("A, then C, then D: never B")
                .containsExactly(d[0], d[2], d[3]);
        assertThat(events).extracting(Event::why).containsOnly(EVICTED);
        assertThat(index.peek(d[1])).isNotNull();
        assertThat(index.slots()).isEqualTo(4);
    }

    @Test
    void theCounterSaturatesAtThree() {
        CacheIndex index = index(FOUR_PER_SEGMENT, NO_BYTE_LIMIT);
        Digest[] d = new Digest[12];
        for (int i = 0; i < d.length; i++) {
            d[i] = digest(7, home(i % 4, SMALL_CAPACITY), i + 1);
        }
        for (int i = 0; i < 4; i++) {
            put(index, d[i], i, 1, FAR, RESPONSE);
        }
        for (int i = 0; i < 50; i++) {
            index.get(d[0]);
        }
        assertThat(index.peek(d[0])).as("the counter does not spill into the flags")
                .isEqualTo(new CacheIndex.Slot(d[0], 0, 1, FAR, RESPONSE));
        for (int i = 4; i < d.length; i++) {
            put(index, d[i], i, 1, FAR, RESPONSE);
            assertThat(index.slots()).isLessThanOrEqualTo(4);
        }
        assertThat(events).extracting(e -> e.slot().digest()).as("50 reads buy three passes, not fifty")
                .contains(d[0]);
        assertThat(events).extracting(e -> e.slot().digest()).first().as("but not the first eviction")
                .isNotEqualTo(d[0]);
    }

    @Test
    void anEntryReadRepeatedlySurvivesAScanOfOneTimeEntries() {
        CacheIndex index = index(FOUR_PER_SEGMENT, NO_BYTE_LIMIT);
        Random random = new Random(7);
        Digest hot = digest(12, random.nextInt(), 1);
        put(index, hot, 1, 1, FAR, RESPONSE);
        index.get(hot);
        List<Digest> scan = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            Digest once = digest(12, random.nextInt(), i + 2);
            scan.add(once);
            put(index, once, i + 2, 1, FAR, RESPONSE);
            assertThat(index.slots()).as("the per-segment cap").isLessThanOrEqualTo(4);
            assertThat(index.get(hot)).as("hot after %d one-time entries", i + 1).isNotNull();
        }

        assertThat(events).extracting(Event::why).containsOnly(EVICTED);
        assertThat(events).extracting(e -> e.slot().digest()).as("every one-time entry but the last three, once")
                .containsExactlyInAnyOrderElementsOf(scan.stream().filter(d -> !isPresent(index, d)).toList())
                .hasSize(500 - 3)
                .doesNotHaveDuplicates()
                .doesNotContain(hot);
        assertThat(index.slots()).isEqualTo(4);
    }

    @Test
    void withoutReadsTheFirstEntryGoesWithTheScan() {
        CacheIndex index = index(FOUR_PER_SEGMENT, NO_BYTE_LIMIT);
        Random random = new Random(7);
        Digest first = digest(12, random.nextInt(), 1);
        put(index, first, 1, 1, FAR, RESPONSE);
        for (int i = 0; i < 20; i++) {
            put(index, digest(12, random.nextInt(), i + 2), i + 2, 1, FAR, RESPONSE);
        }
        assertThat(index.peek(first)).as("what saves the hot entry above is being read").isNull();
        assertThat(events).extracting(e -> e.slot().digest()).contains(first);
    }

    @Test
    void onlyTheSegmentWrittenEvicts() {
        CacheIndex index = index(FOUR_PER_SEGMENT, NO_BYTE_LIMIT);
        for (int s = 0; s < 64; s++) {
            for (int i = 0; i < 4; i++) {
                put(index, digest(s, home(i, SMALL_CAPACITY), s * 10 + i + 1), 1, 1, FAR, RESPONSE);
            }
        }
        assertThat(index.slots()).isEqualTo(256);
        assertThat(events).as("every segment at its cap, none past it").isEmpty();

        put(index, digest(20, home(5, SMALL_CAPACITY), 9999), 1, 1, FAR, RESPONSE);
        assertThat(events).hasSize(1);
        assertThat(events.get(0).slot().digest().hi() >>> 58).isEqualTo(20);
        assertThat(index.slots()).isEqualTo(256);
    }

    private static boolean isPresent(CacheIndex index, Digest d) {
        return index.peek(d) != null;
    }

    // ---- max bytes ----

    @Test
    void passingMaxBytesEvictsUntilUnderIt() {
        long maxBytes = 100 * 1024;
        CacheIndex index = index(MANY, maxBytes);
        Random random = new Random(11);
        Map<Digest, Integer> inserted = new HashMap<>();
        for (int i = 1; i <= 200; i++) {
            Digest d = new Digest(random.nextLong(), i);
            int kib = 1 + random.nextInt(16);
            put(index, d, i, kib, FAR, RESPONSE);
            inserted.put(d, kib);
            assertThat(index.bytes()).as("after put %d", i).isLessThanOrEqualTo(maxBytes);
        }
        Set<Digest> evicted = new HashSet<>();
        for (Event e : events) {
            assertThat(e.why()).isEqualTo(EVICTED);
            assertThat(evicted.add(e.slot().digest())).as("reported once").isTrue();
        }
        long kept = 0;
        for (Map.Entry<Digest, Integer> e : inserted.entrySet()) {
            CacheIndex.Slot s = index.peek(e.getKey());
            assertThat(s == null).as("absent exactly when reported evicted").isEqualTo(evicted.contains(e.getKey()));
            kept += s == null ? 0 : e.getValue();
        }
        assertThat(evicted).as("most of 200 entries of ~8 KiB do not fit in 100 KiB").hasSizeGreaterThan(150);
        assertThat(index.bytes()).isEqualTo(kept * 1024);
        assertThat(index.slots()).isEqualTo(200 - evicted.size());
    }

    @Test
    void markersCountFourKibAgainstMaxBytes() {
        CacheIndex index = index(MANY, 10 * 1024);
        put(index, digest(1, 0, 1), 1, 1, FAR, MARKER);
        put(index, digest(2, 0, 2), 1, 1, FAR, MARKER);
        assertThat(events).isEmpty();
        put(index, digest(3, 0, 3), 1, 1, FAR, MARKER);
        assertThat(events).as("three blocks of 4 KiB pass 10 KiB").hasSize(1);
        assertThat(index.bytes()).isEqualTo(8 * 1024);
    }

    // ---- expiry ----

    @Test
    void getOfAnExpiredEntryRemovesItAndReportsExpiredOnce() {
        CacheIndex index = index(MANY, NO_BYTE_LIMIT);
        Digest d = digest(4, 0, 1);
        Digest later = digest(4, 0, 2);
        put(index, d, 1, 8, NOW + 10, RESPONSE);
        put(index, later, 2, 8, NOW + 11, RESPONSE);

        now.set(NOW + 9);
        assertThat(index.get(d)).isNotNull();
        now.set(NOW + 10);
        assertThat(index.peek(d)).as("peek takes the slot as it is").isNotNull();
        assertThat(index.get(d)).as("keepUntil <= now is expired").isNull();
        assertThat(index.get(d)).isNull();
        assertThat(index.peek(d)).isNull();
        assertThat(index.get(later)).as("probed past the expired one's old place").isNotNull();

        assertThat(events).containsExactly(new Event(new CacheIndex.Slot(d, 1, 8, NOW + 10, RESPONSE), EXPIRED));
        assertThat(index.slots()).isEqualTo(1);
        assertThat(index.bytes()).isEqualTo(8 * 1024L);
    }

    @Test
    void expireRemovesEveryExpiredSlotInEverySegment() {
        CacheIndex index = index(MANY, NO_BYTE_LIMIT);
        Random random = new Random(5);
        Set<Digest> expiring = new HashSet<>();
        Set<Digest> staying = new HashSet<>();
        long[] homes = {home(62, 64), home(63, 64), home(0, 64)}; // chains that wrap
        for (int i = 1; i <= 600; i++) {
            // half in segment 0 in three crowded chains, half anywhere
            Digest d = i % 2 == 0 ? digest(0, homes[i % 3], i) : new Digest(random.nextLong(), i);
            boolean expires = random.nextInt(3) != 0;
            put(index, d, i, 1, expires ? NOW + 1 + random.nextInt(10) : NOW + 12 + random.nextInt(10), RESPONSE);
            (expires ? expiring : staying).add(d);
        }
        now.set(NOW + 11);

        assertThat(index.expire()).isEqualTo(expiring.size());

        for (Digest d : expiring) {
            assertThat(index.peek(d)).isNull();
        }
        for (Digest d : staying) {
            assertThat(index.peek(d)).as("%s is kept and still found", d).isNotNull();
        }
        assertThat(events).extracting(Event::why).containsOnly(EXPIRED);
        assertThat(events).extracting(e -> e.slot().digest()).containsExactlyInAnyOrderElementsOf(expiring);
        assertThat(index.slots()).isEqualTo(staying.size());
        assertThat(index.expire()).as("nothing left to expire").isZero();
    }

    @Test
    void anExpiredEntryTheHandTakesIsReportedExpired() {
        CacheIndex index = index(FOUR_PER_SEGMENT, NO_BYTE_LIMIT);
        Digest[] d = new Digest[5];
        for (int i = 0; i < d.length; i++) {
            d[i] = digest(7, home(i, SMALL_CAPACITY), i + 1);
        }
        for (int i = 0; i < 4; i++) {
            put(index, d[i], i, 1, i == 2 ? NOW + 5 : FAR, RESPONSE);
            index.get(d[i]);
        }
        now.set(NOW + 5);
        put(index, d[4], 4, 1, FAR, RESPONSE);
        assertThat(events).as("the expired one goes first, and as expired")
                .containsExactly(new Event(new CacheIndex.Slot(d[2], 2, 1, NOW + 5, RESPONSE), EXPIRED));
    }
}
