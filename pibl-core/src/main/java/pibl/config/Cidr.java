package pibl.config;

import java.util.Arrays;
import java.util.Locale;

/**
 * An IPv4 or IPv6 network, {@code 10.0.0.0/8}, {@code 2001:db8::/32}, or one address ({@code 192.0.2.7} is
 * {@code /32}, {@code ::1} is {@code /128}). Parsed by hand: {@code InetAddress.getByName} would look a name up in
 * DNS, and reads {@code 10.1} as {@code 10.0.0.1}. An IPv4-mapped IPv6 address ({@code ::ffff:192.0.2.7}) is its IPv4
 * address, so one list serves clients of either stack.
 *
 * <pre>
 * Cidr.parse("10.0.0.0/8").contains(Cidr.address("10.1.2.3"))       true
 * Cidr.parse("2001:db8::/32").contains(Cidr.address("2001:db8::1"))  true
 * Cidr.parse("10.0.0.0/8").contains(Cidr.address("::1"))            false: another family
 * </pre>
 */
public final class Cidr {
    private final byte[] network;
    private final int prefix;

    private Cidr(byte[] network, int prefix) {
        this.network = network;
        this.prefix = prefix;
    }

    /** Throws {@link IllegalArgumentException} with a message fit for the operator. */
    public static Cidr parse(String text) {
        String t = text == null ? "" : text.strip();
        int slash = t.indexOf('/');
        byte[] address = address(slash < 0 ? t : t.substring(0, slash));
        if (address == null) {
            throw new IllegalArgumentException("must be an IPv4 or IPv6 address or network such as 10.0.0.0/8 or "
                    + "2001:db8::/32, got " + (t.isEmpty() ? "nothing" : t));
        }
        int bits = address.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String p = t.substring(slash + 1);
            if (!p.matches("[0-9]{1,3}") || Integer.parseInt(p) > bits) {
                throw new IllegalArgumentException("prefix length must be 0 to " + bits + ", got " + t);
            }
            prefix = Integer.parseInt(p);
        }
        byte[] network = address.clone();
        for (int i = 0; i < bits; i++) {
            if (i >= prefix && (network[i / 8] & (0x80 >> (i % 8))) != 0) {
                throw new IllegalArgumentException("has bits set past its prefix length, got " + t
                        + " (the network is " + new Cidr(mask(network, prefix), prefix) + ")");
            }
        }
        return new Cidr(network, prefix);
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] out = address.clone();
        for (int i = prefix; i < out.length * 8; i++) {
            out[i / 8] &= (byte) ~(0x80 >> (i % 8));
        }
        return out;
    }

    /** Whether {@code address} (4 or 16 bytes: {@link #address}'s, or {@code InetAddress.getAddress()}) is in it. */
    public boolean contains(byte[] address) {
        byte[] a = unmapped(address);
        if (a == null || a.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int m = (0xff << (8 - rest)) & 0xff;
        return (a[full] & m) == (network[full] & m);
    }

    /**
     * The bytes of an IP literal: four for IPv4 (dotted quad, each part 0-255 without leading zeros), sixteen for
     * IPv6 (RFC 4291 text, {@code ::} and a trailing dotted quad allowed, no zone), four again for an IPv4-mapped
     * IPv6 address. Null for anything else: no name is ever looked up.
     */
    public static byte[] address(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        byte[] a = text.indexOf(':') >= 0 ? ipv6(text) : ipv4(text);
        return unmapped(a);
    }

    /** {@code ::ffff:a.b.c.d} as {@code a.b.c.d}; any other address as it is. */
    static byte[] unmapped(byte[] a) {
        if (a == null || a.length != 16) {
            return a;
        }
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return a;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff ? Arrays.copyOfRange(a, 12, 16) : a;
    }

    private static byte[] ipv4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] out = new byte[4];
        for (int i = 0; i < 4; i++) {
            String p = parts[i];
            if (!p.matches("0|[1-9][0-9]{0,2}") || Integer.parseInt(p) > 255) {
                return null;
            }
            out[i] = (byte) Integer.parseInt(p);
        }
        return out;
    }

    private static byte[] ipv6(String s) {
        int gap = s.indexOf("::");
        if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) {
            return null;
        }
        String head = gap < 0 ? s : s.substring(0, gap);
        String tail = gap < 0 ? "" : s.substring(gap + 2);
        int[] left = groups(head, gap < 0);
        int[] right = gap < 0 ? new int[0] : groups(tail, true);
        if (left == null || right == null) {
            return null;
        }
        int total = left.length + right.length;
        if (gap < 0 ? total != 8 : total > 7) {
            return null;
        }
        byte[] out = new byte[16];
        for (int i = 0; i < left.length; i++) {
            out[2 * i] = (byte) (left[i] >> 8);
            out[2 * i + 1] = (byte) left[i];
        }
        for (int i = 0; i < right.length; i++) {
            int g = 8 - right.length + i;
            out[2 * g] = (byte) (right[i] >> 8);
            out[2 * g + 1] = (byte) right[i];
        }
        return out;
    }

    /** The 16-bit groups of one side of {@code ::}; a dotted quad may end the last side (two groups). */
    private static int[] groups(String side, boolean last) {
        if (side.isEmpty()) {
            return new int[0];
        }
        String[] parts = side.split(":", -1);
        int[] out = new int[parts.length + 1];
        int n = 0;
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (last && i == parts.length - 1 && p.indexOf('.') >= 0) {
                byte[] v4 = ipv4(p);
                if (v4 == null) {
                    return null;
                }
                out[n++] = (v4[0] & 0xff) << 8 | (v4[1] & 0xff);
                out[n++] = (v4[2] & 0xff) << 8 | (v4[3] & 0xff);
                continue;
            }
            if (!p.toLowerCase(Locale.ROOT).matches("[0-9a-f]{1,4}")) {
                return null;
            }
            out[n++] = Integer.parseInt(p, 16);
        }
        return Arrays.copyOf(out, n);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefix;
    }

    /** {@code 10.0.0.0/8}, {@code 2001:db8:0:0:0:0:0:0/32}. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        if (network.length == 4) {
            for (int i = 0; i < 4; i++) {
                b.append(i == 0 ? "" : ".").append(network[i] & 0xff);
            }
        } else {
            for (int i = 0; i < 8; i++) {
                b.append(i == 0 ? "" : ":").append(Integer.toHexString((network[2 * i] & 0xff) << 8
                        | (network[2 * i + 1] & 0xff)));
            }
        }
        return b.append('/').append(prefix).toString();
    }
}
