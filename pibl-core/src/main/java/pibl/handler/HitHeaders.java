package pibl.handler;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;

/**
 * The header fields of a response served from storage: the stored fields, read in place and never changed, under
 * the few fields this response sets, adds or removes ({@code Age}, {@code X-Cache}, {@code Via}, the request id,
 * the range fields). Copying the stored fields into a fresh {@code DefaultHttpHeaders} for every hit was most of
 * what a 1 KiB hit allocated (a 16-slot table and an entry per field); this is one object and two small arrays.
 *
 * <p>A name's values are all in one layer: below (stored, not hidden) or above (this response's). Setting or
 * removing a name hides it below; adding to a stored name first lifts its stored values up, so the values of a
 * name keep their order, as in {@code DefaultHttpHeaders}, where a name that is set also moves to the end.
 *
 * <pre>
 *   stored   Cache-Control: max-age=60 · ETag: "a" · Via: 1.1 b1
 *   then     set(Age, 3) · add(Via, 1.1 pibl) · remove(ETag)
 *   fields   Cache-Control: max-age=60 · Age: 3 · Via: 1.1 b1 · Via: 1.1 pibl
 * </pre>
 *
 * The values PIBL sets are trusted as the stored ones are: nothing here validates. {@link #iteratorCharSequence()}
 * hands out every field through one reused entry, valid until the next call to {@code next()} (as
 * {@code ReadOnlyHttpHeaders}, the stored fields' own type, does: the encoders read each field at once); {@link #iterator()} and {@link #entries()} give entries of their own.
 * The stored fields must not change while this view is in use: stored heads never change (an update stores a new
 * entry), so a view may be read on any thread.
 */
final class HitHeaders extends HttpHeaders {
    private final HttpHeaders stored;
    /** Names hidden below, {@code hiddenCount} of them; {@code allHidden} after {@link #clear()}. */
    private CharSequence[] hidden = new CharSequence[4];
    private int hiddenCount;
    private boolean allHidden;
    /** This response's fields, name and value in turn, {@code ownCount} fields. */
    private CharSequence[] own = new CharSequence[12];
    private int ownCount;

    HitHeaders(HttpHeaders stored) {
        this.stored = stored;
    }

    // ------------------------------------------------------------------ the two layers

    private boolean isHidden(CharSequence name) {
        if (allHidden) {
            return true;
        }
        for (int i = 0; i < hiddenCount; i++) {
            if (AsciiString.contentEqualsIgnoreCase(hidden[i], name)) {
                return true;
            }
        }
        return false;
    }

    /** True when {@code name}'s values are the stored ones. */
    private boolean below(CharSequence name) {
        return !isHidden(name) && stored.contains(name);
    }

    private void hide(CharSequence name) {
        if (isHidden(name)) {
            return;
        }
        if (hiddenCount == hidden.length) {
            hidden = Arrays.copyOf(hidden, hiddenCount * 2);
        }
        hidden[hiddenCount++] = name;
    }

    /** Moves a stored name's values up, so that a value added to them comes after them. */
    private void lift(CharSequence name) {
        if (!below(name)) {
            return;
        }
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = stored.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> f = it.next();
            if (AsciiString.contentEqualsIgnoreCase(f.getKey(), name)) {
                append(f.getKey(), f.getValue()); // as stored, spelling included
            }
        }
        hide(name);
    }

    private void append(CharSequence name, CharSequence value) {
        int at = ownCount * 2;
        if (at == own.length) {
            own = Arrays.copyOf(own, own.length * 2);
        }
        own[at] = name;
        own[at + 1] = value;
        ownCount++;
    }

    private int ownIndex(CharSequence name, int from) {
        for (int i = from; i < ownCount; i++) {
            if (AsciiString.contentEqualsIgnoreCase(own[i * 2], name)) {
                return i;
            }
        }
        return -1;
    }

    private void removeOwn(CharSequence name) {
        int kept = 0;
        for (int i = 0; i < ownCount; i++) {
            if (!AsciiString.contentEqualsIgnoreCase(own[i * 2], name)) {
                own[kept * 2] = own[i * 2];
                own[kept * 2 + 1] = own[i * 2 + 1];
                kept++;
            }
        }
        Arrays.fill(own, kept * 2, ownCount * 2, null);
        ownCount = kept;
    }

    private static CharSequence text(Object value) {
        if (value instanceof CharSequence s) {
            return s;
        }
        if (value instanceof Date d) {
            return DateFormatter.format(d);
        }
        if (value instanceof Calendar c) {
            return DateFormatter.format(c.getTime());
        }
        if (value == null) {
            throw new NullPointerException("value");
        }
        return value.toString();
    }

    // ------------------------------------------------------------------ reading

    @Override
    public String get(String name) {
        return get((CharSequence) name);
    }

    @Override
    public String get(CharSequence name) {
        if (below(name)) {
            return stored.get(name);
        }
        int i = ownIndex(name, 0);
        return i < 0 ? null : own[i * 2 + 1].toString();
    }

    @Override
    public Integer getInt(CharSequence name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public int getInt(CharSequence name, int defaultValue) {
        Integer v = getInt(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Short getShort(CharSequence name) {
        Integer v = getInt(name);
        return v == null || v < Short.MIN_VALUE || v > Short.MAX_VALUE ? null : v.shortValue();
    }

    @Override
    public short getShort(CharSequence name, short defaultValue) {
        Short v = getShort(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Long getTimeMillis(CharSequence name) {
        String v = get(name);
        Date d = v == null ? null : DateFormatter.parseHttpDate(v);
        return d == null ? null : d.getTime();
    }

    @Override
    public long getTimeMillis(CharSequence name, long defaultValue) {
        Long v = getTimeMillis(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public List<String> getAll(String name) {
        return getAll((CharSequence) name);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        if (below(name)) {
            return stored.getAll(name);
        }
        List<String> values = new ArrayList<>(2);
        for (int i = ownIndex(name, 0); i >= 0; i = ownIndex(name, i + 1)) {
            values.add(own[i * 2 + 1].toString());
        }
        return values;
    }

    @Override
    public Iterator<String> valueStringIterator(CharSequence name) {
        return getAll(name).iterator();
    }

    @Override
    public Iterator<? extends CharSequence> valueCharSequenceIterator(CharSequence name) {
        if (below(name)) {
            // Not stored.valueCharSequenceIterator: ReadOnlyHttpHeaders' (Netty 4.2.18) never moves past the
            // first value, so it never ends.
            return stored.getAll(name).iterator();
        }
        int first = ownIndex(name, 0);
        if (first < 0) {
            return Collections.emptyIterator();
        }
        return new Iterator<CharSequence>() {
            private int next = first;

            @Override
            public boolean hasNext() {
                return next >= 0;
            }

            @Override
            public CharSequence next() {
                if (next < 0) {
                    throw new NoSuchElementException();
                }
                CharSequence v = own[next * 2 + 1];
                next = ownIndex(name, next + 1);
                return v;
            }
        };
    }

    @Override
    public boolean contains(String name) {
        return contains((CharSequence) name);
    }

    @Override
    public boolean contains(CharSequence name) {
        return below(name) || ownIndex(name, 0) >= 0;
    }

    @Override
    public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (Iterator<? extends CharSequence> it = valueCharSequenceIterator(name); it.hasNext(); ) {
            CharSequence v = it.next();
            if (ignoreCase ? AsciiString.contentEqualsIgnoreCase(v, value) : AsciiString.contentEquals(v, value)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean contains(String name, String value, boolean ignoreCase) {
        return contains((CharSequence) name, value, ignoreCase);
    }

    @Override
    public boolean isEmpty() {
        return size() == 0;
    }

    @Override
    public int size() {
        int n = ownCount;
        if (!allHidden) {
            for (Iterator<Map.Entry<CharSequence, CharSequence>> it = stored.iteratorCharSequence(); it.hasNext(); ) {
                if (!isHidden(it.next().getKey())) {
                    n++;
                }
            }
        }
        return n;
    }

    @Override
    public Set<String> names() {
        Set<String> names = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = iteratorCharSequence(); it.hasNext(); ) {
            names.add(it.next().getKey().toString());
        }
        return names;
    }

    @Override
    public List<Map.Entry<String, String>> entries() {
        List<Map.Entry<String, String>> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, String>> it = iterator(); it.hasNext(); ) {
            entries.add(it.next());
        }
        return entries;
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        Iterator<Map.Entry<CharSequence, CharSequence>> fields = iteratorCharSequence();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return fields.hasNext();
            }

            @Override
            public Map.Entry<String, String> next() {
                Map.Entry<CharSequence, CharSequence> f = fields.next();
                return new AbstractMap.SimpleImmutableEntry<>(f.getKey().toString(), f.getValue().toString());
            }
        };
    }

    @Override
    public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
        return new Fields();
    }

    /**
     * The stored fields not hidden, then this response's, each handed out as the iterator itself. The stored
     * fields' own iterator may hand out one reused entry too ({@code ReadOnlyHttpHeaders} does): a field found
     * ahead is kept as its name and value, never as that entry.
     */
    private final class Fields implements Iterator<Map.Entry<CharSequence, CharSequence>>,
            Map.Entry<CharSequence, CharSequence> {
        private final Iterator<Map.Entry<CharSequence, CharSequence>> below =
                allHidden ? Collections.emptyIterator() : stored.iteratorCharSequence();
        private CharSequence nextName;
        private CharSequence nextValue;
        private int nextOwn;
        private CharSequence name;
        private CharSequence value;

        Fields() {
            findBelow();
        }

        private void findBelow() {
            nextName = null;
            while (below.hasNext()) {
                Map.Entry<CharSequence, CharSequence> f = below.next();
                if (!isHidden(f.getKey())) {
                    nextName = f.getKey();
                    nextValue = f.getValue();
                    return;
                }
            }
        }

        @Override
        public boolean hasNext() {
            return nextName != null || nextOwn < ownCount;
        }

        @Override
        public Map.Entry<CharSequence, CharSequence> next() {
            if (nextName != null) {
                name = nextName;
                value = nextValue;
                findBelow();
            } else if (nextOwn < ownCount) {
                name = own[nextOwn * 2];
                value = own[nextOwn * 2 + 1];
                nextOwn++;
            } else {
                throw new NoSuchElementException();
            }
            return this;
        }

        @Override
        public CharSequence getKey() {
            return name;
        }

        @Override
        public CharSequence getValue() {
            return value;
        }

        @Override
        public CharSequence setValue(CharSequence value) {
            throw new UnsupportedOperationException();
        }
    }

    // ------------------------------------------------------------------ writing

    @Override
    public HttpHeaders add(String name, Object value) {
        return add((CharSequence) name, value);
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
        lift(name);
        append(name, text(value));
        return this;
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        return add((CharSequence) name, values);
    }

    @Override
    public HttpHeaders add(CharSequence name, Iterable<?> values) {
        lift(name);
        for (Object v : values) {
            append(name, text(v));
        }
        return this;
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        return add(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        return add(name, Short.toString(value));
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        return set((CharSequence) name, value);
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
        CharSequence v = text(value);
        remove(name);
        append(name, v);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        return set((CharSequence) name, values);
    }

    @Override
    public HttpHeaders set(CharSequence name, Iterable<?> values) {
        remove(name);
        return add(name, values); // nothing left below to lift
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        return set(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        return set(name, Short.toString(value));
    }

    @Override
    public HttpHeaders remove(String name) {
        return remove((CharSequence) name);
    }

    @Override
    public HttpHeaders remove(CharSequence name) {
        if (stored.contains(name)) {
            hide(name);
        }
        removeOwn(name);
        return this;
    }

    @Override
    public HttpHeaders clear() {
        allHidden = true;
        Arrays.fill(own, null);
        ownCount = 0;
        return this;
    }
}
