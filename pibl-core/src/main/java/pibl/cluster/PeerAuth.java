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
import java.util.List;
import java.util.Set;

/**
 * The mark a node puts on a request it sends to the key's owner, and the owner's check of it: an HMAC-SHA256, with
 * the fleet's shared secret, of what the request asks for, who sends it, when, for which client, and over which
 * scheme the client asked (the owner keys its cache and sets {@code X-Forwarded-Proto} by it, not by the cleartext
 * connection between the nodes).
 *
 * <pre>
 * PIBL-Peer: v2 10.0.1.11:8080 1764680000 192.0.2.7 https 9f3c61d2a0b4e817.1042 3q2-7w…
 *            (version, sender, unix seconds, client, scheme, nonce, MAC)
 * MAC = HMAC-SHA256(secret, "GET\nshop.example\n/a?b=1\n10.0.1.11:8080\n1764680000\n192.0.2.7\nhttps\n9f3c…1042")
 * </pre>
 *
 * A mark is good for {@link #WINDOW_SECONDS} either side of the owner's clock, from a sender in {@code peers}, made
 * with any of the fleet's secrets (the first signs; the others are there while the secret is being changed, see
 * {@link ClusterConfig#readSecrets}).
 * A good mark is taken once ({@link Nonces}): the same mark again is a replay. Anything else (no mark, a bad
 * MAC, an old one, an unknown sender, a replay) makes the request an ordinary client's, its
 * mark removed; the owner never forwards a marked request again (the loop guard).
 */
public final class PeerAuth {
    public static final AsciiString HEADER = AsciiString.cached("pibl-peer");
    static final long WINDOW_SECONDS = 30;
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private final SecretKeySpec[] keys;
    private final Set<String> peers;
    /** One Mac per secret and thread, in the secrets' order. */
    private final ThreadLocal<Mac[]> macs;
    private final Nonces nonces;

    PeerAuth(byte[] secret, Set<String> peers) {
        this(List.of(secret), peers, new Nonces());
    }

    PeerAuth(List<byte[]> secrets, Set<String> peers) {
        this(secrets, peers, new Nonces());
    }

    /**
     * @param secrets the first signs, every one verifies
     * @param nonces  this process's nonces and the marks it has taken (kept over a reload, which makes a new
     *                PeerAuth)
     */
    PeerAuth(List<byte[]> secrets, Set<String> peers, Nonces nonces) {
        this.nonces = nonces;
        if (secrets.isEmpty()) {
            throw new IllegalArgumentException("no secret");
        }
        this.keys = secrets.stream().map(s -> new SecretKeySpec(s, "HmacSHA256")).toArray(SecretKeySpec[]::new);
        this.peers = Set.copyOf(peers);
        this.macs = ThreadLocal.withInitial(this::newMacs);
    }

    /** The secrets in {@code file} ({@link ClusterConfig#readSecrets}). */
    static List<byte[]> readSecrets(Path file) {
        return ClusterConfig.readSecrets(file);
    }

    /**
     * Marks {@code request} as sent by {@code node} at {@code nowSeconds} on behalf of {@code client}, who asked
     * over {@code scheme} ({@code http} or {@code https}).
     */
    void sign(HttpRequest request, String node, long nowSeconds, String client, String scheme) {
        String nonce = nonces.next();
        String mac = mac(0, request, node, nowSeconds, client, scheme, nonce);
        request.headers().set(HEADER, "v2 " + node + " " + nowSeconds + " " + client + " " + scheme + " " + nonce
                + " " + mac);
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
        if (f.length != 7 || !"v2".equals(f[0]) || !peers.contains(f[1])
                || !"http".equals(f[4]) && !"https".equals(f[4])) {
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
        byte[] given = f[6].getBytes(StandardCharsets.US_ASCII);
        for (int k = 0; k < keys.length; k++) {
            if (MessageDigest.isEqual(mac(k, request, f[1], t, f[3], f[4], f[5])
                    .getBytes(StandardCharsets.US_ASCII), given)) {
                return nonces.firstUse(f[1], f[5], nowSeconds) ? new Verified(f[1], f[3], f[4]) : null;
            }
        }
        return null;
    }

    /** What a good mark says: the node that sent the request, the client it was serving, the client's scheme. */
    public record Verified(String node, String client, String scheme) {
    }

    private String mac(int secret, HttpRequest request, String node, long t, String client, String scheme,
                       String nonce) {
        String host = request.headers().get(HttpHeaderNames.HOST, "");
        String text = request.method().name() + '\n' + host + '\n' + request.uri() + '\n' + node + '\n' + t + '\n'
                + client + '\n' + scheme + '\n' + nonce;
        return B64.encodeToString(macs.get()[secret].doFinal(text.getBytes(StandardCharsets.UTF_8)));
    }

    private Mac[] newMacs() {
        try {
            Mac[] all = new Mac[keys.length];
            for (int i = 0; i < keys.length; i++) {
                all[i] = Mac.getInstance("HmacSHA256");
                all[i].init(keys[i]);
            }
            return all;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
