package pibl.runtime;

/**
 * PIBL's version: the {@code Implementation-Version} of the jar's manifest ({@code 1.0.0} in {@code pibl.jar}),
 * or {@code dev} when run from classes (tests, an IDE). The one place every log line, {@code --version},
 * {@code /status} and {@code /metrics} read it from.
 */
public final class Version {
    private static final String CURRENT = read();

    private Version() {
    }

    public static String current() {
        return CURRENT;
    }

    private static String read() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null || v.isBlank() ? "dev" : v;
    }
}
