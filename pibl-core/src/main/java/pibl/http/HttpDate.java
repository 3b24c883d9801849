package pibl.http;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;

/**
 * {@code HTTP-date} exactly as RFC 9110 section 5.6.7 defines it, and nothing else. Netty's {@code DateFormatter}
 * is lenient (it reads "0", two-digit years, missing commas and single-digit hours as dates), which is right for a
 * browser and wrong for a cache: RFC 9111 section 5.3 says an {@code Expires} that is not a valid date means
 * "already expired", so a lenient read serves fresh what the origin never made fresh.
 *
 * <pre>
 *   IMF-fixdate   Sun, 06 Nov 1994 08:49:37 GMT      the one senders must use
 *   rfc850-date   Sunday, 06-Nov-94 08:49:37 GMT     obsolete; a year more than 50 years ahead is the century before
 *   asctime-date  Sun Nov  6 08:49:37 1994           obsolete
 * </pre>
 *
 * Names are case-sensitive, every space is exactly one, fields have exactly their digits; the day must exist in its
 * month. The day name is checked as a name, not against the date (RFC 9110 does not ask a recipient to).
 */
public final class HttpDate {
    private static final List<String> DAYS = List.of("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun");
    private static final List<String> LONG_DAYS =
            List.of("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday");
    private static final List<String> MONTHS =
            List.of("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec");

    private HttpDate() {
    }

    /** Epoch millis of {@code value} read as an HTTP-date, or -1 if it is not one. */
    public static long parse(CharSequence value) {
        if (value == null) {
            return -1;
        }
        String s = value.toString();
        try {
            if (s.length() == 29 && s.charAt(3) == ',') {
                return imfFixdate(s);
            }
            if (s.length() == 24 && s.charAt(3) == ' ') {
                return asctime(s);
            }
            int comma = s.indexOf(',');
            if (comma > 0 && LONG_DAYS.contains(s.substring(0, comma))) {
                return rfc850(s.substring(comma + 1), nowYear());
            }
        } catch (DateTimeException | IndexOutOfBoundsException e) {
            return -1;
        }
        return -1;
    }

    /** {@code Sun, 06 Nov 1994 08:49:37 GMT} */
    private static long imfFixdate(String s) {
        if (!DAYS.contains(s.substring(0, 3)) || !s.startsWith(", ", 3) || s.charAt(7) != ' ' || s.charAt(11) != ' '
                || s.charAt(16) != ' ' || !s.endsWith(" GMT")) {
            return -1;
        }
        int day = digits(s, 5, 2);
        int month = MONTHS.indexOf(s.substring(8, 11)) + 1;
        int year = digits(s, 12, 4);
        return at(year, month, day, s, 17);
    }

    /** {@code  06-Nov-94 08:49:37 GMT} (what follows the day name's comma) */
    static long rfc850(String s, int nowYear) {
        if (s.length() != 23 || s.charAt(0) != ' ' || s.charAt(3) != '-' || s.charAt(7) != '-' || s.charAt(10) != ' '
                || !s.endsWith(" GMT")) {
            return -1;
        }
        int day = digits(s, 1, 2);
        int month = MONTHS.indexOf(s.substring(4, 7)) + 1;
        int yy = digits(s, 8, 2);
        if (yy < 0) {
            return -1;
        }
        int year = nowYear / 100 * 100 + yy;
        if (year > nowYear + 50) { // RFC 9110 5.6.7: more than 50 years ahead means the century before
            year -= 100;
        }
        return at(year, month, day, s, 11);
    }

    /** {@code Sun Nov  6 08:49:37 1994} */
    private static long asctime(String s) {
        if (!DAYS.contains(s.substring(0, 3)) || s.charAt(7) != ' ' || s.charAt(10) != ' ' || s.charAt(19) != ' ') {
            return -1;
        }
        int month = MONTHS.indexOf(s.substring(4, 7)) + 1;
        int day = s.charAt(8) == ' ' ? digits(s, 9, 1) : digits(s, 8, 2);
        if (s.charAt(8) == ' ' && day == 0) {
            return -1;
        }
        int year = digits(s, 20, 4);
        return at(year, month, day, s, 11);
    }

    /** The instant of a date and the {@code HH:MM:SS} at {@code t}; -1 if any part is missing or out of range. */
    private static long at(int year, int month, int day, String s, int t) {
        if (s.charAt(t + 2) != ':' || s.charAt(t + 5) != ':') {
            return -1;
        }
        int hour = digits(s, t, 2);
        int minute = digits(s, t + 3, 2);
        int second = digits(s, t + 6, 2);
        if (year < 0 || month < 1 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0
                || second > 60) {
            return -1;
        }
        LocalDate date = LocalDate.of(year, month, day); // throws for a day its month does not have
        LocalDateTime time = date.atTime(hour, minute, Math.min(second, 59)); // a leap second reads as :59
        return time.toInstant(ZoneOffset.UTC).toEpochMilli() + (second == 60 ? 1000 : 0);
    }

    /** The {@code n} decimal digits at {@code from}, or -1 if they are not all digits. */
    private static int digits(String s, int from, int n) {
        int v = 0;
        for (int i = from; i < from + n; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static int nowYear() {
        return LocalDate.now(ZoneOffset.UTC).getYear();
    }
}
