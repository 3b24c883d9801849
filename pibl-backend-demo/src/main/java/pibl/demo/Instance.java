package pibl.demo;

import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every connection of one backend instance shares: its name, a nonce that differs on every start, and the count
 * of requests received.
 *
 * @param name      the instance name, sent as {@code X-Backend} on every response
 * @param nonce     8 hex digits drawn at start, so bodies of two instances (or two runs) never look alike
 * @param startedAt when the instance started
 * @param requests  requests received so far; each request's number is the count after its arrival
 */
record Instance(String name, String nonce, Instant startedAt, AtomicLong requests) {

    /** A new instance called {@code name}, starting now with no requests. */
    static Instance named(String name) {
        String nonce = String.format("%08x", ThreadLocalRandom.current().nextInt());
        return new Instance(name, nonce, Instant.now(), new AtomicLong());
    }
}
