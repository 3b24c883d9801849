package pibl.upstream;

import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import pibl.upstream.RetryPolicy.Decision;
import pibl.upstream.RetryPolicy.Failure;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The retry decision as a table: failure kind x reused connection x idempotent method x streamed body x response
 * started x attempts left. "any" cells are expanded; every one of the 5 x 2 x 2 x 2 x 2 x 2 = 160 combinations must
 * have exactly one row.
 */
class RetryPolicyTest {
    private static final String TABLE = """
            # failure        reused  idempotent  streamed  started  left   decision
            # Once response bytes went to the client nothing can be retried: a truncated body must not look complete.
            CONNECT_REFUSED  any     any         any       true     any    CLOSE
            CONNECT_TIMEOUT  any     any         any       true     any    CLOSE
            TLS_HANDSHAKE    any     any         any       true     any    CLOSE
            CLOSED           any     any         any       true     any    CLOSE
            RESPONSE_TIMEOUT any     any         any       true     any    CLOSE
            # Nothing was sent: any request, streamed too, may go to the next backend.
            CONNECT_REFUSED  any     any         any       false    true   NEXT_BACKEND
            CONNECT_REFUSED  any     any         any       false    false  FAIL_502
            CONNECT_TIMEOUT  any     any         any       false    true   NEXT_BACKEND
            CONNECT_TIMEOUT  any     any         any       false    false  FAIL_504
            # A refused handshake is a connection that could not be made: its request never left PIBL.
            TLS_HANDSHAKE    any     any         any       false    true   NEXT_BACKEND
            TLS_HANDSHAKE    any     any         any       false    false  FAIL_502
            # The keep-alive race: a reused connection closed before any response byte; resent, not counted.
            CLOSED           true    true        false     false    any    RESEND_SAME_BACKEND
            CLOSED           false   true        false     false    true   NEXT_BACKEND
            CLOSED           false   true        false     false    false  FAIL_502
            # A POST may have been acted on: never sent twice.
            CLOSED           any     false       any       false    any    FAIL_502
            # A streamed body is gone once written, even for an idempotent method.
            CLOSED           any     true        true      false    any    FAIL_502
            # The backend may still be working on it.
            RESPONSE_TIMEOUT any     any         any       false    any    FAIL_504
            """;

    @Test
    void decidesAsTheTableSaysForEveryCombination() {
        Set<String> covered = new HashSet<>();
        SoftAssertions soft = new SoftAssertions();
        for (String line : TABLE.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] c = line.trim().split("\\s+");
            Failure failure = Failure.valueOf(c[0]);
            Decision expected = Decision.valueOf(c[6]);
            for (boolean reused : values(c[1])) {
                for (boolean idempotent : values(c[2])) {
                    for (boolean streamed : values(c[3])) {
                        for (boolean started : values(c[4])) {
                            for (boolean left : values(c[5])) {
                                String row = failure + " reused=" + reused + " idempotent=" + idempotent
                                        + " streamed=" + streamed + " started=" + started + " left=" + left;
                                soft.assertThat(covered.add(row)).as("one row only for " + row).isTrue();
                                soft.assertThat(RetryPolicy.decide(failure, reused, idempotent, streamed, started,
                                        left)).as(row).isEqualTo(expected);
                            }
                        }
                    }
                }
            }
        }
        soft.assertAll();
        assertThat(covered).as("every combination has a row").hasSize(Failure.values().length * 32);
    }

    @Test
    void onlyAnIdempotentRequestWithItsBodyAtHandIsResendable() {
        assertThat(RetryPolicy.resendable(true, false)).isTrue();
        assertThat(RetryPolicy.resendable(true, true)).as("a streamed PUT: its body was read once, never again")
                .isFalse();
        assertThat(RetryPolicy.resendable(false, false)).isFalse();
    }

    private static boolean[] values(String cell) {
        return switch (cell) {
            case "any" -> new boolean[] {true, false};
            case "true" -> new boolean[] {true};
            case "false" -> new boolean[] {false};
            default -> throw new IllegalArgumentException(cell);
        };
    }
}
