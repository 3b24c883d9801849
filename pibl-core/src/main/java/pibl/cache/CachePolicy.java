package pibl.cache;

import io.netty.handler.codec.DateFormatter;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import pibl.config.CacheConfig;
import pibl.http.HopByHop;
import pibl.http.HttpDate;

import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The RFC 9111 decisions of a shared cache, as pure functions of headers, status codes, configuration and a clock
 * reading. Nothing here touches a channel, a file or the current time.
 *
 * <pre>
 *   GET /a                       HTTP/1.1 200 OK
 *   (no Authorization)           Cache-Control: public, max-age=60, stale-while-revalidate=30
 *                                ETag: "v1"
 *     isStorable            -&gt; true
 *     freshness(...)        -&gt; lifetime 60 s, stale-while-revalidate 30 s
 *     reuse(f, req, +10 s)  -&gt; FRESH                  (serve, Age: 10)
 *     reuse(f, req, +70 s)  -&gt; STALE_WHILE_REVALIDATE (serve, refresh in background)
 *     reuse(f, req, +95 s)  -&gt; REVALIDATE             (If-None-Match: "v1" to the backend)
 * </pre>
 *
 * Conditional requests are in {@link Conditionals}, secondary keys in {@link Vary}, invalidation by unsafe
 * methods in {@link Invalidation}, what a 304 or a HEAD does to a stored response in {@link StoredUpdate}.
 */
public final class CachePolicy {
    /** RFC 9110 15.1: status codes cacheable by default (206 left out: partial content is never stored). */
    private static final Set<Integer> HEURISTICALLY_CACHEABLE = Set.of(200, 203, 204, 300, 301, 308, 404, 405, 410,
            414, 501);
    /**
     * The statuses whose caching rules PIBL implements, for {@code must-understand} (RFC 9111 5.2.2.3): those above
     * and the redirects it stores with explicit freshness. Not 206 (PIBL stores no partial content) nor any status
     * it does not know.
     */
    private static final Set<Integer> UNDERSTOOD =
            Stream.concat(HEURISTICALLY_CACHEABLE.stream(), Stream.of(302, 303, 307))
                    .collect(Collectors.toUnmodifiableSet());

    /** Besides the hop-by-hop fields: those of the proxy hop, never stored nor copied from a 304 (RFC 9111 3.1). */
    private static final Set<String> PROXY_FIELDS = Set.of("proxy-authenticate", "proxy-authentication-info",
            "proxy-authorization");

    private CachePolicy() {
    }

    /** What to do with a stored response for a request. */
    public enum Reuse {
        /** Serve it: fresh enough for this request ({@link CacheStatus#HIT}). */
        FRESH,
        /** Serve it stale: the client allowed it with {@code max-stale} ({@link CacheStatus#STALE}). */
        STALE,
        /** Serve it stale now and revalidate it in the background ({@link CacheStatus#STALE}). */
        STALE_WHILE_REVALIDATE,
        /** Ask the backend first, conditionally when the entry has validators. */
        REVALIDATE,
        /** The client sent {@code only-if-cached} and nothing stored may be served: answer 504. */
        GATEWAY_TIMEOUT
    }

    // ---- the request ----

    /**
     * Whether a request may be answered from the cache at all: GET or HEAD, and no preconditions only the origin
     * can evaluate ({@code If-Match}, {@code If-Unmodified-Since}; {@code If-Range} is {@link RangeRequest}'s to
     * evaluate against the stored response). Other requests are forwarded
     * ({@link CacheStatus#BYPASS}); unsafe ones may still invalidate (see {@link Invalidation}).
     */
    public static boolean isLookupAllowed(HttpMethod method, HttpHeaders requestHeaders) {
        return (HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method))
                && !requestHeaders.contains(HttpHeaderNames.IF_MATCH)
                && !requestHeaders.contains(HttpHeaderNames.IF_UNMODIFIED_SINCE);
    }

    /** {@code Cache-Control: only-if-cached}: with nothing servable stored, answer 504 (RFC 9111 5.2.1.7). */
    public static boolean onlyIfCached(HttpHeaders requestHeaders) {
        return CacheControl.of(requestHeaders).has("only-if-cached");
    }

    // ---- storing ----

    /**
     * RFC 9111 3: may this response be stored by a shared cache? Only GET responses are stored (HEAD is answered
     * from a stored GET). Never with {@code no-store} on either side, {@code private}, {@code Vary: *}, or
     * {@code Set-Cookie} unless configured. A request with {@code Authorization} only when the response says
     * {@code public}, {@code s-maxage} or {@code must-revalidate} (3.5). The status must be cacheable by default
     * or the response must carry explicit freshness or {@code public}. Finally the entry must be reusable at all:
     * some freshness lifetime, a validator, or the origin's {@code stale-if-error}.
     */
    public static boolean isStorable(HttpMethod method, HttpHeaders requestHeaders, int status,
                                     HttpHeaders responseHeaders, CacheConfig cfg) {
        if (!HttpMethod.GET.equals(method) || status < 200 || status == 206 || status == 304) {
            return false;
        }
        CacheControl req = CacheControl.of(requestHeaders);
        CacheControl resp = CacheControl.ofResponse(responseHeaders, cfg.targetedField());
        if (resp.has("must-understand") && !UNDERSTOOD.contains(status)) {
            return false;
        }
        if (req.has("no-store") || responseNoStore(resp) || resp.has("private")) {
            return false;
        }
        if (requestHeaders.contains(HttpHeaderNames.AUTHORIZATION)
                && !(resp.has("public") || resp.has("s-maxage") || resp.has("must-revalidate"))) {
            return false;
        }
        if (!cfg.storeSetCookie() && (responseHeaders.contains(HttpHeaderNames.SET_COOKIE)
                || responseHeaders.contains("set-cookie2"))) {
            return false;
        }
        if (Vary.isWildcard(responseHeaders)) {
            return false;
        }
        boolean explicit = hasExplicitFreshness(resp, responseHeaders);
        if (!HEURISTICALLY_CACHEABLE.contains(status) && !explicit && !resp.has("public")) {
            return false;
        }
        boolean fresh = !resp.has("no-cache") && freshnessLifetime(responseHeaders, 0, cfg) > 0;
        return fresh || hasValidators(responseHeaders) || resp.seconds("stale-if-error") > 0;
    }

    /**
     * The response's {@code no-store}, unless it comes with {@code must-understand}: then (the status being one PIBL
     * understands, checked before) it is there for caches that do not, and is ignored (RFC 9111 5.2.2.3).
     */
    static boolean responseNoStore(CacheControl resp) {
        return resp.has("no-store") && !resp.has("must-understand");
    }

    /** RFC 9110 15.1: may a response with this status be stored without explicit freshness? */
    public static boolean isHeuristicallyCacheable(int status) {
        return HEURISTICALLY_CACHEABLE.contains(status);
    }

    /** {@code ETag} or {@code Last-Modified}: the entry can be revalidated with a conditional request. */
    public static boolean hasValidators(HttpHeaders responseHeaders) {
        return responseHeaders.contains(HttpHeaderNames.ETAG) || responseHeaders.contains(HttpHeaderNames.LAST_MODIFIED);
    }

    private static boolean hasExplicitFreshness(CacheControl cc, HttpHeaders responseHeaders) {
        return cc.has("s-maxage") || cc.has("max-age")
                || (!cc.isTargeted() && responseHeaders.contains(HttpHeaderNames.EXPIRES));
    }

    /**
     * The headers to store: a copy without hop-by-hop and proxy-specific fields (RFC 9111 3.1), with a
     * {@code Date} added from {@code responseTime} if the origin sent none (RFC 9110 6.6.1).
     */
    public static HttpHeaders storedHeaders(HttpHeaders responseHeaders, long responseTime) {
        HttpHeaders out = new DefaultHttpHeaders();
        List<String> connectionListed = HopByHop.connectionTokens(responseHeaders);
        for (var e : responseHeaders) {
            if (!isNotStored(e.getKey(), connectionListed)) {
                out.add(e.getKey(), e.getValue());
            }
        }
        if (!out.contains(HttpHeaderNames.DATE)) {
            out.set(HttpHeaderNames.DATE, DateFormatter.format(new Date(responseTime)));
        }
        return out;
    }

    // ---- freshness and age ----

    /** Everything later reuse decisions need, fixed at storage time. */
    public static Freshness freshness(HttpHeaders responseHeaders, long requestTime, long responseTime,
                                      CacheConfig cfg) {
        CacheControl cc = CacheControl.ofResponse(responseHeaders, cfg.targetedField());
        long initialAge = correctedInitialAge(responseHeaders, requestTime, responseTime);
        long lifetime = freshnessLifetime(responseHeaders, responseTime, cfg);
        if (cfg.ttlMode() == CacheConfig.TtlMode.CAP) {
            lifetime = Math.min(lifetime, initialAge + cfg.ttl().toMillis());
        }
        return new Freshness(responseTime, initialAge, lifetime,
                Math.max(0, cc.seconds("stale-while-revalidate")) * 1000,
                Math.max(0, cc.seconds("stale-if-error")) * 1000,
                cc.has("no-cache"),
                cc.has("must-revalidate") || cc.has("proxy-revalidate") || cc.has("s-maxage"));
    }

    /**
     * RFC 9111 4.2.1 freshness lifetime in millis: {@code s-maxage}, else {@code max-age}, else
     * {@code Expires - Date} (an invalid {@code Expires} such as "0" means already expired; ignored when a targeted
     * field governs), else the configured TTL, else (TTL zero) the opt-in heuristic. With
     * {@link CacheConfig.TtlMode#OVERRIDE} the configured TTL always wins. {@code responseTime} stands in for a
     * missing {@code Date}.
     */
    public static long freshnessLifetime(HttpHeaders responseHeaders, long responseTime, CacheConfig cfg) {
        long ttl = cfg.ttl().toMillis();
        if (cfg.ttlMode() == CacheConfig.TtlMode.OVERRIDE) {
            return ttl;
        }
        CacheControl cc = CacheControl.ofResponse(responseHeaders, cfg.targetedField());
        long sMaxAge = cc.seconds("s-maxage");
        if (sMaxAge >= 0) {
            return sMaxAge * 1000;
        }
        long maxAge = cc.seconds("max-age");
        if (maxAge >= 0) {
            return maxAge * 1000;
        }
        List<String> expires = cc.isTargeted() ? List.of() : responseHeaders.getAll(HttpHeaderNames.EXPIRES);
        if (!expires.isEmpty()) {
            // RFC 9111 5.3: an invalid date, and so two Expires lines, mean already expired.
            long expiresAt = expires.size() == 1 ? HttpDate.parse(expires.get(0).trim()) : -1;
            return expiresAt < 0 ? 0 : Math.max(0, expiresAt - dateValue(responseHeaders, responseTime));
        }
        return ttl > 0 ? ttl : heuristicLifetime(responseHeaders, responseTime, cfg);
    }

    /**
     * RFC 9111 4.2.2, opt-in ({@code cache.heuristic}): a fraction of the time since {@code Last-Modified}, the
     * typical 10% of the RFC, capped at {@code cache.heuristic-max} (nginx and Varnish have no heuristic at all;
     * Squid's {@code refresh_pattern} defaults to 20%, capped). A {@code Last-Modified} later than {@code Date},
     * or invalid, gives nothing. The caller has checked that the status may be stored without explicit freshness.
     */
    static long heuristicLifetime(HttpHeaders responseHeaders, long responseTime, CacheConfig cfg) {
        String lastModified = responseHeaders.get(HttpHeaderNames.LAST_MODIFIED);
        if (cfg.heuristic() <= 0 || lastModified == null) {
            return 0;
        }
        long modified = HttpDate.parse(lastModified.trim());
        long since = dateValue(responseHeaders, responseTime) - modified;
        if (modified < 0 || since <= 0) {
            return 0;
        }
        return Math.min(since / 100 * cfg.heuristic(), cfg.heuristicMax().toMillis());
    }

    /**
     * RFC 9111 4.2.3 {@code corrected_initial_age} in millis: the larger of the apparent age
     * ({@code response_time - date_value}) and the origin's {@code Age} plus the response delay
     * ({@code response_time - request_time}).
     */
    public static long correctedInitialAge(HttpHeaders responseHeaders, long requestTime, long responseTime) {
        long apparentAge = Math.max(0, responseTime - dateValue(responseHeaders, responseTime));
        long responseDelay = Math.max(0, responseTime - requestTime);
        long correctedAgeValue = ageValue(responseHeaders) * 1000 + responseDelay;
        return Math.max(apparentAge, correctedAgeValue);
    }

    /** The {@code Age} header in seconds: its first member; 0 if absent or invalid (RFC 9111 5.1). */
    static long ageValue(HttpHeaders responseHeaders) {
        String age = responseHeaders.get(HttpHeaderNames.AGE);
        if (age == null) {
            return 0;
        }
        int comma = age.indexOf(',');
        String first = (comma < 0 ? age : age.substring(0, comma)).trim();
        return first.isEmpty() ? 0 : CacheControl.parseDeltaSeconds(first);
    }

    private static long dateValue(HttpHeaders responseHeaders, long responseTime) {
        String date = responseHeaders.get(HttpHeaderNames.DATE);
        long parsed = date == null ? -1 : HttpDate.parse(date.trim());
        return parsed < 0 ? responseTime : parsed;
    }

    // ---- reuse ----

    /**
     * RFC 9111 4 and 5.2.1: may the stored response with these timings answer this request at {@code now}?
     * Client {@code no-cache} (or {@code Pragma: no-cache} without {@code Cache-Control}), {@code max-age=0} or an
     * age above the client's {@code max-age}, and the response's own {@code no-cache} all require revalidation.
     * {@code min-fresh} demands remaining freshness; {@code max-stale} accepts staleness unless the response
     * forbids it (must-revalidate, proxy-revalidate, s-maxage); {@code stale-while-revalidate} allows serving
     * stale within its window while a refresh runs, when the client did not bound the age itself.
     */
    public static Reuse reuse(Freshness f, HttpHeaders requestHeaders, long now) {
        CacheControl req = CacheControl.of(requestHeaders);
        Reuse otherwise = req.has("only-if-cached") ? Reuse.GATEWAY_TIMEOUT : Reuse.REVALIDATE;
        boolean clientNoCache = req.has("no-cache") || (req.isEmpty() && pragmaNoCache(requestHeaders));
        if (clientNoCache || f.noCache()) {
            return otherwise;
        }
        long maxAge = req.seconds("max-age");
        if (maxAge == 0 || (maxAge > 0 && f.currentAge(now) > maxAge * 1000)) {
            return otherwise;
        }
        long minFresh = Math.max(0, req.seconds("min-fresh"));
        long remaining = f.freshUntil() - now;
        if (remaining > 0 && remaining >= minFresh * 1000) {
            return Reuse.FRESH;
        }
        if (f.mustRevalidate() || minFresh > 0) {
            return otherwise;
        }
        long staleness = f.staleness(now);
        if (req.has("max-stale")) {
            String limit = req.value("max-stale");
            if (limit == null || staleness <= CacheControl.parseDeltaSeconds(limit) * 1000) {
                return Reuse.STALE;
            }
        }
        if (maxAge < 0 && f.staleWhileRevalidate() > 0 && staleness <= f.staleWhileRevalidate()) {
            return Reuse.STALE_WHILE_REVALIDATE;
        }
        return otherwise;
    }

    private static boolean pragmaNoCache(HttpHeaders requestHeaders) {
        for (String p : requestHeaders.getAll(HttpHeaderNames.PRAGMA)) {
            if (p.toLowerCase(Locale.ROOT).contains("no-cache")) {
                return true;
            }
        }
        return false;
    }

    /** Backend answers after which a stored response may stand in (RFC 5861 4): 500, 502, 503, 504. */
    public static boolean isErrorForStale(int status) {
        return status == 500 || status == 502 || status == 503 || status == 504;
    }

    /**
     * When the backend failed (no connection, timeout, or {@link #isErrorForStale}): may the stored response be
     * served instead? Always within the origin's {@code stale-if-error} window (RFC 5861: regardless of other
     * freshness information); otherwise only if it is not {@code no-cache} and either still fresh or, when not
     * {@code must-revalidate}, within the operator's {@link CacheConfig#staleIfError()} grace.
     */
    public static boolean canServeStaleOnError(Freshness f, long now, CacheConfig cfg) {
        long staleness = f.staleness(now);
        if (f.staleIfError() > 0 && staleness <= f.staleIfError()) {
            return true;
        }
        if (f.noCache()) {
            return false;
        }
        if (now < f.freshUntil()) {
            return true;
        }
        long grace = cfg.staleIfError().toMillis();
        return !f.mustRevalidate() && grace > 0 && staleness <= grace;
    }

    // ---- revalidating ----

    /**
     * RFC 9111 4.3.1: the request that revalidates {@code stored} for {@code request}: a new bodiless request for
     * the same method and target, with the client's header fields but its own {@code If-None-Match} and
     * {@code If-Modified-Since}, which are replaced by the stored response's validators (a 304 must speak of the
     * stored response, not of the client's copy; the client's validators are evaluated afterwards, against the
     * refreshed entry). Without validators it is a plain fetch. Never with the client's {@code Range}: what is
     * stored is whole.
     *
     * <pre>
     *   GET /a, If-None-Match: "mine"     stored: ETag: "v2", Last-Modified: Mon, ...
     *     -&gt; GET /a, If-None-Match: "v2", If-Modified-Since: Mon, ...
     * </pre>
     */
    public static FullHttpRequest upstreamRequest(HttpRequest request, CacheEntry stored) {
        HttpHeaders h = new DefaultHttpHeaders().add(request.headers());
        h.remove(HttpHeaderNames.IF_NONE_MATCH);
        h.remove(HttpHeaderNames.IF_MODIFIED_SINCE);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        RangeRequest.removeFrom(h);
        h.add(Conditionals.revalidationHeaders(stored.headers()));
        return new DefaultFullHttpRequest(request.protocolVersion(), request.method(), request.uri(),
                Unpooled.EMPTY_BUFFER, h, EmptyHttpHeaders.INSTANCE);
    }

    /** Hop-by-hop (RFC 9110 7.6.1) or proxy-hop fields: never stored, never copied from a 304. */
    static boolean isNotStored(String name, List<String> connectionListed) {
        return HopByHop.isHopByHop(name, connectionListed) || PROXY_FIELDS.contains(name.toLowerCase(Locale.ROOT));
    }
}
