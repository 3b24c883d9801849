package pibl.lb;

import io.netty.handler.codec.http.HttpRequest;
import pibl.config.BalanceConfig.HashKey;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * {@code hash}: consistent hashing of the request's {@link HashKeys key} on a ring, with bounded loads (Mirrokni,
 * Thorup and Zadimoghaddam, "Consistent Hashing with Bounded Loads"; HAProxy's {@code hash-balance-factor}).
 *
 * <pre>
 * ring     each backend's points at hash("127.0.0.1:9001#0"), hash("…#1"), …: 256 per unit of weight, sorted
 * pick     the first point at or after the key's hash (binary search), then clockwise to the first backend that is
 *          in rotation, not tried for this request, and under its capacity
 * capacity ceil(bounded-load × (in flight in the pool + 1) × its share), its share = weight / the weights of the
 *          backends in rotation; bounded-load 0 = no bound
 *
 * 3 backends, bounded-load 1.25, 8 in flight (a 4, b 2, c 2): capacity ceil(1.25 × 9 / 3) = 4
 *   key → a (4 in flight: full) → next point c (2) → c
 * </pre>
 *
 * A key keeps its backend while the pool is stable and that backend is not over its bound. A backend's points
 * depend on its address and its own weight only, so a backend leaving (or out of rotation) moves its own keys and
 * no other, each to the next backend clockwise, and they come back when it returns. That is why its points are a
 * number per unit of weight rather than a fixed total shared out: a share of a fixed total changes everyone's
 * points when one leaves. Past {@value #MAX_POINTS} points in all (weights adding up to more than 1024) the points
 * per weight shrink to fit, and then a change of the pool moves some keys between the others too.
 *
 * <p>A request without a key (a missing header or cookie) goes to {@link LeastRequestBalancer} among the same
 * candidates. In {@link Panic} the walk takes the first untried backend whatever its health and load. A backend in
 * its {@link SlowStart} counts its weight times the ramp factor in the shares, so its capacity is about that factor
 * of the normal one; without a bound, it keeps the same fraction of its keys (a fixed fraction, by key: a session
 * does not flip between two backends while it ramps).
 *
 * <p>The ring is immutable, built once per configuration; a pick is a binary search, a short walk and one pass
 * over the backends for the loads, no lock, nothing allocated.
 */
public final class HashBalancer implements LoadBalancer {
    static final int POINTS_PER_WEIGHT = 256;
    static final int MAX_POINTS = 1 << 18;

    private final List<Backend> list;
    private final Backend[] backends;
    /** The ring: point hashes in ascending order, and the backend (index) of each. */
    private final long[] points;
    private final int[] owners;
    private final HashKey hashKey;
    private final double boundedLoad;
    private final Panic panic;
    private final LeastRequestBalancer unkeyed;

    public HashBalancer(List<Backend> backends, HashKey hashKey, double boundedLoad) {
        this(backends, hashKey, boundedLoad, new Panic(), null);
    }

    HashBalancer(List<Backend> backends, HashKey hashKey, double boundedLoad, Panic panic, RandomGenerator random) {
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("no backends");
        }
        this.list = List.copyOf(backends);
        this.backends = list.toArray(new Backend[0]);
        this.hashKey = hashKey;
        this.boundedLoad = boundedLoad;
        this.panic = panic;
        this.unkeyed = new LeastRequestBalancer(list, panic, random);
        long totalWeight = 0;
        for (Backend b : this.backends) {
            totalWeight += Math.max(1, b.weight());
        }
        int perWeight = (int) Math.max(1, Math.min(POINTS_PER_WEIGHT, MAX_POINTS / totalWeight));
        int size = 0;
        for (Backend b : this.backends) {
            size += perWeight * Math.max(1, b.weight());
        }
        long[] packedHashes = new long[size];
        int[] packedOwners = new int[size];
        Integer[] order = new Integer[size];
        Map<String, Integer> sameAddress = new HashMap<>();
        int p = 0;
        for (int i = 0; i < this.backends.length; i++) {
            Backend b = this.backends[i];
            int copy = sameAddress.merge(b.label(), 1, Integer::sum);
            String name = copy == 1 ? b.label() : b.label() + "/" + copy; // the same address twice: distinct points
            int count = perWeight * Math.max(1, b.weight());
            for (int j = 0; j < count; j++) {
                packedHashes[p] = HashKeys.hash(name + "#" + j);
                packedOwners[p] = i;
                order[p] = p;
                p++;
            }
        }
        Arrays.sort(order, (x, y) -> {
            int c = Long.compare(packedHashes[x], packedHashes[y]);
            return c != 0 ? c : Integer.compare(packedOwners[x], packedOwners[y]);
        });
        this.points = new long[size];
        this.owners = new int[size];
        for (int k = 0; k < size; k++) {
            points[k] = packedHashes[order[k]];
            owners[k] = packedOwners[order[k]];
        }
    }

    @Override
    public long key(HttpRequest request, String clientAddress) {
        return HashKeys.of(hashKey, request, clientAddress);
    }

    @Override
    public Backend pick(List<Backend> tried, long key) {
        if (key == HashKeys.NONE) {
            return unkeyed.pick(tried);
        }
        int start = start(key);
        long inFlight = 0;
        double shares = 0;
        for (Backend b : backends) {
            if (b.isAvailable()) {
                inFlight += b.inFlight();
                shares += TwoChoices.share(b);
            }
        }
        boolean bounded = boundedLoad > 0;
        double perShare = bounded ? boundedLoad * (inFlight + 1) / shares : 0;
        double keyFraction = bounded ? 0 : fraction(key);
        Backend full = null;
        int n = backends.length;
        long seen = 0;
        int distinct = 0;
        for (int k = 0; k < points.length && (n > 64 || distinct < n); k++) {
            int owner = owners[(start + k) % points.length];
            if (n <= 64) {
                long bit = 1L << owner;
                if ((seen & bit) != 0) {
                    continue;
                }
                seen |= bit;
                distinct++;
            }
            Backend b = backends[owner];
            if (tried.contains(b) || !b.isAvailable()) {
                continue;
            }
            if (bounded) {
                if (b.inFlight() < Math.ceil(perShare * TwoChoices.share(b))) {
                    return panic.inRotation(b);
                }
            } else if (keyFraction < b.rampFactor()) {
                return panic.inRotation(b);
            }
            if (full == null) {
                full = b;
            }
        }
        if (full != null) {
            return panic.inRotation(full); // every candidate at its bound (some were tried) or ramping: the nearest
        }
        if (!panic.engaged(list, tried)) {
            return null;
        }
        for (int k = 0; k < points.length; k++) {
            Backend b = backends[owners[(start + k) % points.length]];
            if (!tried.contains(b)) {
                return panic.sent(b);
            }
        }
        return panic.sent(null);
    }

    /** The index of the first point at or after {@code key}, wrapping to 0 past the last. */
    private int start(long key) {
        int i = Arrays.binarySearch(points, key);
        if (i < 0) {
            i = -i - 1;
        } else {
            while (i > 0 && points[i - 1] == key) {
                i--;
            }
        }
        return i == points.length ? 0 : i;
    }

    /** Where {@code key} falls in 0..1, independently of its place on the ring: which keys a ramping backend keeps. */
    private static double fraction(long key) {
        return (HashKeys.mix(key ^ 0x9e3779b97f4a7c15L) >>> 11) * 0x1.0p-53;
    }

    /** The ring's size (tests check how the points are shared out). */
    int points() {
        return points.length;
    }

    @Override
    public String policy() {
        return String.format(Locale.ROOT, "hash (%s, bounded-load %s)", hashKey,
                boundedLoad > 0 ? Double.toString(boundedLoad) : "off");
    }

    @Override
    public List<Backend> backends() {
        return list;
    }

    @Override
    public Panic panic() {
        return panic;
    }
}
