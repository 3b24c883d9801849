package pibl.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code cluster:}: this node's place in a fleet of PIBL nodes behind an L4 balancer, sharing one cache by routing
 * each cacheable request to the node that owns its key.
 *
 * <pre>
 * cluster:
 *   self: 10.0.1.10:8080                                      # how the peers reach this node
 *   peers: [10.0.1.10:8080, 10.0.1.11:8080, 10.0.1.12:8080]   # may include self
 *   secret-file: /etc/pibl/cluster.key                        # shared secret, at least 16 bytes
 *   hot-copy: { max-size: 64m, ttl: 5s }                      # optional: local copies of the hottest keys
 * </pre>
 *
 * @param self       how the peers reach this node; null when clustering is off
 * @param peers      every node of the fleet, self included (added last when the file leaves it out, so that
 *                   {@code peers[i]} is the file's)
 * @param secretFile the secret peers sign their requests with
 */
public record ClusterConfig(BackendConfig self, List<BackendConfig> peers, Path secretFile, HotCopy hotCopy) {
    private static final int MIN_SECRET = 16;

    /** No {@code cluster:} block: every node on its own, as before. */
    public static final ClusterConfig OFF = new ClusterConfig(null, List.of(), null);

    /**
     * {@code hot-copy: { max-size: 64m, ttl: 5s }}: the receiving node keeps short-lived local copies of the keys
     * it is asked for most often, so that one hot key does not pin its owner's cores.
     *
     * @param maxSize bytes of copies held at once, at most
     * @param ttl     how long a copy stays fresh at most (never longer than the owner's entry would)
     */
    public record HotCopy(long maxSize, Duration ttl) {
        void validate() {
            if (maxSize < 1) {
                throw new ConfigException("cluster.hot-copy.max-size", "must be positive, got " + maxSize);
            }
            TimeoutConfig.positive("cluster.hot-copy.ttl", ttl);
        }
    }

    /** Without hot copies. */
    public ClusterConfig(BackendConfig self, List<BackendConfig> peers, Path secretFile) {
        this(self, peers, secretFile, null);
    }

    public ClusterConfig {
        List<BackendConfig> all = new ArrayList<>(peers == null ? List.of() : peers);
        if (self != null && all.stream().noneMatch(p -> p.address().equals(self.address()))) {
            all.add(self);
        }
        peers = List.copyOf(all);
    }

    public boolean enabled() {
        return self != null;
    }

    void validate() {
        if (!enabled()) {
            return;
        }
        self.validate("cluster.self");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < peers.size(); i++) {
            BackendConfig p = peers.get(i);
            p.validate("cluster.peers[" + i + "]");
            if (!seen.add(p.address())) {
                throw new ConfigException("cluster.peers[" + i + "]", p.address() + " is listed twice");
            }
        }
        if (secretFile == null) {
            throw new ConfigException("cluster.secret-file",
                    "is required: the shared secret the peers authenticate their requests with");
        }
        if (hotCopy != null) {
            hotCopy.validate();
        }
    }

    /**
     * The secrets in {@code file}, one per line (a trailing {@code \r} or blank lines are not part of them), each at
     * least 16 bytes. The first is the one this node signs with; a peer's mark made with any of them is good. That
     * is how the secret is changed without a moment when the nodes refuse each other (nginx's
     * {@code ssl_session_ticket_key} list works the same way): add the new one as a second line on every node and
     * reload, move it first and reload, remove the old one and reload. Plain Java on purpose: the loader calls it
     * before logging starts, and anything touching Netty would start Log4j2 before it knows its file.
     */
    public static List<byte[]> readSecrets(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigException("cluster.secret-file", "cannot read " + file + ": " + e.getMessage());
        }
        List<byte[]> secrets = new ArrayList<>();
        int line = 0;
        for (int start = 0; start <= bytes.length; ) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            line++;
            int n = end;
            while (n > start && bytes[n - 1] == '\r') {
                n--;
            }
            if (n > start) {
                if (n - start < MIN_SECRET) {
                    throw new ConfigException("cluster.secret-file", file + " line " + line + " holds " + (n - start)
                            + " bytes; a secret must have at least " + MIN_SECRET + " (e.g. openssl rand -hex 32 > "
                            + file + ")");
                }
                secrets.add(Arrays.copyOfRange(bytes, start, n));
            }
            start = end + 1;
        }
        if (secrets.isEmpty()) {
            throw new ConfigException("cluster.secret-file", file + " is empty; it must hold a secret of at least "
                    + MIN_SECRET + " bytes (e.g. openssl rand -hex 32 > " + file + ")");
        }
        return List.copyOf(secrets);
    }
}
