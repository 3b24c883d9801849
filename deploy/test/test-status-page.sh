#!/usr/bin/env bash
# The admin status page in a real browser: headless Chromium loads http://127.0.0.1:ADMIN/ from a PIBL that has
# had traffic for a few seconds, and the page it renders must carry the history charts with points on them
# (requests/s above zero somewhere). Starts one demo backend and PIBL from the built jars on free loopback
# ports, in a temporary directory; stops them at the end. Needs curl, python3 and chromium (Debian: chromium).
#   deploy/test/test-status-page.sh                          the check; prints "test-status-page: ok" last
#   deploy/test/test-status-page.sh --screenshot docs/status-page.png   also saves what the browser drew
set -euo pipefail
NAME=test-status-page
# shellcheck source=deploy/test/local-pibl.sh
. "$(dirname "${BASH_SOURCE[0]}")/local-pibl.sh"
SCREENSHOT=""
if [ "${1:-}" = "--screenshot" ]; then SCREENSHOT=$(realpath -m "${2:?a file}"); fi
command -v chromium >/dev/null || die "needs chromium"
ADMIN=$(free_port)
local_pibl_start "admin: { host: 127.0.0.1, port: $ADMIN }"

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
