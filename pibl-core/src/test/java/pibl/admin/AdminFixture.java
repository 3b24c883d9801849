package pibl.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.EventLoopGroup;
import pibl.config.AdminConfig;
import pibl.runtime.Transport;
import pibl.testing.RawHttp;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** An {@link AdminServer} on an ephemeral port over a {@link FakeView}, with its own one-thread event loop group. */
final class AdminFixture implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    final FakeView view;
    final AdminServer server;
    private final EventLoopGroup group;

    private AdminFixture(FakeView view, EventLoopGroup group, AdminServer server) {
        this.view = view;
        this.group = group;
        this.server = server;
    }

    static AdminFixture start(FakeView view) throws InterruptedException {
        Transport transport = Transport.best();
        EventLoopGroup group = transport.newGroup(1);
        try {
            AdminServer server = new AdminServer(new AdminConfig(true, "127.0.0.1", 0), view, group,
                    transport.serverChannel()).start();
            return new AdminFixture(view, group, server);
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    int port() {
        return server.port();
    }

    /** One GET on a fresh connection. */
    RawHttp.Response get(String path) throws IOException {
        try (RawHttp http = new RawHttp(port(), 5000)) {
            return http.get(path);
        }
    }

    /** {@code GET /status}, parsed by a strict JSON parser. */
    JsonNode status() throws IOException {
        RawHttp.Response r = get("/status");
        if (r.status() != 200) {
            throw new AssertionError("/status answered " + r.status() + ": " + r.bodyText());
        }
        return JSON.readTree(r.body());
    }

    /** {@code GET /metrics} as text. */
    String metrics() throws IOException {
        RawHttp.Response r = get("/metrics");
        if (r.status() != 200) {
            throw new AssertionError("/metrics answered " + r.status() + ": " + r.bodyText());
        }
        return r.bodyText();
    }

    @Override
    public void close() {
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
