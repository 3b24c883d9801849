package pibl.demo;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Picks the endpoint for a path and answers what no endpoint does.
 *
 * <ul>
 *   <li>any method: {@code /api/info}, {@code /echo}, {@code /status/{CODE}}, {@code /close};</li>
 *   <li>{@code GET}/{@code HEAD} only, else {@code 405} with {@code Allow: GET, HEAD}: everything else;</li>
 *   <li>no such path: {@code 404} with a small HTML page.</li>
 * </ul>
 */
final class Router {

    private static final String STATUS_PREFIX = "/status/";

    private final StaticSite site;

    Router(StaticSite site) {
        this.site = site;
    }

    Reply route(Exchange exchange) {
        String path = exchange.path();
        if (path == null) {
            return Reply.badRequest("malformed request target");
        }
        switch (path) {
            case "/api/info":
                return InfoEndpoint.reply(exchange);
            case "/echo":
                return BasicEndpoints.echo(exchange);
            case "/close":
                return BasicEndpoints.close();
            default:
                break;
        }
        if (path.startsWith(STATUS_PREFIX)) {
            return BasicEndpoints.status(exchange, path.substring(STATUS_PREFIX.length()));
        }
        if (!exchange.isGetOrHead()) {
            return Reply.text(HttpResponseStatus.METHOD_NOT_ALLOWED, exchange.method() + " is not allowed here\n")
                    .with(HttpHeaderNames.ALLOW, "GET, HEAD");
        }
        Reply reply = switch (path) {
            case "/health" -> BasicEndpoints.health();
            case "/download" -> BasicEndpoints.download(exchange);
            case "/chunked" -> BasicEndpoints.chunked(exchange);
            default -> path.startsWith(CacheEndpoints.PREFIX) ? CacheEndpoints.route(exchange) : site.find(path);
        };
        return reply != null ? reply : notFound(exchange);
    }

    private static Reply notFound(Exchange exchange) {
        String name = SitePages.escape(exchange.instance().name());
        return Reply.html(HttpResponseStatus.NOT_FOUND, """
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>404 Not Found</title>
                <link rel="stylesheet" href="/assets/style.css"></head>
                <body><main><h1>404 Not Found</h1><p>%s has nothing at <code>%s</code>.</p>
                <p><a href="/">Home</a></p></main></body></html>
                """.formatted(name, SitePages.escape(exchange.path())));
    }
}
