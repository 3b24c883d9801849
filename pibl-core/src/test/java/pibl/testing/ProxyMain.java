package pibl.testing;

import pibl.server.ProxyServer;

import java.util.Arrays;
import java.util.List;

/**
 * Runs a PIBL in a child JVM for tests whose point is the process: its heap limit, a signal, a
 * crash. Args: [--cache DIR] backend addresses. Prints {@code PORT <n>} once listening, then waits.
 */
public final class ProxyMain {
    public static void main(String[] args) throws Exception {
        List<String> list = new java.util.ArrayList<>(Arrays.asList(args));
        pibl.config.PiblConfig config;
        if (!list.isEmpty() && list.get(0).equals("--cache")) {
            java.nio.file.Path dir = java.nio.file.Path.of(list.get(1));
            list = list.subList(2, list.size());
            config = ProxyFixture.withCache(ProxyFixture.config(list), dir, java.time.Duration.ofSeconds(3600));
        } else {
            config = ProxyFixture.config(list);
        }
        ProxyServer server = new ProxyServer(config).start();
        System.out.println("PORT " + server.port());
        System.out.flush();
        Thread.currentThread().join();
    }
}
