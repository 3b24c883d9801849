#!/usr/bin/env bash
# HTTP/2 by prior knowledge (h2c) on PIBL's cleartext port, driven by tools that are not Netty's:
#   curl --http2-prior-knowledge   a GET answered over HTTP/2 by a demo backend, then a cache MISS and a HIT
#   h2load -n 200 -c 2 -m 10       200 requests over 2 connections, 10 streams each at once: all 2xx
#   curl (HTTP/1.1)                still served on the same port
# Starts one demo backend and PIBL from the built jars on free loopback ports, in a temporary directory; stops
# them at the end. Needs curl and h2load (Debian: nghttp2-client). Prints "test-h2c: ok" last.
set -euo pipefail
NAME=test-h2c
# shellcheck source=deploy/test/local-pibl.sh
. "$(dirname "${BASH_SOURCE[0]}")/local-pibl.sh"
command -v h2load >/dev/null || die "needs h2load"
local_pibl_start "admin: { enabled: false }" "http2: { enabled: true, max-concurrent-streams: 100 }"

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
