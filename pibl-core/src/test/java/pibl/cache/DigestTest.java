package pibl.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DigestTest {

    /** The first 96 bits of SHA-256 over the key's UTF-8, computed the plain way. */
    private static String expectedHex(String key) throws Exception {
        byte[] d = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        return String.format("%064x", new BigInteger(1, d)).substring(0, 24);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "http://shop.example/a", "https://b/ü?x=ñ", "http://x/\u00ff\u0100", "GET /😀"})
    void isTheLeading96BitsOfTheSha256OfTheUtf8Key(String key) throws Exception {
        assertThat(Digest.of(key).hex()).isEqualTo(expectedHex(key));
    }

    @Test
    void keysLongerThanTheScratchBufferAndTheAsciiLimitDigestTheSame() throws Exception {
        String medium = "http://h/" + "a".repeat(1000);
        String huge = "http://h/" + "b".repeat(70_000);
        String after = "http://h/short";
        assertThat(Digest.of(medium).hex()).isEqualTo(expectedHex(medium));
        assertThat(Digest.of(huge).hex()).isEqualTo(expectedHex(huge));
        assertThat(Digest.of(after).hex()).as("a grown buffer leaves nothing behind").isEqualTo(expectedHex(after));
    }

    @Test
    void threadsDigestingAtOnceGetTheirOwnAnswers() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int id = t;
                Callable<Boolean> job = () -> {
                    for (int i = 0; i < 2000; i++) {
                        String key = "http://h/" + id + "/" + i;
                        if (!Digest.of(key).hex().equals(expectedHex(key))) {
                            return false;
                        }
                    }
                    return true;
                };
                results.add(pool.submit(job));
            }
            for (Future<Boolean> r : results) {
                assertThat(r.get(30, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
