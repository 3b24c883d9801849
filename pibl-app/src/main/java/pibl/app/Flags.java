package pibl.app;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;
import pibl.config.BackendConfig;
import pibl.config.LogConfig;
import pibl.config.TlsConfig;
import pibl.runtime.Version;

/** The command line. Every flag but {@code --config} and {@code --clear-cache} replaces a key of the file. */
@Command(name = "pibl", sortOptions = false, mixinStandardHelpOptions = true, versionProvider = Flags.VersionProvider.class,
        usageHelpAutoWidth = true,
        description = {"PIBL: a caching HTTP/1.1 reverse proxy and round-robin load balancer.",
            "Reads ./pibl.yaml unless --config is given; flags win over the file. Without a file, "
                + "--backend is enough to run on the defaults."},
        footer = {"", "Exit codes: 0 stopped by SIGTERM/SIGINT, 1 could not start (port taken), "
                + "2 bad configuration or flags."})
final class Flags {

    @Option(names = "--config", paramLabel = "FILE", description = "configuration file (default: ./pibl.yaml)")
    Path config;

    @Option(names = "--port", paramLabel = "N", description = "public port (port)")
    Integer port;

    @Option(names = "--backend", paramLabel = "HOST:PORT", converter = BackendConverter.class,
            description = "a backend; repeat for more; replaces the file's list (backends)")
    List<BackendConfig> backends;

    @Option(names = "--tls-port", paramLabel = "N", description = "TLS port; turns TLS on (tls.port)")
    Integer tlsPort;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate chain, leaf first; with --tls-key replaces the file's list (tls.certificates)")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "PEM private key of --tls-cert: PKCS#8, PKCS#1 or EC (tls.certificates)")
    Path tlsKey;

    @Option(names = "--ttl", paramLabel = "SECONDS",
            description = "cache TTL for responses that carry none; 0 = no default TTL (cache.ttl)")
    Long ttl;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "cache directory (cache.directory)")
    Path cacheDir;

    @Option(names = "--clear-cache",
            description = "delete every stored response in the cache directory before serving")
    boolean clearCache;

    @Option(names = "--log-file", paramLabel = "PATH", description = "server and access log file (log.file)")
    Path logFile;

    @Option(names = "--log-level", paramLabel = "LEVEL",
            description = "root log level: trace, debug (adds request/response headers), info, warn, error, off "
                    + "(log.level)")
    LogLevel logLevel;

    static CommandLine commandLine(Flags flags) {
        return new CommandLine(flags).setCaseInsensitiveEnumValuesAllowed(true);
    }

    /** The flags given, as replacements of file keys, in the order the keys appear in the file. */
    List<FlagOverride> overrides() {
        List<FlagOverride> list = new ArrayList<>();
        if (port != null) {
            list.add(new FlagOverride("port", "--port", port.toString(), c -> c.withPort(port)));
        }
        if (backends != null) {
            String text = backends.stream().map(BackendConfig::address).collect(Collectors.joining(" "));
            list.add(new FlagOverride("backends", "--backend", text, c -> c.withBackends(backends)));
        }
        if (logFile != null) {
            list.add(new FlagOverride("log.file", "--log-file", logFile.toString(),
                    c -> c.withLog(new LogConfig(logFile, c.log().format()))));
        }
        if (cacheDir != null) {
            list.add(new FlagOverride("cache.directory", "--cache-dir", cacheDir.toString(),
                    c -> c.withCache(c.cache().withDirectory(cacheDir))));
        }
        if (ttl != null) {
            list.add(new FlagOverride("cache.ttl", "--ttl", ttl.toString(),
                    c -> c.withCache(c.cache().withTtl(Duration.ofSeconds(ttl)))));
        }
        if (tlsPort != null) {
            list.add(new FlagOverride("tls.port", "--tls-port", tlsPort.toString(),
                    c -> c.withTls(c.tls().withPort(tlsPort))));
        }
        if (tlsCert != null || tlsKey != null) {
            if (tlsCert == null || tlsKey == null) {
                throw new ConfigError(tlsCert == null ? "--tls-key" : "--tls-cert", 0, null,
                        "needs " + (tlsCert == null ? "--tls-cert" : "--tls-key") + " FILE too");
            }
            TlsConfig.Certificate one = new TlsConfig.Certificate(tlsCert, tlsKey);
            list.add(new FlagOverride("tls.certificates", "--tls-cert", tlsCert.toString(),
                    c -> c.withTls(c.tls().withCertificates(List.of(one)))));
            // Errors about either file are blamed on the flag that named it.
            list.add(new FlagOverride("tls.certificates[0].cert", "--tls-cert", tlsCert.toString(), c -> c));
            list.add(new FlagOverride("tls.certificates[0].key", "--tls-key", tlsKey.toString(), c -> c));
        }
        return list;
    }

    static final class BackendConverter implements ITypeConverter<BackendConfig> {
        @Override
        public BackendConfig convert(String value) {
            try {
                return BackendConfig.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** {@code --version}: {@link Version#current()}. */
    static final class VersionProvider implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pibl " + Version.current()};
        }
    }
}
