#!/usr/bin/env bash
# The admin status page in a real browser: headless Chromium loads http://127.0.0.1:ADMIN/ from a PIBL that has
# had traffic for a few seconds, and the page it renders must carry the history charts with points on them
# (requests/s above zero somewhere). Starts one demo backend and PIBL from the built jars on free loopback
# ports, in a temporary directory; stops them at the end. Needs curl, python3 and chromium (Debian: chromium).
#   deploy/test/test-status-page.sh                          the check; prints "test-status-page: ok" last
#   deploy/test/test-status-page.sh --screenshot docs/status-page.png   also saves what the browser drew
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PIBL_JAR=${PIBL_JAR:-$REPO_ROOT/pibl-app/target/pibl.jar}
BACKEND_JAR=${BACKEND_JAR:-$REPO_ROOT/pibl-backend-demo/target/pibl-backend-demo.jar}
SCREENSHOT=""
if [ "${1:-}" = "--screenshot" ]; then SCREENSHOT=$(realpath -m "${2:?a file}"); fi

die() { echo "test-status-page: $*" >&2; exit 1; }
for tool in curl python3 java chromium; do command -v "$tool" >/dev/null || die "needs $tool"; done
for jar in "$PIBL_JAR" "$BACKEND_JAR"; do [ -r "$jar" ] || die "no $jar: build first (mvn -B -q package -DskipTests)"; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
WORK=$(mktemp -d /tmp/pibl-status-page.XXXXXX)
pids=()
cleanup() {
	local status=$?
	trap - EXIT INT TERM
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "$status" != 0 ]; then echo "test-status-page: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BACKEND=$(free_port)
PORT=$(free_port)
ADMIN=$(free_port)
cat >"$WORK/pibl.yaml" <<YAML
bind: 127.0.0.1
port: $PORT
backends: [127.0.0.1:$BACKEND]
log: { file: $WORK/pibl.log }
cache: { directory: $WORK/cache }
admin: { host: 127.0.0.1, port: $ADMIN }
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

# Traffic for about four seconds (bounded: 120 requests), cacheable and not, so every chart has something.
for i in $(seq 1 120); do
	curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/cache/max-age/60?n=$((i % 7))" || true
	curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/api/info" || true
	sleep 0.03
done
# The history samples once a second: wait (bounded) until it holds a few seconds.
for _ in $(seq 1 50); do
	n=$(curl -fsS --max-time 2 "http://127.0.0.1:$ADMIN/status/history" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["seconds"]))')
	[ "$n" -ge 4 ] && break
	sleep 0.2
done

browser=(chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$WORK/chromium")
timeout 60 "${browser[@]}" --dump-dom "http://127.0.0.1:$ADMIN/" >"$WORK/page.html" 2>"$WORK/chromium.log" ||
	die "chromium failed; see $WORK/chromium.log"
python3 - "$WORK/page.html" <<'PY' || die "the page the browser rendered has no charts with points"
import re, sys
page = open(sys.argv[1]).read()
charts = re.findall(r'aria-label="([^"]+)"[^>]*>\s*<polyline[^>]*points="([^"]*)"', page)
assert len(charts) >= 5, f"{len(charts)} charts"
points = {name: [tuple(map(float, p.split(","))) for p in pts.split()] for name, pts in charts}
assert len(points["Requests/s"]) >= 3, points["Requests/s"]
assert min(y for _, y in points["Requests/s"]) < 60, "requests/s never above zero"
print(f"test-status-page: {len(charts)} charts, {len(points['Requests/s'])} seconds of requests/s")
PY
if [ -n "$SCREENSHOT" ]; then
	timeout 60 "${browser[@]}" --hide-scrollbars --window-size=1280,1100 --screenshot="$SCREENSHOT" \
		"http://127.0.0.1:$ADMIN/" >>"$WORK/chromium.log" 2>&1 || die "no screenshot; see $WORK/chromium.log"
	echo "test-status-page: screenshot in $SCREENSHOT"
fi
echo "test-status-page: ok"
