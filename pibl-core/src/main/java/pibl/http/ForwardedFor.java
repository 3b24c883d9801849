package pibl.http;

import pibl.config.Cidr;

import java.util.List;

/**
 * Who the client is, for {@code allow:}, {@code deny:} and rate limits: the connection's peer, unless that peer is
 * a proxy PIBL trusts ({@code trusted-proxies:}); then {@code X-Forwarded-For} is read from the right, past every
 * trusted hop, and the first hop not trusted is the client (nginx's {@code real_ip_recursive on}). A client cannot
 * choose its own address this way: whatever it writes is to the left of what the trusted proxies appended.
 *
 * <pre>
 * trusted-proxies: [10.0.0.0/8]
 * peer 10.0.0.5, X-Forwarded-For: 6.6.6.6, 192.0.2.7, 10.0.0.9   client 192.0.2.7 (6.6.6.6 is the client's own claim)
 * peer 10.0.0.5, no X-Forwarded-For                              client 10.0.0.5
 * peer 192.0.2.1, X-Forwarded-For: 1.2.3.4                       client 192.0.2.1 (not a trusted peer)
 * peer 10.0.0.5, X-Forwarded-For: 192.0.2.7, garbage             client 10.0.0.5 (the hop it cannot read stops it)
 * </pre>
 */
public final class ForwardedFor {
    private ForwardedFor() {
    }

    /**
     * @param peer    the connection's address (4 or 16 bytes)
     * @param lines   the request's {@code X-Forwarded-For} lines, in order
     * @param trusted {@code trusted-proxies:}
     * @return the client's address bytes
     */
    public static byte[] client(byte[] peer, List<String> lines, List<Cidr> trusted) {
        if (trusted.isEmpty() || lines.isEmpty() || !isTrusted(peer, trusted)) {
            return peer;
        }
        String all = lines.size() == 1 ? lines.get(0) : String.join(",", lines);
        byte[] client = peer;
        int end = all.length();
        while (end > 0) {
            int comma = all.lastIndexOf(',', end - 1);
            byte[] hop = hop(all.substring(comma + 1, end).strip());
            if (hop == null) {
                break;
            }
            client = hop;
            if (!isTrusted(hop, trusted)) {
                break;
            }
            end = Math.max(comma, 0);
        }
        return client;
    }

    private static boolean isTrusted(byte[] address, List<Cidr> trusted) {
        for (Cidr c : trusted) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** {@code 192.0.2.7}, {@code 192.0.2.7:5678}, {@code 2001:db8::1}, {@code [2001:db8::1]:80}; null otherwise. */
    static byte[] hop(String text) {
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            return close < 0 ? null : Cidr.address(text.substring(1, close));
        }
        int colon = text.indexOf(':');
        if (colon >= 0 && colon == text.lastIndexOf(':')) {
            text = text.substring(0, colon); // IPv4 with a port
        }
        return Cidr.address(text);
    }
}
