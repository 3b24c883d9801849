package pibl.http;

import io.netty.handler.codec.http.HttpMethod;

/** The method properties of RFC 9110 9.2 that a proxy and a cache act on. */
public final class HttpMethods {
    private HttpMethods() {
    }

    /** RFC 9110 9.2.1: GET, HEAD, OPTIONS and TRACE are safe; an unsafe request may invalidate stored responses. */
    public static boolean isSafe(HttpMethod method) {
        return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method) || HttpMethod.OPTIONS.equals(method)
                || HttpMethod.TRACE.equals(method);
    }

    /** RFC 9110 9.2.2: the safe methods, PUT and DELETE may be sent again after a failure. */
    public static boolean isIdempotent(HttpMethod method) {
        return isSafe(method) || HttpMethod.PUT.equals(method) || HttpMethod.DELETE.equals(method);
    }
}
