package pibl.tls;

import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;

import java.security.SecureRandom;
import java.time.Duration;

/**
 * The session ticket keys of the OpenSSL contexts (RFC 5077, and TLS 1.3's resumption tickets): PIBL makes them,
 * so that they rotate and are shared by every certificate's context and kept across a certificate reload.
 *
 * <pre>
 * keys:    [current, previous]     current encrypts new tickets; both decrypt
 * rotate:  every ROTATION          previous = current; current = 48 fresh random bytes
 * </pre>
 *
 * A ticket therefore resumes for at most two rotations ({@link #LIFETIME}), and a key stolen from memory opens
 * at most that long a window of recorded sessions. With the JDK provider the JDK issues its own stateless tickets
 * and renews their key itself; PIBL only sets the session timeout there ({@link #LIFETIME}).
 */
final class TicketKeys {
    static final Duration ROTATION = Duration.ofHours(1);
    static final Duration LIFETIME = ROTATION.multipliedBy(2);

    private final SecureRandom random = new SecureRandom();
    private OpenSslSessionTicketKey current = fresh();
    private OpenSslSessionTicketKey previous;

    synchronized void rotate() {
        previous = current;
        current = fresh();
    }

    /** Gives {@code tls}'s OpenSSL contexts the keys in force. */
    synchronized void applyTo(ServerTls tls) {
        OpenSslSessionTicketKey[] keys = previous == null ? new OpenSslSessionTicketKey[] {current}
                : new OpenSslSessionTicketKey[] {current, previous};
        for (OpenSslSessionContext session : tls.openSslSessions()) {
            session.setTicketKeys(keys);
        }
    }

    private OpenSslSessionTicketKey fresh() {
        byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
        byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
        byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
        random.nextBytes(name);
        random.nextBytes(hmac);
        random.nextBytes(aes);
        return new OpenSslSessionTicketKey(name, hmac, aes);
    }
}
