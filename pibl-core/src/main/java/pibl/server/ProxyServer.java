package pibl.server;

import pibl.config.PiblConfig;

/** Placeholder: the public listener. */
public final class ProxyServer implements AutoCloseable {
    private final PiblConfig config;

    public ProxyServer(PiblConfig config) {
        this.config = config.validate();
    }

    /** Binds the listeners; throws if a port cannot be bound. */
    public ProxyServer start() throws InterruptedException {
        return this;
    }

    /** The bound public port (useful when the config asked for port 0). */
    public int port() {
        return config.port();
    }

    /** {@code epoll} or {@code nio}. */
    public String transport() {
        return "nio";
    }

    /** Stops accepting, drains in-flight exchanges up to {@code timeouts.drain}, closes everything. */
    @Override
    public void close() {
    }
}
