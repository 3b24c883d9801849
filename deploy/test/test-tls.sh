#!/usr/bin/env bash
# HTTPS on PIBL's TLS port, driven by tools that are not Netty's, with a self-signed certificate made here:
#   curl --http2 (ALPN h2)       a GET answered over HTTP/2, then a cache MISS and a HIT; HSTS on the answer
#   curl --http1.1 (ALPN http/1.1)  the same port speaks HTTP/1.1 too
#   h2load -n 200 -c 2 -m 10     200 requests over 2 TLS connections, 10 streams each at once: all 2xx
#   a WebSocket echo over wss    deploy/test/ws-echo.py: 101, one masked text frame out, the same text back
#   cleartext port               308 to https:// (redirect-http)
# Starts one demo backend and PIBL from the built jars on free loopback ports, in a temporary directory; stops
# them at the end. Needs curl, openssl, python3 and h2load (Debian: nghttp2-client). Prints "test-tls: ok" last.
set -euo pipefail
NAME=test-tls
# shellcheck source=deploy/test/local-pibl.sh
. "$(dirname "${BASH_SOURCE[0]}")/local-pibl.sh"
# shellcheck source=deploy/lib/self-signed.sh
. "$REPO_ROOT/deploy/lib/self-signed.sh"
command -v h2load >/dev/null || die "needs h2load"
local_pibl_workdir
self_signed_cert "$WORK/site.crt" "$WORK/site.key" 2 "DNS:localhost,IP:127.0.0.1" || die "could not make a certificate"
TLS_PORT=$(free_port)
local_pibl_start "admin: { enabled: false }" \
	"tls: { port: $TLS_PORT, certificates: [{ cert: site.crt, key: site.key }], redirect-http: true, hsts: 1h }"
for _ in $(seq 1 50); do (echo >"/dev/tcp/127.0.0.1/$TLS_PORT") 2>/dev/null && break; sleep 0.1; done
BASE="https://127.0.0.1:$TLS_PORT"
CURL=(curl -sS --cacert "$WORK/site.crt" --max-time 10)

version=$("${CURL[@]}" --http2 -o /dev/null -w '%{http_version} %{http_code}' "$BASE/api/info")
[ "$version" = "2 200" ] || die "curl --http2 https /api/info: expected '2 200', got '$version'"
first=$("${CURL[@]}" --http2 -D - -o /dev/null "$BASE/cache/max-age/60" | tr -d '\r')
grep -qi '^x-cache: MISS' <<<"$first" || die "first cache GET over https is not a MISS: $first"
grep -qi '^strict-transport-security: max-age=3600' <<<"$first" || die "no HSTS header over https: $first"
for _ in $(seq 1 20); do # the entry is committed to disk in the background
	second=$("${CURL[@]}" --http2 -D - -o /dev/null "$BASE/cache/max-age/60" | tr -d '\r')
	grep -qi '^x-cache: HIT' <<<"$second" && break
	sleep 0.1
done
grep -qi '^x-cache: HIT' <<<"$second" || die "cache GET over https never became a HIT: $second"

http1=$("${CURL[@]}" --http1.1 -o /dev/null -w '%{http_version} %{http_code}' "$BASE/api/info")
[ "$http1" = "1.1 200" ] || die "HTTP/1.1 over TLS: expected '1.1 200', got '$http1'"

load=$(timeout 60 h2load -n 200 -c 2 -m 10 "$BASE/api/info" 2>&1)
grep -q 'requests: 200 total, 200 started, 200 done, 200 succeeded' <<<"$load" || die "h2load: $load"
grep -q 'status codes: 200 2xx' <<<"$load" || die "h2load status codes: $load"
grep -q 'Application protocol: h2' <<<"$load" || die "h2load did not negotiate h2: $load"

echo=$(timeout 20 python3 "$REPO_ROOT/deploy/test/ws-echo.py" "wss://127.0.0.1:$TLS_PORT/ws" --cacert "$WORK/site.crt" \
	--text "hello over wss") || die "WebSocket over wss failed: $echo"
[ "$echo" = "hello over wss" ] || die "WebSocket echo over wss: expected 'hello over wss', got '$echo'"

redirect=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$PORT/api/info?a=1")
[ "$redirect" = "308 https://127.0.0.1:$TLS_PORT/api/info?a=1" ] || die "cleartext port: expected a 308 to https, got '$redirect'"
grep -q '"GET /api/info HTTP/2.0".*TLSv1.3' "$WORK/pibl.log" || die "the access log has no HTTP/2.0 line over TLSv1.3"
echo "test-tls: ok"
