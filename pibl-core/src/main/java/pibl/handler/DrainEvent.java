package pibl.handler;

/**
 * Fired down every client pipeline when the server stops: an idle connection closes now, a busy
 * one finishes its exchange (with {@code Connection: close}) and then closes.
 */
public final class DrainEvent {
    public static final DrainEvent INSTANCE = new DrainEvent();

    private DrainEvent() {
    }
}
