package pibl.route;

import pibl.lb.LoadBalancer;

import java.time.Duration;

/**
 * A named pool as requests see it: the balancer of its backends. A reload makes a new one with the same name (and
 * the backends it kept: {@link Pools}); an exchange holds the one it was routed to and finishes on it.
 *
 * @param name     as in {@code pools:}, or {@code default} for the {@code backends:} shorthand
 * @param balancer picks among its backends, with the pool's panic state; its {@code policy()} names it
 * @param slowStart the pool's {@code slow-start}, zero when off
 */
public record Pool(String name, LoadBalancer balancer, Duration slowStart) {
    /** Without slow start. */
    public Pool(String name, LoadBalancer balancer) {
        this(name, balancer, Duration.ZERO);
    }
}
