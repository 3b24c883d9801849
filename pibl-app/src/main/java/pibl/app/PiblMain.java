package pibl.app;

import java.io.PrintStream;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;
import pibl.config.ConfigException;
import pibl.config.PiblConfig;
import pibl.runtime.Version;
import pibl.server.ProxyServer;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * {@code java -jar pibl.jar [--config FILE] [--port N] [--backend HOST:PORT]... }: parse, load,
 * start, wait.
 *
 * <pre>
 * $ java -jar pibl.jar --port 8080 --backend 127.0.0.1:9001 --backend 127.0.0.1:9002
 * 2025-01-01T12:00:00,000 INFO  [main] PiblMain - pibl dev listening on 0.0.0.0:8080 (epoll); backends ...
 * ^C                                     -> drains, flushes the log, exit 0
 * $ java -jar pibl.jar --config bad.yaml
 * pibl: bad.yaml: line 7: timeouts.connect: must be a positive duration, got -5s      -> exit 2
 * </pre>
 *
 * Log4j2 is not touched until the configuration is loaded: its file and level come from it,
 * through the system properties {@code pibl.log.file} and {@code pibl.log.level} that
 * {@code log4j2.xml} reads.
 */
public final class PiblMain {
    static final int OK = 0;
    static final int CANNOT_START = 1;
    static final int BAD_CONFIG = 2;

    /** Starts the proxy; a seam for tests, {@link ProxyServer} in production. */
    @FunctionalInterface
    interface Starter {
        Running start(PiblConfig config, boolean clearCache) throws Exception;
    }

    /** A started proxy: what the startup line reports, how to stop it, and how to reload it. */
    record Running(int port, String transport, AutoCloseable server, Consumer<PiblConfig> reloader) {
        Running(int port, String transport, AutoCloseable server) {
            this(port, transport, server, config -> { });
        }
    }

    private final PrintStream out;
    private final PrintStream err;
    private final Path defaultConfig;
    private final Starter starter;
    private final CountDownLatch started = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile PiblConfig config;
    private volatile Running running;
    private volatile Logger log;

    public PiblMain() {
        this(System.out, System.err, Path.of("pibl.yaml"), (config, clearCache) -> {
            ProxyServer server = new ProxyServer(config);
            if (clearCache) {
                server.clearCacheOnStart();
            }
            server.start();
            return new Running(server.port(), server.transport(), server, server::reload);
        });
    }

    PiblMain(PrintStream out, PrintStream err, Path defaultConfig, Starter starter) {
        this.out = out;
        this.err = err;
        this.defaultConfig = defaultConfig;
        this.starter = starter;
    }

    public static void main(String... args) {
        int code = new PiblMain().run(args);
        if (code == CANNOT_START) {
            LogManager.shutdown(); // Log4j2's own hook is off; flush why we could not start to the file
        }
        System.exit(code);
    }

    /** Runs until {@link #stop()} (the shutdown hook calls it); returns the exit code, never exits. */
    public int run(String... args) {
        Flags flags = new Flags();
        CommandLine cli = Flags.commandLine(flags);
        ConfigLoader.Loaded loaded;
        Path file;
        try {
            cli.parseArgs(args);
            if (cli.isUsageHelpRequested()) {
                cli.usage(out);
                return OK;
            }
            if (cli.isVersionHelpRequested()) {
                cli.printVersionHelp(out);
                return OK;
            }
            file = configFile(flags);
            watchedFile = file != null && Files.exists(file) ? file : null;
            loaded = ConfigLoader.load(file, flags.overrides());
        } catch (ParameterException e) {
            err.println("pibl: " + flagProblem(e) + " (see pibl --help)");
            return BAD_CONFIG;
        } catch (ConfigError e) {
            err.println("pibl: " + e.getMessage());
            return BAD_CONFIG;
        }
        return serve(loaded.config(), flags.logLevel != null ? flags.logLevel : loaded.logLevel(), flags.clearCache,
                () -> ConfigLoader.load(file, flags.overrides()));
    }

    /** Starts the proxy on a valid configuration and waits for {@link #stop()}. */
    private int serve(PiblConfig valid, LogLevel level, boolean clearCache, Supplier<ConfigLoader.Loaded> reread) {
        config = valid;
        log = startLogging(config, level);
        try {
            running = starter.start(config, clearCache);
        } catch (Exception e) {
            return cannotStart(e);
        }
        // Before the startup line: whoever waits for it may send SIGHUP or edit the file at once.
        onHangup(reread);
        watch(watchedFile, reread);
        log.info("pibl {} listening on {} ({}); {}", Version.current(), address(config.bind(), running.port()),
                running.transport(), describe(config));
        log.debug("configuration: {}", config);
        log.debug("logging through {} to stdout and {}", LogManager.getContext(false).getClass().getSimpleName(),
                config.log().file());
        Thread hook = new Thread(() -> {
            stop();
            LogManager.shutdown();
            // The JVM would exit with 128+signal; a clean drain after SIGTERM is a success.
            Runtime.getRuntime().halt(OK);
        }, "pibl-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        started.countDown();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running: it halts the JVM once the log is flushed.
        }
        return OK;
    }

    /** For tests: true once {@link #run} is up and waiting for {@link #stop()}. */
    boolean awaitStarted(long timeout, TimeUnit unit) throws InterruptedException {
        return started.await(timeout, unit);
    }

    /** Closes the server (draining in-flight exchanges) and lets {@link #run} return. */
    void stop() {
        Running r = running;
        if (r != null && stopping.compareAndSet(false, true)) {
            log.info("stopping: draining in-flight exchanges for up to {}", Units.format(config.timeouts().drain()));
            try {
                r.server().close();
            } catch (Exception e) {
                log.error("error while stopping", e);
            }
            log.info("stopped");
        }
        stopped.countDown();
    }

    /**
     * SIGHUP ({@code systemctl reload pibl}) re-reads the file and flags and applies them: backends,
     * weights, health checks, timeouts and limits, without dropping open connections. A file that
     * does not load is refused with one log line and the running configuration stays.
     */
    private void onHangup(Supplier<ConfigLoader.Loaded> reread) {
        try {
            // The JVM leaves a signal the process inherited as ignored (nohup) ignored, and says so by returning
            // SIG_IGN: a reload by signal would then do nothing, silently.
            if (Signal.handle(new Signal("HUP"), signal -> reload("SIGHUP", reread)) == SignalHandler.SIG_IGN) {
                log.warn("SIGHUP is ignored in this process (started under nohup?): reload by editing the "
                        + "configuration file, or start PIBL without nohup");
            }
        } catch (IllegalArgumentException e) {
            log.debug("SIGHUP cannot be handled here: {}", e.getMessage());
        }
    }

    /** Applies the configuration file again; synchronized so a signal and the file watcher never overlap. */
    synchronized void reload(String why, Supplier<ConfigLoader.Loaded> reread) {
        Running r = running;
        if (r == null || stopping.get()) {
            return;
        }
        try {
            PiblConfig next = reread.get().config();
            r.reloader().accept(next);
            config = next;
            log.info("{}: configuration reloaded", why);
        } catch (ConfigError e) {
            log.error("{}: configuration refused, the running one stays: {}", why, e.getMessage());
        } catch (RuntimeException e) {
            log.error("{}: configuration refused, the running one stays: {}", why, e.getMessage());
        }
    }

    private Path watchedFile;

    /**
     * Reloads when the configuration file changes on disk (editors save in several steps: debounced).
     * The directory is registered before this returns, so no change made after it is missed.
     */
    private void watch(Path file, Supplier<ConfigLoader.Loaded> reread) {
        if (file == null || !Files.exists(file)) {
            return;
        }
        Path dir = file.toAbsolutePath().getParent();
        Path name = file.getFileName();
        java.nio.file.WatchService watching;
        try {
            watching = dir.getFileSystem().newWatchService();
        } catch (java.io.IOException | RuntimeException e) {
            log.warn("not watching {} for changes: {}", file, e.toString());
            return;
        }
        try {
            dir.register(watching, java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY,
                    java.nio.file.StandardWatchEventKinds.ENTRY_CREATE);
        } catch (java.io.IOException | RuntimeException e) {
            log.warn("not watching {} for changes: {}", file, e.toString());
            try {
                watching.close();
            } catch (java.io.IOException ignored) {
                // nothing was being watched
            }
            return;
        }
        Thread watcher = new Thread(() -> {
            try (java.nio.file.WatchService ws = watching) {
                while (!stopping.get()) {
                    java.nio.file.WatchKey key = ws.take();
                    boolean ours = key.pollEvents().stream().anyMatch(ev -> name.equals(ev.context()));
                    key.reset();
                    if (ours) {
                        Thread.sleep(300); // let the editor finish writing
                        java.nio.file.WatchKey more;
                        while ((more = ws.poll()) != null) {
                            more.pollEvents();
                            more.reset();
                        }
                        reload(file + " changed", reread);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.io.IOException | RuntimeException e) {
                log.warn("not watching {} for changes: {}", file, e.toString());
            }
        }, "pibl-config-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    private Path configFile(Flags flags) {
        if (flags.config != null) {
            return flags.config;
        }
        if (Files.exists(defaultConfig)) {
            return defaultConfig;
        }
        if (flags.backends != null) {
            return null;
        }
        throw new ConfigError(defaultConfig.toString(), 0, null,
                "cannot read: no such file (give --config FILE, or --backend HOST:PORT to run on the defaults)");
    }

    private static String flagProblem(ParameterException e) {
        String message = e.getMessage();
        if (e instanceof UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            message += "; did you mean " + String.join(" or ", u.getSuggestions()) + "?";
        }
        return message;
    }

    /** Log4j2 reads these when the first logger is made, which is here. */
    private static Logger startLogging(PiblConfig config, LogLevel level) {
        System.setProperty("pibl.log.file", config.log().file().toString());
        if (level != null) {
            System.setProperty("pibl.log.level", level.toString());
        }
        return LogManager.getLogger(PiblMain.class);
    }

    /** The rest of the startup line: what an operator checks first. */
    static String describe(PiblConfig config) {
        var cache = config.cache();
        var admin = config.admin();
        return routing(config)
                + "; cache " + (cache.enabled()
                        ? cache.directory() + " ttl " + Units.format(cache.ttl()) + " ("
                                + cache.ttlMode().toString().toLowerCase(Locale.ROOT) + "), max "
                                + Units.formatSize(cache.maxSize())
                        : "off")
                + "; tls " + (config.tls().enabled() ? "port " + config.tls().port() + ", "
                        + config.tls().certificates().size() + " certificate(s)" : "off")
                + "; admin " + (admin.enabled() ? address(admin.host(), admin.port()) : "off")
                + "; log " + config.log().file();
    }

    /** {@code backends a, b} for the shorthand; {@code pools shop (a, b), static (c); 3 routes} otherwise. */
    private static String routing(PiblConfig config) {
        if (config.pools().isEmpty() && config.routes().isEmpty()) {
            return "backends " + config.backends().stream().map(Object::toString).collect(Collectors.joining(", "));
        }
        return "pools " + config.poolsInForce().stream()
                .map(p -> p.name() + " (" + p.backends().stream().map(Object::toString)
                        .collect(Collectors.joining(", ")) + ")")
                .collect(Collectors.joining(", ")) + "; " + config.routesInForce().size() + " routes";
    }

    private int cannotStart(Exception e) {
        if (e instanceof ConfigException c) { // a certificate file changed between the check and the start
            log.error(c.getMessage());
            err.println("pibl: " + c.getMessage());
            return BAD_CONFIG;
        }
        Throwable bind = e;
        while (bind != null && !(bind instanceof BindException) && !String.valueOf(bind.getMessage())
                .contains("Address already in use")) {
            bind = bind.getCause();
        }
        String line;
        if (bind != null) {
            String where = address(config.bind(), config.port())
                    + (config.admin().enabled() ? " or admin " + address(config.admin().host(), config.admin().port())
                            : "");
            String why = String.valueOf(bind.getMessage()).contains("Address already in use")
                    ? "Address already in use" : bind.getMessage();
            line = "cannot listen on " + where + ": " + why;
            log.error(line);
        } else {
            line = "cannot start: " + e;
            log.error(line, e);
        }
        err.println("pibl: " + line);
        return CANNOT_START;
    }

    private static String address(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
