package pibl.cluster;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pibl.config.ConfigException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The peer mark: what a good one vouches for, and every way a bad one is refused (and removed all the same). */
class PeerAuthTest {
    private static final byte[] SECRET = "0123456789abcdef-fleet".getBytes(StandardCharsets.US_ASCII);
    private static final long NOW = 1_764_680_000L;
    private final PeerAuth auth = new PeerAuth(SECRET, Set.of("10.0.1.10:8080", "10.0.1.11:8080"));

    @TempDir
    Path dir;

    private static HttpRequest get(String uri) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        r.headers().set("Host", "shop.example");
        return r;
    }

    @Test
    void aGoodMarkNamesTheClientAndIsRemoved() {
        HttpRequest r = get("/a?b=1");
        auth.sign(r, "10.0.1.11:8080", NOW, "192.0.2.7", "http");
        assertThat(r.headers().get(PeerAuth.HEADER)).startsWith("v2 10.0.1.11:8080 1764680000 192.0.2.7 http ")
                .matches(".* [0-9a-f]+\\.1 [A-Za-z0-9_-]+$");

        PeerAuth.Verified v = auth.verifyAndStrip(r, NOW + 5);
        assertThat(v).isEqualTo(new PeerAuth.Verified("10.0.1.11:8080", "192.0.2.7", "http"));
        assertThat(r.headers().contains(PeerAuth.HEADER)).as("never passed on to a backend").isFalse();
    }

    @Test
    void aMarkForAnotherRequestAnOldOneAStrangersOrAnotherSecretsIsRefused() {
        HttpRequest signed = get("/a");
        auth.sign(signed, "10.0.1.11:8080", NOW, "192.0.2.7", "http");
        String mark = signed.headers().get(PeerAuth.HEADER);

        HttpRequest otherTarget = get("/b");
        otherTarget.headers().set(PeerAuth.HEADER, mark);
        assertThat(auth.verifyAndStrip(otherTarget, NOW)).as("replayed on another target").isNull();
        assertThat(otherTarget.headers().contains(PeerAuth.HEADER)).as("removed all the same").isFalse();

        HttpRequest otherScheme = get("/a");
        otherScheme.headers().set(PeerAuth.HEADER, mark.replace(" http ", " https "));
        assertThat(auth.verifyAndStrip(otherScheme, NOW)).as("the scheme is signed too").isNull();

        HttpRequest otherClient = get("/a");
        otherClient.headers().set(PeerAuth.HEADER, mark.replace("192.0.2.7", "192.0.2.8"));
        assertThat(auth.verifyAndStrip(otherClient, NOW)).as("the client is signed too").isNull();

        HttpRequest late = get("/a");
        late.headers().set(PeerAuth.HEADER, mark);
        assertThat(auth.verifyAndStrip(late, NOW + PeerAuth.WINDOW_SECONDS + 1)).as("too old").isNull();

        HttpRequest stranger = get("/a");
        new PeerAuth(SECRET, Set.of("10.0.9.9:8080")).sign(stranger, "10.0.9.9:8080", NOW, "192.0.2.7", "http");
        assertThat(auth.verifyAndStrip(stranger, NOW)).as("not a peer of this fleet").isNull();

        HttpRequest otherSecret = get("/a");
        new PeerAuth("another-secret-of-16+".getBytes(StandardCharsets.US_ASCII), Set.of("10.0.1.11:8080"))
                .sign(otherSecret, "10.0.1.11:8080", NOW, "192.0.2.7", "http");
        assertThat(auth.verifyAndStrip(otherSecret, NOW)).as("signed with another secret").isNull();

        HttpRequest garbage = get("/a");
        garbage.headers().set(PeerAuth.HEADER, "v1 10.0.1.11:8080 soon 1.2.3.4 x");
        assertThat(auth.verifyAndStrip(garbage, NOW)).isNull();

        HttpRequest good = get("/a");
        good.headers().set(PeerAuth.HEADER, mark);
        assertThat(auth.verifyAndStrip(good, NOW)).as("the untouched mark still holds").isNotNull();
    }

    @Test
    void theSecretFileMustBeReadableAndLongEnough() throws Exception {
        Path good = Files.writeString(dir.resolve("good.key"), "0123456789abcdef0123\n");
        assertThat(PeerAuth.readSecrets(good)).as("the trailing newline is not part of it").singleElement()
                .satisfies(s -> assertThat(s).hasSize(20));
        Path two = Files.writeString(dir.resolve("two.key"), "new-secret-0123456789\r\n\nold-secret-0123456789");
        assertThat(PeerAuth.readSecrets(two)).as("one per line, CR and blank lines not part of them")
                .extracting(s -> new String(s, StandardCharsets.US_ASCII))
                .containsExactly("new-secret-0123456789", "old-secret-0123456789");

        Path shortKey = Files.writeString(dir.resolve("short.key"), "tooshort\n");
        assertThatThrownBy(() -> PeerAuth.readSecrets(shortKey)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("cluster.secret-file").hasMessageContaining("line 1 holds 8 bytes")
                .hasMessageContaining("at least 16");
        Path shortSecond = Files.writeString(dir.resolve("short2.key"), "0123456789abcdef0123\nshort\n");
        assertThatThrownBy(() -> PeerAuth.readSecrets(shortSecond)).hasMessageContaining("line 2 holds 5 bytes");
        Path empty = Files.writeString(dir.resolve("empty.key"), "\n");
        assertThatThrownBy(() -> PeerAuth.readSecrets(empty)).hasMessageContaining("is empty");
        assertThatThrownBy(() -> PeerAuth.readSecrets(dir.resolve("missing.key")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("cannot read");
    }

    @Test
    void whileTheSecretChangesAMarkMadeWithAnyOfTheSecretsIsGoodAndTheFirstSigns() {
        byte[] next = "the-next-fleet-secret-0123".getBytes(StandardCharsets.US_ASCII);
        Set<String> peers = Set.of("10.0.1.10:8080", "10.0.1.11:8080");
        PeerAuth oldOnly = auth;
        PeerAuth accepting = new PeerAuth(List.of(SECRET, next), peers); // step 1: the new one added second
        PeerAuth signingNew = new PeerAuth(List.of(next, SECRET), peers); // step 2: moved first
        PeerAuth newOnly = new PeerAuth(next, peers); // step 3: the old one gone

        HttpRequest fromStep2 = get("/a");
        signingNew.sign(fromStep2, "10.0.1.11:8080", NOW, "192.0.2.7", "http");
        String mark = fromStep2.headers().get(PeerAuth.HEADER);
        assertThat(accepting.verifyAndStrip(withMark(mark), NOW)).as("a node at step 1 takes the new secret's marks")
                .isNotNull();
        assertThat(newOnly.verifyAndStrip(withMark(mark), NOW)).isNotNull();
        assertThat(oldOnly.verifyAndStrip(withMark(mark), NOW)).as("one that skipped step 1 does not").isNull();

        HttpRequest fromStep1 = get("/a");
        accepting.sign(fromStep1, "10.0.1.11:8080", NOW, "192.0.2.7", "http");
        String oldMark = fromStep1.headers().get(PeerAuth.HEADER);
        assertThat(oldOnly.verifyAndStrip(withMark(oldMark), NOW)).as("step 1 still signs with the old secret")
                .isNotNull();
        assertThat(signingNew.verifyAndStrip(withMark(oldMark), NOW)).isNotNull();
        assertThat(newOnly.verifyAndStrip(withMark(oldMark), NOW)).as("after step 3 the old one is refused")
                .isNull();
    }

    private static HttpRequest withMark(String mark) {
        HttpRequest r = get("/a");
        r.headers().set(PeerAuth.HEADER, mark);
        return r;
    }

    @Test
    void aMarkIsTakenOnceAndAReplayIsRefusedButMarksArrivingOutOfOrderAreNot() {
        PeerAuth sender = new PeerAuth(SECRET, Set.of("10.0.1.11:8080"));
        String first = markOf(sender);
        String second = markOf(sender);
        assertThat(auth.verifyAndStrip(withMark(second), NOW)).as("the second, arriving first").isNotNull();
        assertThat(auth.verifyAndStrip(withMark(first), NOW)).as("the first, after it (another connection)")
                .isNotNull();
        HttpRequest replayed = withMark(first);
        assertThat(auth.verifyAndStrip(replayed, NOW + 1)).as("the same mark again: a replay").isNull();
        assertThat(replayed.headers().contains(PeerAuth.HEADER)).as("removed all the same").isFalse();

        String[] marks = new String[Nonces.WINDOW + 2];
        for (int i = 0; i < marks.length; i++) {
            marks[i] = markOf(sender);
        }
        assertThat(auth.verifyAndStrip(withMark(marks[marks.length - 1]), NOW)).isNotNull();
        assertThat(auth.verifyAndStrip(withMark(marks[0]), NOW)).as("further behind than the window").isNull();
        assertThat(auth.verifyAndStrip(withMark(marks[marks.length - 2]), NOW)).as("within it").isNotNull();

        PeerAuth restarted = new PeerAuth(SECRET, Set.of("10.0.1.11:8080")); // the same node, a new process
        assertThat(auth.verifyAndStrip(withMark(markOf(restarted)), NOW)).as("a new boot: sequence 1 again")
                .isNotNull();
        assertThat(auth.verifyAndStrip(withMark(markOf(sender)), NOW)).as("the old boot's next mark, still in time")
                .isNotNull();
    }

    private static String markOf(PeerAuth sender) {
        HttpRequest r = get("/a");
        sender.sign(r, "10.0.1.11:8080", NOW, "192.0.2.7", "http");
        return r.headers().get(PeerAuth.HEADER);
    }
}
