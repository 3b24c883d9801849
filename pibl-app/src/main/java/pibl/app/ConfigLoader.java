package pibl.app;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import pibl.config.CertificateFiles;
import pibl.config.ClusterConfig;
import pibl.config.ConfigException;
import pibl.config.PiblConfig;

/**
 * Reads {@code pibl.yaml}, lays the command-line flags over it and validates the result. Every
 * failure is one {@link ConfigError} naming the file (or flag), the line when known and the key:
 *
 * <pre>
 * pibl.yaml: line 3: YAML syntax error: could not find expected ':'
 * pibl.yaml: line 9: timeouts.conect: unknown key, expected one of: connect, backend-response, ...
 * pibl.yaml: line 2: port: expected a whole number, got 'abc'
 * pibl.yaml: line 12: cache.ttl: must be zero or a positive number of seconds, got -5s
 * </pre>
 *
 * Three passes over the text: {@link KeyIndex} records where each key is (and catches syntax
 * errors and duplicate keys), Jackson binds {@link ConfigModel} (catching shape errors), and the
 * records' {@code validate()} checks ranges; its errors get their line from the index.
 */
public final class ConfigLoader {
    private static final YAMLFactory YAML = new YAMLFactory();
    private static final ObjectMapper MAPPER = YAMLMapper.builder(YAML)
            .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            // "port:" with nothing after it is more likely a slip than a wish for the default.
            .defaultSetterInfo(JsonSetter.Value.forValueNulls(Nulls.FAIL, Nulls.FAIL))
            .build();

    /**
     * What the file and the flags give.
     *
     * @param config   validated
     * @param logLevel the file's {@code log.level}, null when not set
     */
    public record Loaded(PiblConfig config, LogLevel logLevel) {
    }

    private ConfigLoader() {
    }

    /** Loads {@code file} alone. */
    public static Loaded load(Path file) {
        return load(file, List.of());
    }

    /**
     * @param file  the YAML file, or null to start from the records' defaults
     * @param flags applied over the file in order
     * @throws ConfigError for anything that stops the proxy from starting
     */
    static Loaded load(Path file, List<FlagOverride> flags) {
        String source = file == null ? null : file.toString();
        KeyIndex index = KeyIndex.EMPTY;
        ConfigModel model = new ConfigModel();
        if (file != null) {
            String text = read(file, source);
            index = index(source, text);
            if (!index.isEmpty()) {
                model = bind(source, text, index);
            }
        }
        PiblConfig config;
        LogLevel level;
        try {
            config = model.toConfig();
            level = model.log.level();
        } catch (ConfigException e) {
            throw new ConfigError(source, index.line(e.key()), e.key(), e.problem());
        }
        for (FlagOverride flag : flags) {
            config = flag.apply().apply(config);
        }
        try {
            config.validate();
            checkLogFile(config.log().file());
            if (config.tls().enabled()) {
                CertificateFiles.load(config.tls()); // unreadable, mismatched: refused before anything listens
            }
            for (int i = 0; i < config.backends().size(); i++) {
                Path ca = config.backends().get(i).tls().ca();
                if (ca != null) {
                    CertificateFiles.trusted(ca, "backends[" + i + "].ca");
                }
            }
            if (config.cluster().enabled()) {
                ClusterConfig.readSecrets(config.cluster().secretFile()); // unreadable or short: refused by name
            }
            return new Loaded(config, level);
        } catch (ConfigException e) {
            throw blame(e, source, index, flags);
        }
    }

    /**
     * Log4j2 cannot refuse to start: a log file it cannot create costs a page of status-logger
     * stack traces and a proxy that runs without its file. So the nearest existing directory of
     * the file must be writable (nothing is created here).
     */
    private static void checkLogFile(Path file) {
        Path path = file.toAbsolutePath();
        if (Files.isDirectory(path)) {
            throw new ConfigException("log.file", "is a directory, got " + file);
        }
        if (Files.exists(path)) {
            if (!Files.isWritable(path)) {
                throw new ConfigException("log.file", "cannot write " + file + ": permission denied");
            }
            return;
        }
        Path dir = path.getParent();
        while (dir != null && !Files.exists(dir)) {
            dir = dir.getParent();
        }
        if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw new ConfigException("log.file", "cannot create " + file + ": " + dir
                    + " is not a writable directory");
        }
    }

    private static String read(Path file, String source) {
        if (Files.isDirectory(file)) {
            throw new ConfigError(source, 0, null, "cannot read: is a directory, not a file");
        }
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigError(source, 0, null, "cannot read: no such file");
        } catch (AccessDeniedException e) {
            throw new ConfigError(source, 0, null, "cannot read: permission denied");
        } catch (CharacterCodingException e) {
            throw new ConfigError(source, 0, null, "cannot read: not UTF-8 text");
        } catch (IOException e) {
            throw new ConfigError(source, 0, null, "cannot read: " + e.getMessage());
        }
    }

    private static KeyIndex index(String source, String text) {
        try {
            return KeyIndex.read(YAML, source, text);
        } catch (JsonProcessingException e) {
            if (e.getCause() instanceof MarkedYAMLException y && y.getProblemMark() != null) {
                // "while scanning a simple key" points where the mistake starts; the problem mark
                // is often where the scanner gave up (the end of the file, say).
                int found = y.getProblemMark().getLine() + 1;
                int start = y.getContextMark() != null ? y.getContextMark().getLine() + 1 : found;
                String where = found == start ? "" : " on line " + found;
                String problem = y.getContext() == null ? y.getProblem() + where
                        : y.getContext() + ", " + y.getProblem() + where;
                throw new ConfigError(source, start, null, "YAML syntax error: " + problem);
            }
            throw new ConfigError(source, line(e.getLocation()), null, "YAML syntax error: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ConfigError(source, 0, null, "cannot read: " + e.getMessage());
        }
    }

    private static ConfigModel bind(String source, String text, KeyIndex index) {
        try {
            return MAPPER.readValue(text, ConfigModel.class);
        } catch (JsonMappingException e) {
            String key = path(e.getPath());
            int line = key.isEmpty() ? line(e.getLocation()) : index.line(key);
            throw new ConfigError(source, line, key.isEmpty() ? null : key, shapeProblem(e, index.get(key)));
        } catch (JsonProcessingException e) {
            throw new ConfigError(source, line(e.getLocation()), null, e.getOriginalMessage());
        }
    }

    /** What Jackson found wrong with the shape of the file, in the file's words. */
    private static String shapeProblem(JsonMappingException e, KeyIndex.Entry found) {
        String got = found == null ? "" : found.text() == null ? ", got a section or a list" : ", got '" + found.text()
                + "'";
        if (e instanceof UnrecognizedPropertyException u) {
            return "unknown key, expected one of: " + u.getKnownPropertyIds().stream().map(String::valueOf)
                    .sorted().collect(Collectors.joining(", "));
        }
        if (e instanceof InvalidNullException) {
            return e.getPath().get(e.getPath().size() - 1).getIndex() >= 0 ? "is empty"
                    : "has no value (leave the key out to get the default)";
        }
        if (e.getCause() instanceof InputCoercionException) {
            return "is out of range" + got;
        }
        if (e instanceof InvalidFormatException f) {
            return "expected " + expected(f.getTargetType()) + ", got '" + f.getValue() + "'";
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            return "expected " + expected(m.getTargetType()) + got;
        }
        return e.getOriginalMessage();
    }

    private static String expected(Class<?> type) {
        if (type == Integer.class || type == int.class) {
            return "a whole number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a single value";
        }
        if (List.class.isAssignableFrom(type)) {
            return "a list";
        }
        if (type == ConfigModel.Backend.class) {
            return "host:port or { address: host:port, weight: N, tls: true }";
        }
        if (type == ConfigModel.class) {
            return "a mapping of keys such as port: and backends:";
        }
        return "a section of keys";
    }

    /** A flag's error is the flag's; any other is the file's, with the line of its key. */
    private static ConfigError blame(ConfigException e, String source, KeyIndex index, List<FlagOverride> flags) {
        for (int i = flags.size() - 1; i >= 0; i--) {
            FlagOverride flag = flags.get(i);
            if (flag.covers(e.key())) {
                boolean exact = flag.key().equals(e.key());
                return new ConfigError(flag.flag(), 0, exact ? null : e.key(),
                        exact ? quoting(e.problem(), flag.text()) : e.problem());
            }
        }
        KeyIndex.Entry entry = index.get(e.key());
        String problem = entry != null && entry.text() != null ? quoting(e.problem(), entry.text()) : e.problem();
        return new ConfigError(source, index.line(e.key()), e.key(), problem);
    }

    /**
     * The records end their messages with {@code got <value>} in Java's spelling ({@code PT-5S},
     * {@code 268435456}); the operator wrote {@code -5s} or {@code 256m}, so quote that instead,
     * adding it where the record's message gives no value.
     */
    private static String quoting(String problem, String asWritten) {
        int got = problem.lastIndexOf(", got ");
        if (got >= 0) {
            return problem.substring(0, got) + ", got " + asWritten;
        }
        return problem.contains(asWritten) ? problem : problem + ", got " + asWritten;
    }

    private static String path(List<JsonMappingException.Reference> refs) {
        StringBuilder s = new StringBuilder();
        for (JsonMappingException.Reference r : refs) {
            if (r.getFieldName() != null) {
                s.append(s.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                s.append('[').append(r.getIndex()).append(']');
            }
        }
        return s.toString();
    }

    private static int line(JsonLocation location) {
        return location == null ? 0 : Math.max(location.getLineNr(), 0);
    }
}
