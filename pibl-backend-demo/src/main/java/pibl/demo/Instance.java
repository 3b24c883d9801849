package pibl.demo;

import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every connection of one backend instance shares: its name, a nonce that differs on every start, the delay
 * added to every answer, and the count of requests received.
 *
 * @param name        the instance name, sent as {@code X-Backend} on every response
 * @param nonce       8 hex digits drawn at start, so bodies of two instances (or two runs) never look alike
 * @param startedAt   when the instance started
 * @param delayMillis added to every request's own {@code ?delay=} ({@code --delay-ms}): a backend that is slow for
 *                    everyone, as a balancer sees a backend in a GC storm or on a busy host
 * @param requests    requests received so far; each request's number is the count after its arrival
 */
record Instance(String name, String nonce, Instant startedAt, long delayMillis, AtomicLong requests) {

    /** A new instance called {@code name}, starting now with no requests and no added delay. */
    static Instance named(String name) {
        return named(name, 0);
    }

    /** A new instance called {@code name} that answers every request {@code delayMillis} later. */
    static Instance named(String name, long delayMillis) {
        if (delayMillis < 0) {
            throw new IllegalArgumentException("delay must be >= 0 ms, got " + delayMillis);
        }
        String nonce = String.format("%08x", ThreadLocalRandom.current().nextInt());
        return new Instance(name, nonce, Instant.now(), delayMillis, new AtomicLong());
    }
}
