package pibl.app;

/**
 * A configuration the proxy cannot start with, said in one line the operator can act on:
 *
 * <pre>
 * pibl.yaml: line 7: timeouts.connect: must be a positive duration, got -5s
 * --port: must be between 1 and 65535, got 70000
 * pibl.yaml: cannot read: no such file
 * </pre>
 *
 * The parts are left out when unknown: {@code line} is 0 when the parser gave none, {@code key} is
 * null for errors about the whole file.
 */
public final class ConfigError extends RuntimeException {
    private final String source;
    private final int line;
    private final String key;
    private final String problem;

    /**
     * @param source  the file as the operator named it, or the flag (e.g. {@code --port}); null when neither
     * @param line    1-based line in the file, 0 when unknown
     * @param key     the dotted key path as spelled in the file ({@code cache.ttl}, {@code backends[1]}), or null
     * @param problem what is wrong, e.g. {@code must be a positive duration, got -5s}
     */
    public ConfigError(String source, int line, String key, String problem) {
        super(oneLine(source, line, key, problem), null, false, false);
        this.source = source;
        this.line = line;
        this.key = key;
        this.problem = problem;
    }

    private static String oneLine(String source, int line, String key, String problem) {
        StringBuilder s = new StringBuilder();
        if (source != null) {
            s.append(source).append(": ");
        }
        if (line > 0) {
            s.append("line ").append(line).append(": ");
        }
        if (key != null) {
            s.append(key).append(": ");
        }
        // A problem quoted from a parser may span lines; the operator gets exactly one.
        return s.append(problem.replaceAll("\\s*\\R\\s*", " ").strip()).toString();
    }

    public String source() {
        return source;
    }

    public int line() {
        return line;
    }

    public String key() {
        return key;
    }

    public String problem() {
        return problem;
    }
}
