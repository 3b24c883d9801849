package pibl.handler;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.channel.EventLoop;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import pibl.cache.Ban;
import pibl.cache.CacheKey;
import pibl.cache.HotCopies;
import pibl.cluster.Cluster;
import pibl.lb.Backend;
import pibl.runtime.Json;
import pibl.upstream.ResponseSink;
import pibl.upstream.Upstream;
import pibl.upstream.UpstreamException;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A client's PURGE in cluster mode: done here, then sent to every other node of the fleet, marked as this node's
 * ({@link pibl.cluster.PeerAuth}) so that each does it without sending it on; the client's answer, once every node
 * has answered or failed, says what went where:
 *
 * <pre>
 * PURGE /a   →   200 {"purged":1,"nodes":{"10.0.1.10:8080":1,"10.0.1.11:8080":0,"10.0.1.12:8080":"502 ..."}}
 * </pre>
 *
 * A node's number is the key's entries it held (0 or 1: the key with all its variants is one; for a purge by
 * prefix or tag, the stored responses that went); a node that could not
 * be reached gets its error in place of a number, and the status stays 200: the nodes that answered did purge.
 */
final class PeerPurge {
    private static final Logger LOG = LogManager.getLogger(PeerPurge.class);
    private static final Pattern PURGED = Pattern.compile("\"purged\":(\\d+)");

    private final Cluster cluster;
    private final Upstream upstream;

    PeerPurge(Cluster cluster, Upstream upstream) {
        this.cluster = cluster;
        this.upstream = upstream;
    }

    /** The answer of a node that purged for a peer: its own count only. */
    void answerPeer(ChannelHandlerContext ctx, long purged) {
        Map<String, Object> nodes = new LinkedHashMap<>();
        nodes.put(cluster.self().label(), purged);
        write(ctx, nodes);
    }

    /**
     * Sends the purge of {@code host} {@code uri} (with {@code tags} in its {@code Surrogate-Key}, null for none)
     * to every other node, then answers the client.
     */
    void fanOut(ChannelHandlerContext ctx, String scheme, String host, String uri, String tags, String client,
                long purgedHere) {
        Map<String, Object> nodes = new LinkedHashMap<>();
        int[] pending = {0};
        for (Backend node : cluster.nodes()) {
            nodes.put(node.label(), cluster.isSelf(node) ? purgedHere : "no answer");
            if (!cluster.isSelf(node)) {
                pending[0]++;
            }
        }
        if (pending[0] == 0) {
            write(ctx, nodes);
            return;
        }
        for (Backend node : cluster.nodes()) {
            if (cluster.isSelf(node)) {
                continue;
            }
            FullHttpRequest purge = purge(scheme, host, uri, tags, client);
            upstream.send(ctx.channel().eventLoop(), purge, cluster.only(node), client, new ResponseSink() {
                private final StringBuilder body = new StringBuilder();
                private int status;

                @Override
                public void onResponse(HttpResponse head, Backend backend) {
                    status = head.status().code();
                }

                @Override
                public void onContent(HttpContent content) {
                    if (body.length() < 4096) {
                        body.append(content.content().toString(StandardCharsets.UTF_8));
                    }
                    boolean last = content instanceof LastHttpContent;
                    content.release();
                    if (last) {
                        Matcher m = PURGED.matcher(body);
                        nodes.put(node.label(), status == 200 && m.find() ? (Object) Long.parseLong(m.group(1))
                                : "HTTP " + status);
                        done();
                    }
                }

                @Override
                public void flush() {
                }

                @Override
                public void onError(UpstreamException failure, boolean responseStarted) {
                    nodes.put(node.label(), failure.status() + " " + failure.getMessage());
                    done();
                }

                private void done() {
                    if (--pending[0] == 0) {
                        write(ctx, nodes);
                    }
                }
            });
        }
    }

    /**
     * RFC 9111 4.4 for the fleet: an unsafe request answered with success made {@code key} obsolete, and the entry
     * to drop is its owner's, not this node's. Sent, marked, to the owner before the client has the answer, so
     * that the client's next request for it (through any node) finds the owner's entry gone. Not waited for: an
     * owner that cannot be reached then keeps its entry until its freshness ends or a PURGE reaches it. Nothing
     * when this node owns it.
     */
    void invalidateAtOwner(EventLoop loop, CacheKey key, String client) {
        Backend owner = cluster.owner(Cluster.key(key));
        if (cluster.isSelf(owner) || HotCopies.isCopy(key)) {
            return;
        }
        FullHttpRequest purge = purge(key.scheme(), key.host(), key.target(), null, client);
        upstream.send(loop, purge, cluster.only(owner), client, new ResponseSink() {
            @Override
            public void onResponse(HttpResponse head, Backend backend) {
            }

            @Override
            public void onContent(HttpContent content) {
                content.release();
            }

            @Override
            public void flush() {
            }

            @Override
            public void onError(UpstreamException failure, boolean responseStarted) {
                LOG.debug("invalidating {} at its owner {}: {}", key.text(), owner.label(), failure.getMessage());
            }
        });
    }

    /** A marked {@code PURGE} of {@code host} {@code uri}, for {@code client}'s request over {@code scheme}. */
    private FullHttpRequest purge(String scheme, String host, String uri, String tags, String client) {
        FullHttpRequest purge = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(Purge.METHOD),
                uri, Unpooled.EMPTY_BUFFER);
        purge.headers().set(HttpHeaderNames.HOST, host).set(HttpHeaderNames.CONTENT_LENGTH, 0);
        if (tags != null) {
            purge.headers().set(Ban.SURROGATE_KEY, tags);
        }
        cluster.sign(purge, client, scheme);
        return purge;
    }

    private static void write(ChannelHandlerContext ctx, Map<String, Object> nodes) {
        long total = nodes.values().stream().filter(v -> v instanceof Long).mapToLong(v -> (Long) v).sum();
        String json = Json.toString(g -> {
            g.writeStartObject();
            g.writeNumberField("purged", total);
            g.writeObjectFieldStart("nodes");
            for (Map.Entry<String, Object> e : nodes.entrySet()) {
                if (e.getValue() instanceof Long n) {
                    g.writeNumberField(e.getKey(), n);
                } else {
                    g.writeStringField(e.getKey(), String.valueOf(e.getValue()));
                }
            }
            g.writeEndObject();
            g.writeEndObject();
        }) + "\n";
        ByteBuf body = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        ctx.writeAndFlush(response);
    }
}
