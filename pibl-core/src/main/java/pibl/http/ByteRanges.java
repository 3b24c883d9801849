package pibl.http;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A {@code Range: bytes=…} request field (RFC 9110 14.1.2), read exactly, and the one range it selects from a
 * representation of a given length.
 *
 * <pre>
 *   Range: bytes=0-499            first 500 bytes            select(10000) -&gt; part 0-499
 *   Range: bytes=9500-            from 9500 to the end       select(10000) -&gt; part 9500-9999
 *   Range: bytes=-500             the last 500 bytes         select(10000) -&gt; part 9500-9999
 *   Range: bytes=0-99999          clamped to the length      select(10000) -&gt; part 0-9999
 *   Range: bytes=20000-           nothing of it              select(10000) -&gt; unsatisfiable (416, bytes &#42;/10000)
 *   Range: bytes=0-0, -1          two ranges                 select(10000) -&gt; whole (200)
 *   Range: bytes=5-3, items=0-1   not a valid bytes range    parse -&gt; null   (the field is ignored: 200)
 * </pre>
 *
 * Several satisfiable ranges select the whole representation: PIBL never sends {@code multipart/byteranges}
 * (Varnish's choice; a full 200 is always a correct answer to a range request, RFC 9110 14.2), so overlapping or
 * many small ranges (CVE-2011-3192) cost nothing. A field with more than {@link #MAX_RANGES} ranges is ignored
 * outright. OWS is allowed around the commas of the list and after {@code bytes=} (as nginx reads it), never
 * inside a range; the unit is case-insensitive; empty list elements are skipped (RFC 9110 5.6.1.2). Positions too
 * large for a {@code long} are read as {@link Long#MAX_VALUE}: beyond any length, which is what they mean.
 */
public final class ByteRanges {
    /** More ranges than this in one field: it is ignored (Apache's MaxRanges defaults to 200). */
    public static final int MAX_RANGES = 100;
    /** In {@link #firsts}: a suffix range; its length is in {@link #lasts}. */
    private static final long SUFFIX = -1;
    /** In {@link #lasts}: an open range ({@code 500-}). */
    private static final long OPEN = -1;

    private final long[] firsts;
    private final long[] lasts;

    private ByteRanges(long[] firsts, long[] lasts) {
        this.firsts = firsts;
        this.lasts = lasts;
    }

    /** What one representation's length makes of the ranges. */
    public enum Kind {
        /** Send the whole representation, a 200: no range applies, or several do. */
        WHOLE,
        /** Send {@link Selection#first()}-{@link Selection#last()}, a 206. */
        PART,
        /** None of the ranges overlaps the representation: 416. */
        UNSATISFIABLE
    }

    /**
     * The answer to a range request for a representation of {@code length} bytes; {@code first} and {@code last}
     * are inclusive offsets, meaningful for {@link Kind#PART} only.
     */
    public record Selection(Kind kind, long first, long last, long length) {
        public static Selection whole(long length) {
            return new Selection(Kind.WHOLE, 0, length - 1, length);
        }

        /** Bytes the answer carries. */
        public long partLength() {
            return kind == Kind.UNSATISFIABLE ? 0 : last - first + 1;
        }

        /** {@code bytes 0-499/10000} for a part, {@code bytes &#42;/10000} when unsatisfiable (RFC 9110 14.4). */
        public String contentRange() {
            return kind == Kind.UNSATISFIABLE ? "bytes */" + length : "bytes " + first + "-" + last + "/" + length;
        }
    }

    /**
     * The ranges of a request's {@code Range} lines, or null when the field is absent or must be ignored: more
     * than one line (it is a singleton), another unit, a syntax error anywhere, a range whose last position is
     * before its first, more than {@link #MAX_RANGES} ranges.
     */
    public static ByteRanges parse(List<String> rangeLines) {
        return rangeLines.size() == 1 ? parse(rangeLines.get(0)) : null;
    }

    /** One {@code Range} field value, as {@link #parse(List)}. */
    public static ByteRanges parse(String value) {
        if (value == null || value.length() < 6 || !value.substring(0, 6).toLowerCase(Locale.ROOT).equals("bytes=")) {
            return null;
        }
        long[] firsts = new long[4];
        long[] lasts = new long[4];
        int n = 0;
        int i = 6;
        int end = value.length();
        while (true) {
            i = skipOws(value, i);
            if (i == end) {
                break;
            }
            if (value.charAt(i) == ',') { // an empty element
                i++;
                continue;
            }
            if (n == MAX_RANGES) {
                return null;
            }
            int dash = value.indexOf('-', i);
            if (dash < 0) {
                return null;
            }
            int specEnd = dash + 1;
            while (specEnd < end && isDigit(value.charAt(specEnd))) {
                specEnd++;
            }
            long first = dash == i ? SUFFIX : number(value, i, dash);
            long last = specEnd == dash + 1 ? OPEN : number(value, dash + 1, specEnd);
            if (first == -2 || last == -2 || (first == SUFFIX && last == OPEN)
                    || (first >= 0 && last != OPEN && last < first)) {
                return null; // a letter in a position, a bare "-", or last-pos before first-pos
            }
            if (n == firsts.length) {
                firsts = Arrays.copyOf(firsts, n * 2);
                lasts = Arrays.copyOf(lasts, n * 2);
            }
            firsts[n] = first;
            lasts[n++] = last;
            i = skipOws(value, specEnd);
            if (i < end && value.charAt(i) != ',') {
                return null; // something after a range that is not the next element
            }
        }
        return n == 0 ? null : new ByteRanges(Arrays.copyOf(firsts, n), Arrays.copyOf(lasts, n));
    }

    /** Ranges in the field. */
    public int count() {
        return firsts.length;
    }

    /**
     * RFC 9110 14.1.1-14.1.2 against a representation of {@code length} bytes: an int range is satisfiable when it
     * starts before the end (its last position is clamped to the end), a suffix range when its length is not 0 (a
     * suffix longer than the representation is all of it). One satisfiable range is a part, none is
     * unsatisfiable, several are the whole. An empty representation has no part to send: a satisfiable suffix
     * range gets it whole.
     */
    public Selection select(long length) {
        Selection chosen = null;
        for (int r = 0; r < firsts.length; r++) {
            long first;
            long last;
            if (firsts[r] == SUFFIX) {
                if (lasts[r] == 0) {
                    continue;
                }
                first = Math.max(0, length - lasts[r]);
                last = length - 1;
            } else {
                if (firsts[r] >= length) {
                    continue;
                }
                first = firsts[r];
                last = lasts[r] == OPEN ? length - 1 : Math.min(lasts[r], length - 1);
            }
            if (chosen != null || length == 0) {
                return Selection.whole(length);
            }
            chosen = new Selection(Kind.PART, first, last, length);
        }
        return chosen != null ? chosen : new Selection(Kind.UNSATISFIABLE, 0, -1, length);
    }

    /** The decimal digits {@code s[from, to)} (at least one), saturating at {@link Long#MAX_VALUE}; -2 if not. */
    private static long number(String s, int from, int to) {
        if (from == to) {
            return -2;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!isDigit(c)) {
                return -2;
            }
            v = v > (Long.MAX_VALUE - 9) / 10 ? Long.MAX_VALUE : v * 10 + (c - '0');
        }
        return v;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static int skipOws(String s, int i) {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
            i++;
        }
        return i;
    }
}
