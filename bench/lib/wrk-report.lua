-- wrk script of bench/run.sh: at the end, one machine-readable line (latencies in microseconds):
-- RESULT requests duration_us bytes connect_errors read_errors write_errors non2xx timeouts p50 p90 p99 max
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d %.0f %.0f %.0f %.0f\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
