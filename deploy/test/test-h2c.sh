#!/usr/bin/env bash
# HTTP/2 by prior knowledge (h2c) on PIBL's cleartext port, driven by tools that are not Netty's:
#   curl --http2-prior-knowledge   a GET answered over HTTP/2 by a demo backend, then a cache MISS and a HIT
#   h2load -n 200 -c 2 -m 10       200 requests over 2 connections, 10 streams each at once: all 2xx
#   curl (HTTP/1.1)                still served on the same port
# Starts one demo backend and PIBL from the built jars on free loopback ports, in a temporary directory; stops
# them at the end. Needs curl and h2load (Debian: nghttp2-client). Prints "test-h2c: ok" last.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PIBL_JAR=${PIBL_JAR:-$REPO_ROOT/pibl-app/target/pibl.jar}
BACKEND_JAR=${BACKEND_JAR:-$REPO_ROOT/pibl-backend-demo/target/pibl-backend-demo.jar}

die() { echo "test-h2c: $*" >&2; exit 1; }
for tool in curl h2load java; do command -v "$tool" >/dev/null || die "needs $tool"; done
for jar in "$PIBL_JAR" "$BACKEND_JAR"; do [ -r "$jar" ] || die "no $jar: build first (mvn -B -q package -DskipTests)"; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
WORK=$(mktemp -d /tmp/pibl-h2c.XXXXXX)
pids=()
cleanup() {
	local status=$?
	trap - EXIT INT TERM
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "$status" != 0 ]; then echo "test-h2c: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BACKEND=$(free_port)
PORT=$(free_port)
cat >"$WORK/pibl.yaml" <<YAML
bind: 127.0.0.1
port: $PORT
backends: [127.0.0.1:$BACKEND]
log: { file: $WORK/pibl.log }
cache: { directory: $WORK/cache }
admin: { enabled: false }
http2: { enabled: true, max-concurrent-streams: 100 }
YAML
java -Xmx128m -jar "$BACKEND_JAR" --port "$BACKEND" --name backend-1 >"$WORK/backend.log" 2>&1 &
pids+=($!)
(cd "$WORK" && exec java -Xmx256m -jar "$PIBL_JAR" --config pibl.yaml >"$WORK/pibl.out" 2>&1) &
pids+=($!)
for _ in $(seq 1 150); do
	if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/health" 2>/dev/null; then break; fi
	sleep 0.1
done
curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health" || die "PIBL did not answer on :$PORT"

version=$(curl -sS --http2-prior-knowledge -o /dev/null -w '%{http_version} %{http_code}' "http://127.0.0.1:$PORT/api/info")
[ "$version" = "2 200" ] || die "curl --http2-prior-knowledge /api/info: expected '2 200', got '$version'"
first=$(curl -sS --http2-prior-knowledge -D - -o /dev/null "http://127.0.0.1:$PORT/cache/max-age/60" | tr -d '\r')
grep -qi '^x-cache: MISS' <<<"$first" || die "first cache GET over h2c is not a MISS: $first"
sleep 0.5 # the entry is committed to disk in the background
second=$(curl -sS --http2-prior-knowledge -D - -o /dev/null "http://127.0.0.1:$PORT/cache/max-age/60" | tr -d '\r')
grep -qi '^x-cache: HIT' <<<"$second" || die "second cache GET over h2c is not a HIT: $second"

load=$(h2load -n 200 -c 2 -m 10 "http://127.0.0.1:$PORT/api/info" 2>&1)
grep -q 'requests: 200 total, 200 started, 200 done, 200 succeeded' <<<"$load" || die "h2load: $load"
grep -q 'status codes: 200 2xx' <<<"$load" || die "h2load status codes: $load"

http1=$(curl -sS --http1.1 -o /dev/null -w '%{http_version} %{http_code}' "http://127.0.0.1:$PORT/api/info")
[ "$http1" = "1.1 200" ] || die "HTTP/1.1 on the same port: expected '1.1 200', got '$http1'"
grep -q '"GET /api/info HTTP/2.0"' "$WORK/pibl.log" || die "the access log has no HTTP/2.0 line"
echo "test-h2c: ok"
