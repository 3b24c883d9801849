package pibl.handler;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AttributeKey;
import pibl.http.TraceContext;
import pibl.cache.CachePhase;
import pibl.cache.CacheStatus;
import pibl.cluster.Cluster;
import pibl.route.Route;
import pibl.tls.TlsSession;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;

/**
 * One request/response exchange, from the guard to the access log: the one state object every segment reads and
 * adds to. The {@link AccessLogHandler} opens it when a request arrives and keeps it on the channel (an HTTP/1.1
 * connection has one exchange at a time; an HTTP/2 stream channel would have its own); the segments after it
 * record what they decide, and the access log reads it back when the response's last part is written.
 *
 * <pre>
 * request facts (fixed)   method, target, version, keep-alive asked, client address, Host, User-Agent, Referer,
 *                         request id and trace ({@link TraceContext}), the scheme and TLS session of its connection
 * decided on the way      route (and so pool), matched once by the {@link RouteHandler}; cache phase
 *                         ({@link CachePhase}, its moves checked), backend, close requested, refused by the guard
 * the response            status and body bytes, as written (a tunnel: 101, and the bytes each way)
 * </pre>
 *
 * Only the event loop of the exchange's channel touches it.
 */
public final class Exchange {
    static final AttributeKey<Exchange> KEY = AttributeKey.valueOf("pibl.exchange");

    final long startMillis;
    final long startNanos;
    final String clientAddress;
    /** The client connection's TLS session; null for cleartext. */
    final TlsSession tls;
    final HttpMethod method;
    final String uri;
    final HttpVersion version;
    final boolean keepAlive;
    final String host;
    final String userAgent;
    final String referer;
    /** Its request id and trace (W3C Trace Context), fixed when the request arrives. */
    final TraceContext.Ids ids;
    /** The request line was never received (a stand-in carrying a refusal): the log prints {@code -}. */
    final boolean synthetic;
    private CachePhase phase = CachePhase.UNINIT;
    private boolean closeRequested;
    private boolean refused;
    private Route route;
    /** Null: the peer ({@link #clientAddress}). */
    private String client;
    /** A fleet peer sent this request, marked ({@link pibl.cluster.PeerAuth}): it is never forwarded to a peer again. */
    private boolean fromPeer;
    /** The scheme a peer's client used; null unless {@link #fromPeer}. */
    private String peerScheme;
    private boolean peerCheck;
    /** Not null: another node owns the key; the request goes to it through this fleet, not to the route's pool. */
    private Cluster toOwner;
    String backend = "-";
    int status;
    long bytes;
    /** A tunnel's bytes from the client ({@code bytes} are those to it); -1 for an ordinary exchange. */
    long tunnelBytesUp = -1;

    /** @param generateTrace start a trace when the request carries none ({@code log.trace-context: generate}) */
    Exchange(HttpRequest request, String clientAddress, TlsSession tls, long startNanos, boolean generateTrace) {
        this.ids = TraceContext.of(request.headers(), generateTrace);
        this.startMillis = System.currentTimeMillis();
        this.startNanos = startNanos;
        this.clientAddress = clientAddress;
        this.tls = tls;
        this.method = request.method();
        this.uri = request.uri();
        this.version = request.protocolVersion();
        this.keepAlive = HttpUtil.isKeepAlive(request);
        this.host = request.headers().get(HttpHeaderNames.HOST);
        this.userAgent = request.headers().get(HttpHeaderNames.USER_AGENT);
        this.referer = request.headers().get(HttpHeaderNames.REFERER);
        this.synthetic = request instanceof HeaderTimeoutHandler.SyntheticRequest;
    }

    /** An exchange of PIBL's own making (a background refresh), on behalf of {@code parent}'s client, on its route. */
    Exchange(HttpRequest request, Exchange parent) {
        this(request, parent.clientAddress, parent.tls, parent.startNanos, false);
        this.route = parent.route;
        this.client = parent.client;
    }

    /** The client's address as the access log prints it: {@code 127.0.0.1}, {@code ::1}, or {@code -}. */
    static String clientAddress(SocketAddress remote) {
        return remote instanceof InetSocketAddress inet ? inet.getAddress().getHostAddress() : "-";
    }

    /** {@code address} (4 or 16 bytes) as {@link #clientAddress(SocketAddress)} prints one. */
    static String clientAddress(byte[] address) {
        try {
            return InetAddress.getByAddress(address).getHostAddress();
        } catch (UnknownHostException e) {
            return "-"; // not 4 or 16 bytes: ForwardedFor never makes one
        }
    }

    /** The exchange in progress on this channel, or {@code null} outside of one. */
    public static Exchange current(Channel channel) {
        return channel.attr(KEY).get();
    }

    public HttpMethod method() {
        return method;
    }

    /** The request id and trace the backend, the client and the access log all see. */
    public TraceContext.Ids ids() {
        return ids;
    }

    public String uri() {
        return uri;
    }

    /** The HTTP version the client spoke. */
    public HttpVersion version() {
        return version;
    }

    /** The client asked to keep the connection open (HTTP/1.1 without {@code Connection: close}, or 1.0 keep-alive). */
    public boolean keepAlive() {
        return keepAlive;
    }

    public boolean isHead() {
        return HttpMethod.HEAD.equals(method);
    }

    /** The connection's peer: the address PIBL appends to {@code X-Forwarded-For}. */
    public String clientAddress() {
        return clientAddress;
    }

    /**
     * The client the request is on behalf of: the one a trusted proxy's {@code X-Forwarded-For} names
     * ({@code trusted-proxies:}), else the peer. What the access log prints, {@code allow:}/{@code deny:} and the
     * rate limit judge and {@code hash: {key: client-ip}} hashes.
     */
    public String client() {
        return client != null ? client : clientAddress;
    }

    /** Set by the {@link RouteHandler} when a trusted proxy named another client than itself. */
    void client(String forwardedClient) {
        this.client = forwardedClient;
    }

    /**
     * A fleet peer sent the request for {@code peerClient}, who asked it over {@code peerScheme} (its mark checked
     * by the {@link PeerHandler}).
     */
    void fromPeer(String peerClient, String peerScheme) {
        this.fromPeer = true;
        this.client = peerClient;
        this.peerScheme = peerScheme;
    }

    public boolean fromPeer() {
        return fromPeer;
    }

    /** A peer's active check: answered by the node itself, and neither logged nor counted (a second each). */
    void peerCheck() {
        this.peerCheck = true;
    }

    boolean isPeerCheck() {
        return peerCheck;
    }

    /** Another node of {@code cluster} owns the request's key: the {@link Forwarder} sends it there. */
    void toOwner(Cluster cluster) {
        this.toOwner = cluster;
    }

    /** The fleet the request goes to the owner through, or null when it goes to its route's pool. */
    public Cluster toOwner() {
        return toOwner;
    }

    /**
     * {@code https} when the request arrived over TLS, else {@code http}: the cache key's and X-Forwarded-Proto's.
     * For a peer's request, the scheme its client used (the mark says), not that of the connection between nodes.
     */
    public String scheme() {
        if (peerScheme != null) {
            return peerScheme;
        }
        return tls == null ? "http" : "https";
    }

    /** The client connection's TLS session, or null for cleartext. */
    public TlsSession tls() {
        return tls;
    }

    /** The request's {@code Host}, or null. */
    public String host() {
        return host;
    }

    public CachePhase phase() {
        return phase;
    }

    /** Moves the cache phase; an illegal move ({@link CachePhase}'s table) throws {@link IllegalStateException}. */
    public void phase(CachePhase next) {
        phase = phase.moveTo(next);
    }

    /** What X-Cache and the log say: HIT, MISS, STALE, REVALIDATED, BYPASS, or null when the cache had no say. */
    public CacheStatus cacheStatus() {
        return phase.status();
    }

    /** The route that took the request (its pool is where it goes), or null before the match or when none did. */
    public Route route() {
        return route;
    }

    /** Once per exchange, by the {@link RouteHandler}. */
    void route(Route r) {
        this.route = r;
    }

    /** Records the backend that answers (the last one tried). */
    public void backend(String label) {
        this.backend = label;
    }

    /**
     * Asks for the client connection to be closed after this response (framing may be lost, or the response's
     * end is the connection's end). Whoever finishes the response head decides what that means on the wire.
     */
    public void requestClose() {
        closeRequested = true;
    }

    public boolean closeRequested() {
        return closeRequested;
    }

    /** The request is answered by PIBL itself and never forwarded: counted as refused once its response is out. */
    void refuse() {
        refused = true;
    }

    boolean refused() {
        return refused;
    }
}
