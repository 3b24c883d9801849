package pibl.cluster;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;
import pibl.config.ClusterConfig;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Set;

/**
 * The mark a node puts on a request it sends to the key's owner, and the owner's check of it: an HMAC-SHA256, with
 * the fleet's shared secret, of what the request asks for, who sends it, when, and for which client.
 *
 * <pre>
 * PIBL-Peer: v1 10.0.1.11:8080 1764680000 192.0.2.7 3q2-7w…   (version, sender, unix seconds, client, MAC)
 * MAC = HMAC-SHA256(secret, "GET\nshop.example\n/a?b=1\n10.0.1.11:8080\n1764680000\n192.0.2.7")
 * </pre>
 *
 * A mark is good for {@link #WINDOW_SECONDS} either side of the owner's clock, from a sender in {@code peers}.
 * Anything else (no mark, a bad MAC, an old one, an unknown sender) makes the request an ordinary client's, its
 * mark removed; the owner never forwards a marked request again (the loop guard).
 */
public final class PeerAuth {
    public static final AsciiString HEADER = AsciiString.cached("pibl-peer");
    static final long WINDOW_SECONDS = 30;
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private final SecretKeySpec key;
    private final Set<String> peers;
    private final ThreadLocal<Mac> macs;

    PeerAuth(byte[] secret, Set<String> peers) {
        this.key = new SecretKeySpec(secret, "HmacSHA256");
        this.peers = Set.copyOf(peers);
        this.macs = ThreadLocal.withInitial(this::newMac);
    }

    /** The secret in {@code file} ({@link ClusterConfig#readSecret}). */
    static byte[] readSecret(Path file) {
        return ClusterConfig.readSecret(file);
    }

    /** Marks {@code request} as sent by {@code node} at {@code nowSeconds} on behalf of {@code client}. */
    void sign(HttpRequest request, String node, long nowSeconds, String client) {
        String mac = mac(request, node, nowSeconds, client);
        request.headers().set(HEADER, "v1 " + node + " " + nowSeconds + " " + client + " " + mac);
    }

    /**
     * Removes any mark from {@code request}, and says what a good one vouched for.
     *
     * @return the client the sending node served, or null when the request carried no good mark
     */
    Verified verifyAndStrip(HttpRequest request, long nowSeconds) {
        String value = request.headers().get(HEADER);
        if (value == null) {
            return null;
        }
        request.headers().remove(HEADER);
        String[] f = value.split(" ");
        if (f.length != 5 || !"v1".equals(f[0]) || !peers.contains(f[1])) {
            return null;
        }
        long t;
        try {
            t = Long.parseLong(f[2]);
        } catch (NumberFormatException e) {
            return null;
        }
        if (Math.abs(nowSeconds - t) > WINDOW_SECONDS) {
            return null;
        }
        byte[] expected = mac(request, f[1], t, f[3]).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, f[4].getBytes(StandardCharsets.US_ASCII))) {
            return null;
        }
        return new Verified(f[1], f[3]);
    }

    /** What a good mark says: the node that sent the request, and the client it was serving. */
    record Verified(String node, String client) {
    }

    private String mac(HttpRequest request, String node, long t, String client) {
        String host = request.headers().get(HttpHeaderNames.HOST, "");
        String text = request.method().name() + '\n' + host + '\n' + request.uri() + '\n' + node + '\n' + t + '\n'
                + client;
        return B64.encodeToString(macs.get().doFinal(text.getBytes(StandardCharsets.UTF_8)));
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
