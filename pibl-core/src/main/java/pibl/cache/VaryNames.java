package pibl.cache;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The distinct lists of Vary field names in use, interned: an index marker holds a small id instead of a list. A
 * site has a handful ({@code accept-encoding}; {@code accept-encoding, origin}); the table holds at most
 * {@link #MAX} so that no response can make it grow without bound, and a response with yet another list is
 * simply not stored once it is full.
 */
final class VaryNames {
    static final int MAX = 4096;

    private final Map<List<String>, Integer> ids = new HashMap<>();
    private final List<List<String>> lists = new ArrayList<>();

    /** The id of {@code names}, or -1 if the table is full. */
    synchronized int intern(List<String> names) {
        Integer id = ids.get(names);
        if (id != null) {
            return id;
        }
        if (lists.size() >= MAX) {
            return -1;
        }
        List<String> copy = List.copyOf(names);
        lists.add(copy);
        ids.put(copy, lists.size() - 1);
        return lists.size() - 1;
    }

    /** The names of an id {@link #intern} gave, or null. */
    synchronized List<String> names(int id) {
        return id >= 0 && id < lists.size() ? lists.get(id) : null;
    }
}
