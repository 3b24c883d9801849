package pibl.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Answers the admin listener's requests, one aggregated request at a time.
 *
 * <pre>
 * GET /             200 text/html         the status page, reloading itself every 2 s
 * GET /status       200 application/json  {@link StatusJson}
 * GET /status/history 200 application/json  the last 15 minutes, per second ({@link History})
 * GET /metrics      200 text/plain        Prometheus text format ({@link ProxyMetrics})
 * GET /favicon.ico  204
 * GET /other        404
 * POST /status      405, Allow: GET, HEAD (any method but GET and HEAD, on any path)
 * </pre>
 *
 * Every answer carries {@code Cache-Control: no-store}; HEAD gets GET's headers without the body. The query
 * string is ignored. Shared by all admin connections (it keeps no state of its own).
 */
@ChannelHandler.Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LogManager.getLogger(AdminHandler.class);
    private static final String HTML = "text/html; charset=utf-8";
    private static final String JSON = "application/json; charset=utf-8";
    private static final String TEXT = "text/plain; charset=utf-8";

    private final ProxyView view;
    private final ProxyMetrics metrics;
    private final History history;

    AdminHandler(ProxyView view, ProxyMetrics metrics, History history) {
        this.view = view;
        this.metrics = metrics;
        this.history = history;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            respond(ctx, request, HttpResponseStatus.BAD_REQUEST, TEXT, "bad request\n", false);
            return;
        }
        HttpMethod method = request.method();
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
            respond(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, TEXT, "only GET and HEAD\n", keepAlive);
            return;
        }
        String path = new QueryStringDecoder(request.uri()).path();
        try {
            route(ctx, request, path, keepAlive);
        } catch (RuntimeException e) {
            // A page that cannot be rendered is PIBL's fault, not the operator's: say so, and keep the listener up.
            LOG.warn("admin {} failed", path, e);
            respond(ctx, request, HttpResponseStatus.INTERNAL_SERVER_ERROR, TEXT,
                    "internal error rendering " + path + "; PIBL's log has the details\n", false);
        }
    }

    private void route(ChannelHandlerContext ctx, FullHttpRequest request, String path, boolean keepAlive) {
        switch (path) {
            case "/" -> respond(ctx, request, HttpResponseStatus.OK, HTML,
                    StatusPage.render(StatusSnapshot.of(view, System.currentTimeMillis()), history.series()),
                    keepAlive);
            case "/status/history" -> respond(ctx, request, HttpResponseStatus.OK, JSON,
                    history.series().json() + "\n", keepAlive);
            case "/status" -> respond(ctx, request, HttpResponseStatus.OK, JSON,
                    StatusJson.render(StatusSnapshot.of(view, System.currentTimeMillis())) + "\n", keepAlive);
            case "/metrics" -> respond(ctx, request, HttpResponseStatus.OK, ProxyMetrics.CONTENT_TYPE,
                    metrics.scrape(), keepAlive);
            case "/favicon.ico" -> respond(ctx, request, HttpResponseStatus.NO_CONTENT, null, null, keepAlive);
            default -> respond(ctx, request, HttpResponseStatus.NOT_FOUND, TEXT,
                    "not found; try /, /status, /status/history or /metrics\n", keepAlive);
        }
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                                String contentType, String body, boolean keepAlive) {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        boolean head = HttpMethod.HEAD.equals(request.method());
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                head || bytes.length == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
        var headers = response.headers();
        if (contentType != null) {
            headers.set(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        if (status.code() != 204) {
            headers.setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        }
        if (status.code() == 405) {
            headers.set(HttpHeaderNames.ALLOW, "GET, HEAD");
        }
        headers.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        headers.set("X-Content-Type-Options", "nosniff");
        if (!keepAlive) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        var written = ctx.writeAndFlush(response);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof ReadTimeoutException) && !(cause instanceof IOException)) {
            LOG.warn("admin request failed on {}", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
