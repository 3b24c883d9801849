package pibl.tls;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * The TLS contexts in force, swapped whole on reload: each new connection takes {@link #current()} once, so a
 * handshake sees either the old certificates or the new ones, never a mix, and open connections keep theirs.
 * Also owns the session ticket keys and their rotation ({@link TicketKeys}).
 */
public final class TlsContexts implements AutoCloseable {
    private final TicketKeys keys = new TicketKeys();
    private volatile ServerTls current;
    private ScheduledFuture<?> rotation;

    public TlsContexts(ServerTls first) {
        keys.applyTo(first);
        this.current = first;
    }

    public ServerTls current() {
        return current;
    }

    /** New handshakes use {@code next} from now on; the ticket keys carry over, so sessions still resume. */
    public synchronized void swap(ServerTls next) {
        keys.applyTo(next);
        current = next;
    }

    /** Rotates the ticket keys every {@link TicketKeys#ROTATION}, on {@code executor}. */
    public void startRotation(EventExecutor executor) {
        long every = TicketKeys.ROTATION.toMillis();
        rotation = executor.scheduleAtFixedRate(this::rotateTicketKeys, every, every, TimeUnit.MILLISECONDS);
    }

    /** A new key encrypts from now on; the one before it still decrypts. */
    public synchronized void rotateTicketKeys() {
        keys.rotate();
        keys.applyTo(current);
    }

    @Override
    public void close() {
        if (rotation != null) {
            rotation.cancel(false);
        }
    }
}
