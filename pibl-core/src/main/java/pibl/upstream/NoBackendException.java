package pibl.upstream;

/** Every backend is out of rotation or already failed this request. */
public final class NoBackendException extends Exception {
    private final Throwable last;
    private final boolean noneInRotation;

    public NoBackendException(String message, Throwable last) {
        this(message, last, false);
    }

    public NoBackendException(String message, Throwable last, boolean noneInRotation) {
        super(message, null, false, false);
        this.last = last;
        this.noneInRotation = noneInRotation;
    }

    /** No backend was even tried: every one is out of rotation (answered 503 at once). */
    public boolean noneInRotation() {
        return noneInRotation;
    }

    /** The failure of the last attempt, or {@code null} when nothing was attempted. */
    public Throwable lastFailure() {
        return last;
    }
}
