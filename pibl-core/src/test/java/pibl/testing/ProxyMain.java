package pibl.testing;

import pibl.server.ProxyServer;

import java.util.Arrays;
import java.util.List;

/**
 * Runs a PIBL in a child JVM for tests whose point is the process: its heap limit, a signal, a
 * crash. Args: backend addresses. Prints {@code PORT <n>} once listening, then waits.
 */
public final class ProxyMain {
    public static void main(String[] args) throws Exception {
        List<String> backends = Arrays.asList(args);
        ProxyServer server = ProxyFixture.start(backends);
        System.out.println("PORT " + server.port());
        System.out.flush();
        Thread.currentThread().join();
    }
}
