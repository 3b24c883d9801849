package pibl.cache;

/**
 * The timing facts of one stored response, fixed when it is stored or refreshed, from which every later
 * "fresh? how old? may it be served stale?" question is answered against a clock (all times epoch millis,
 * all durations millis).
 *
 * <p>Age follows RFC 9111 4.2.3: {@code current_age = corrected_initial_age + (now - response_time)}, and a
 * response is fresh while {@code freshness_lifetime > current_age}, that is until {@link #freshUntil()}.
 *
 * @param responseTime          when the response (or the 304 that refreshed it) was received
 * @param correctedInitialAge   RFC 9111 4.2.3 {@code corrected_initial_age}
 * @param lifetime              RFC 9111 4.2.1 {@code freshness_lifetime} (the launch TTL when the origin gave none)
 * @param staleWhileRevalidate  the response's {@code stale-while-revalidate} window (RFC 5861), 0 if none
 * @param staleIfError          the response's {@code stale-if-error} window (RFC 5861), 0 if none
 * @param noCache               the response said {@code no-cache}: never served without revalidation
 * @param mustRevalidate        {@code must-revalidate}, {@code proxy-revalidate} or {@code s-maxage}: never served
 *                              stale, except under the origin's own {@code stale-if-error}
 */
public record Freshness(long responseTime, long correctedInitialAge, long lifetime, long staleWhileRevalidate,
                        long staleIfError, boolean noCache, boolean mustRevalidate) {

    /** The instant at which the response stops being fresh. */
    public long freshUntil() {
        return saturatedAdd(responseTime, lifetime - correctedInitialAge);
    }

    /** RFC 9111 4.2.3 {@code current_age}, in millis; a clock that went backwards adds no resident time. */
    public long currentAge(long now) {
        return correctedInitialAge + Math.max(0, now - responseTime);
    }

    /** The value for the {@code Age} response header: whole seconds of {@link #currentAge(long)}. */
    public long ageSeconds(long now) {
        return currentAge(now) / 1000;
    }

    /** Fresh and allowed to be served without contacting the origin (no {@code no-cache}). */
    public boolean isFresh(long now) {
        return !noCache && now < freshUntil();
    }

    /** How long past its freshness the response is at {@code now}; 0 while fresh. */
    public long staleness(long now) {
        return Math.max(0, now - freshUntil());
    }

    static long saturatedAdd(long a, long b) {
        long r = a + b;
        if (((a ^ r) & (b ^ r)) < 0) {
            return b > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
        }
        return r;
    }
}
