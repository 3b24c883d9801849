package pibl.upstream;

/** Every backend is out of rotation or already failed this request. */
public final class NoBackendException extends Exception {
    private final Throwable last;

    public NoBackendException(String message, Throwable last) {
        super(message, null, false, false);
        this.last = last;
    }

    /** The failure of the last attempt, or {@code null} when nothing was attempted. */
    public Throwable lastFailure() {
        return last;
    }
}
