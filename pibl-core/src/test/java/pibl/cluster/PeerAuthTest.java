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
        auth.sign(r, "10.0.1.11:8080", NOW, "192.0.2.7");
        assertThat(r.headers().get(PeerAuth.HEADER)).startsWith("v1 10.0.1.11:8080 1764680000 192.0.2.7 ");

        PeerAuth.Verified v = auth.verifyAndStrip(r, NOW + 5);
        assertThat(v).isEqualTo(new PeerAuth.Verified("10.0.1.11:8080", "192.0.2.7"));
        assertThat(r.headers().contains(PeerAuth.HEADER)).as("never passed on to a backend").isFalse();
    }

    @Test
    void aMarkForAnotherRequestAnOldOneAStrangersOrAnotherSecretsIsRefused() {
        HttpRequest signed = get("/a");
        auth.sign(signed, "10.0.1.11:8080", NOW, "192.0.2.7");
        String mark = signed.headers().get(PeerAuth.HEADER);

        HttpRequest otherTarget = get("/b");
        otherTarget.headers().set(PeerAuth.HEADER, mark);
        assertThat(auth.verifyAndStrip(otherTarget, NOW)).as("replayed on another target").isNull();
        assertThat(otherTarget.headers().contains(PeerAuth.HEADER)).as("removed all the same").isFalse();

        HttpRequest otherClient = get("/a");
        otherClient.headers().set(PeerAuth.HEADER, mark.replace("192.0.2.7", "192.0.2.8"));
        assertThat(auth.verifyAndStrip(otherClient, NOW)).as("the client is signed too").isNull();

        HttpRequest late = get("/a");
        late.headers().set(PeerAuth.HEADER, mark);
        assertThat(auth.verifyAndStrip(late, NOW + PeerAuth.WINDOW_SECONDS + 1)).as("too old").isNull();

        HttpRequest stranger = get("/a");
        new PeerAuth(SECRET, Set.of("10.0.9.9:8080")).sign(stranger, "10.0.9.9:8080", NOW, "192.0.2.7");
        assertThat(auth.verifyAndStrip(stranger, NOW)).as("not a peer of this fleet").isNull();

        HttpRequest otherSecret = get("/a");
        new PeerAuth("another-secret-of-16+".getBytes(StandardCharsets.US_ASCII), Set.of("10.0.1.11:8080"))
                .sign(otherSecret, "10.0.1.11:8080", NOW, "192.0.2.7");
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
        assertThat(PeerAuth.readSecret(good)).as("the trailing newline is not part of it").hasSize(20);

        Path shortKey = Files.writeString(dir.resolve("short.key"), "tooshort\n");
        assertThatThrownBy(() -> PeerAuth.readSecret(shortKey)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("cluster.secret-file").hasMessageContaining("holds 8 bytes")
                .hasMessageContaining("at least 16");
        assertThatThrownBy(() -> PeerAuth.readSecret(dir.resolve("missing.key")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("cannot read");
    }
}
