package pibl.testing;

import pibl.server.ProxyServer;

import java.util.Arrays;
import java.util.List;

/**
 * Runs a PIBL in a child JVM for tests whose point is the process: its heap limit, a signal, a
 * crash. Args: [--admin] [--cache DIR] backend addresses; {@code -Dpibl.test.maxSize=BYTES} sets the cache's
 * max-size. Prints {@code ADMIN <n>} (with --admin) and
 * {@code PORT <n>} once listening, then waits.
 */
public final class ProxyMain {
    public static void main(String[] args) throws Exception {
        List<String> list = new java.util.ArrayList<>(Arrays.asList(args));
        boolean admin = !list.isEmpty() && list.get(0).equals("--admin");
        if (admin) {
            list = list.subList(1, list.size());
        }
        pibl.config.PiblConfig config;
        if (!list.isEmpty() && list.get(0).equals("--cache")) {
            java.nio.file.Path dir = java.nio.file.Path.of(list.get(1));
            list = list.subList(2, list.size());
            config = ProxyFixture.withCache(ProxyFixture.config(list), dir, java.time.Duration.ofSeconds(3600));
            String maxSize = System.getProperty("pibl.test.maxSize");
            if (maxSize != null) {
                var c = config.cache();
                config = config.withCache(new pibl.config.CacheConfig(c.enabled(), c.directory(), c.ttl(), c.ttlMode(),
                        Long.parseLong(maxSize), c.maxObjectSize(), c.memorySize(), c.storeSetCookie(),
                        c.staleIfError(), c.maxEntries()));
            }
        } else {
            config = ProxyFixture.config(list);
        }
        if (admin) {
            config = config.withAdmin(new pibl.config.AdminConfig(true, "127.0.0.1", 0));
        }
        ProxyServer server = new ProxyServer(config).start();
        if (admin) {
            System.out.println("ADMIN " + server.adminPort());
        }
        System.out.println("PORT " + server.port());
        System.out.flush();
        Thread.currentThread().join();
    }
}
