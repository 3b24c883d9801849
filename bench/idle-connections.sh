#!/usr/bin/env bash
# bench/idle-connections.sh - RSS of PIBL holding N idle keep-alive client connections (default 10000).
#
#   bench/idle-connections.sh [N]
#
# Starts one demo backend on 127.0.0.1:19001 and PIBL on 127.0.0.1:18080 with the JVM flags of every
# benchmark (PIBL_JAVA_OPTS, bench/lib/common.sh), opens N connections from one Python asyncio client (each sends one GET /health and
# keeps the connection open), prints PIBL's RSS before and while they are held, and stops everything.
# Loopback only; every wait is bounded. Needs python3 and `ulimit -n` above N + 100.
set -euo pipefail
N=${1:-10000}
BENCH_NAME=idle-connections
# shellcheck source=bench/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # PIBL_JAVA_OPTS, bench_build
cd "$BENCH_ROOT"
bench_build "$BENCH_ROOT/pibl-backend-demo/target/pibl-backend-demo.jar"
(( $(ulimit -n) > N + 100 )) || ulimit -n $((N + 1000)) || { echo "idle-connections: ulimit -n too low for $N" >&2; exit 1; }
WORK=$(mktemp -d /tmp/pibl-idle.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
cat >"$WORK/pibl.yaml" <<YAML
bind: 127.0.0.1
port: 18080
backends: [127.0.0.1:19001]
admin: { enabled: false }
health-check: { enabled: false }
limits: { max-connections: $((N + 1000)) }
timeouts: { client-idle: 300s, client-header: 60s }
log: { file: $WORK/logs/pibl.log }
cache: { directory: $WORK/cache }
YAML
java -Xmx128m -jar pibl-backend-demo/target/pibl-backend-demo.jar --bind 127.0.0.1 --port 19001 --name b1 >/dev/null 2>&1 &
pids+=($!)
# shellcheck disable=SC2086
java $PIBL_JAVA_OPTS -jar pibl-app/target/pibl.jar --config "$WORK/pibl.yaml" >"$WORK/pibl.out" 2>&1 &
pibl=$!
pids+=("$pibl")
for _ in $(seq 1 100); do curl -fsS -o /dev/null --max-time 1 http://127.0.0.1:18080/health 2>/dev/null && break; sleep 0.2; done
rss() { awk '/VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$pibl/status"; }
echo "PIBL RSS before: $(rss)"
cat >"$WORK/idle.py" <<'PY'
import asyncio, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
async def main():
    conns, sem = [], asyncio.Semaphore(500)
    async def one():
        async with sem:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
            await w.drain()
            await r.readuntil(b"\r\n\r\n")
            conns.append(w)
    await asyncio.gather(*[one() for _ in range(n)])
    print("open", len(conns), flush=True)
    await asyncio.sleep(20)
asyncio.run(main())
PY
timeout 120 python3 "$WORK/idle.py" "$N" 18080 >"$WORK/idle.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 90); do grep -q '^open' "$WORK/idle.out" && break; sleep 1; done
grep '^open' "$WORK/idle.out" || { echo "idle-connections: the client did not open $N connections:" >&2; cat "$WORK/idle.out" >&2; exit 1; }
sleep 3
echo "PIBL RSS with $(ls /proc/$pibl/fd | wc -l) open fds ($N idle keep-alive clients): $(rss)"
