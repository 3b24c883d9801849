package pibl.upstream;

import io.netty.channel.ChannelFuture;
import pibl.lb.Backend;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Idle keep-alive connections to the backends, for one event loop. Only that loop touches it, so
 * there is no lock: a request is served by a backend connection registered on its client
 * connection's own loop, and the two never cross threads.
 *
 * <p>Last in, first out: the most recently used connection is the one least likely to have been
 * closed by the backend's own keep-alive timeout, and the cold ones at the bottom age out.
 */
final class ConnectionPool {
    private final Map<Backend, ArrayDeque<BackendHandler>> idle = new HashMap<>();
    private final int maxIdlePerBackend;
    private final long maxIdleNanos;

    ConnectionPool(int maxIdlePerBackend, long maxIdleNanos) {
        this.maxIdlePerBackend = maxIdlePerBackend;
        this.maxIdleNanos = maxIdleNanos;
    }

    /**
     * An idle connection to {@code backend} that has been idle for less than {@code freshWithinNanos},
     * or {@code null}. Connections idle past the pool's own limit are closed on the way.
     */
    BackendHandler poll(Backend backend, long freshWithinNanos) {
        ArrayDeque<BackendHandler> deque = idle.get(backend);
        if (deque == null) {
            return null;
        }
        long now = System.nanoTime();
        BackendHandler h;
        while ((h = deque.peekLast()) != null) {
            long idleFor = now - h.idleSinceNanos();
            if (!h.channel().isActive() || idleFor > maxIdleNanos) {
                deque.pollLast();
                h.channel().close();
                continue;
            }
            if (idleFor > freshWithinNanos) {
                return null;
            }
            return deque.pollLast();
        }
        return null;
    }

    /** Returns a connection whose last exchange completed cleanly. */
    void release(BackendHandler h) {
        if (h.backend().retired()) {
            h.channel().close(); // a reload removed its backend: nothing will ask for it again
            return;
        }
        ArrayDeque<BackendHandler> deque = idle.computeIfAbsent(h.backend(), b -> new ArrayDeque<>());
        if (deque.size() >= maxIdlePerBackend || !h.channel().isActive()) {
            h.channel().close();
            return;
        }
        h.channel().config().setAutoRead(true);
        deque.addLast(h);
    }

    void remove(BackendHandler h) {
        ArrayDeque<BackendHandler> deque = idle.get(h.backend());
        if (deque != null) {
            deque.remove(h);
        }
    }

    /** Closes the idle connections of the backends a reload removed ({@link Backend#retired}), and forgets them. */
    void closeRetired() {
        for (var it = idle.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().retired()) {
                e.getValue().forEach(h -> h.channel().close());
                it.remove();
            }
        }
    }

    /**
     * Closes every idle connection (shutdown), each through its pipeline (a TLS one sends close_notify first), and
     * forgets them; returns their close futures.
     */
    List<ChannelFuture> closeAll() {
        List<ChannelFuture> closing = new ArrayList<>();
        for (ArrayDeque<BackendHandler> deque : idle.values()) {
            for (BackendHandler h : deque) {
                closing.add(h.channel().close());
            }
            deque.clear();
        }
        return closing;
    }

    int idleCount(Backend backend) {
        ArrayDeque<BackendHandler> deque = idle.get(backend);
        return deque == null ? 0 : deque.size();
    }
}
