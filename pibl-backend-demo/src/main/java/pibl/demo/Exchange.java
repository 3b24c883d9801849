package pibl.demo;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;

/**
 * One request as the endpoints see it: the aggregated request, its path and query parameters already decoded, where it
 * came from, and its number on this instance.
 *
 * <p>The request is owned by {@link ExchangeHandler}, which releases it once the reply is built; endpoints must copy
 * what they keep (as {@code /echo} does with the body).
 *
 * @param request   the full request
 * @param path      the decoded path, without query, e.g. {@code /cache/max-age/60}; {@code null} if undecodable
 * @param params    the decoded query parameters
 * @param remote    the client's address
 * @param localPort the port this instance listens on
 * @param number    this request's number on the instance, from 1
 * @param instance  the instance that answers
 */
record Exchange(FullHttpRequest request, String path, Map<String, List<String>> params, SocketAddress remote,
                int localPort, long number, Instance instance) {

    /** Builds the exchange for {@code request}, decoding the path and query of origin- or absolute-form targets. */
    static Exchange of(FullHttpRequest request, SocketAddress remote, SocketAddress local, long number,
                       Instance instance) {
        int port = local instanceof InetSocketAddress inet ? inet.getPort() : -1;
        String path;
        Map<String, List<String>> params;
        try {
            QueryStringDecoder decoder = new QueryStringDecoder(originForm(request.uri()));
            path = decoder.path();
            params = decoder.parameters();
        } catch (IllegalArgumentException e) {
            path = null; // e.g. a broken %-escape; the router answers 400
            params = Map.of();
        }
        return new Exchange(request, path, params, remote, port, number, instance);
    }

    /** The first value of query parameter {@code name}, or {@code null}. */
    String param(String name) {
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** The request method. */
    HttpMethod method() {
        return request.method();
    }

    /** Whether the method is {@code GET} or {@code HEAD}, the only ones static content answers. */
    boolean isGetOrHead() {
        return HttpMethod.GET.equals(method()) || HttpMethod.HEAD.equals(method());
    }

    /** The client's address as {@code host:port}. */
    String remoteText() {
        if (remote instanceof InetSocketAddress inet) {
            return inet.getAddress().getHostAddress() + ":" + inet.getPort();
        }
        return String.valueOf(remote);
    }

    /** {@code http://host:port/path?q} becomes {@code /path?q}; origin-form targets are returned as they are. */
    static String originForm(String uri) {
        int scheme = uri.indexOf("://");
        if (scheme < 0 || uri.startsWith("/")) {
            return uri;
        }
        int slash = uri.indexOf('/', scheme + 3);
        if (slash < 0) {
            int query = uri.indexOf('?', scheme + 3);
            return query < 0 ? "/" : "/" + uri.substring(query);
        }
        return uri.substring(slash);
    }
}
