#!/usr/bin/env bash
# Rehearse the AWS topology on one Linux machine: five network namespaces on a bridge, all addresses in
# 198.18.0.0/24, nothing in the root namespace, no traffic leaving the namespaces.
#
#   switch   bridge br0, one veth per host
#   pibl     198.18.0.10   PIBL on :443 (https, HTTP/2) and :80 (308 to https); admin on its own 127.0.0.1:8081
#   be1-be3  198.18.0.11-13 demo backends backend-1..3 on :9001
#   client   198.18.0.100  where the checks run from
#
# Each host is installed by the same cloud-init user-data that deploy/aws/pibl-aws.sh renders (run with
# PIBL_ROOT so that it writes under a per-host directory), and runs the ExecStart= line of the installed
# systemd unit, its LoadCredential= copies in $CREDENTIALS_DIRECTORY. PIBL's user-data makes its self-signed
# certificate as on EC2, asking a stand-in metadata service (deploy/test/fake-imds.py on 169.254.169.254 in
# PIBL's namespace, during the install only) for the public name and address. nftables in the pibl and backend
# namespaces stands in for the security groups.
#
#   sudo deploy/local/rehearse.sh [--pibl-jar PATH] [--backend-jar PATH] [--keep]
#
# Needs root; installs nftables, iproute2, curl, openssl and python3 with apt-get when missing. Runs in under 2
# minutes (enforced), removes every namespace and process it made on any exit, and exits non-zero on any failed
# check.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/render.sh
source "$HERE/../lib/render.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/unit.sh
source "$HERE/../lib/unit.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
source "$HERE/../lib/netns.sh"

PIBL_JAR="$REPO_ROOT/pibl-app/target/pibl.jar"
BACKEND_JAR="$REPO_ROOT/pibl-backend-demo/target/pibl-backend-demo.jar"
KEEP=0
TIME_LIMIT=${PIBL_REHEARSAL_TIMEOUT:-115}
NET=198.18.0
PIBL_IP=$NET.10
CLIENT_IP=$NET.100
BACKEND_IPS=("$NET.11" "$NET.12" "$NET.13")
BACKEND_NAMES=(backend-1 backend-2 backend-3)
PIBL_PORT=80
TLS_PORT=443
ADMIN_PORT=8081
# What the stand-in metadata service says the PIBL instance is called (.test: RFC 6761, never on the Internet).
PUBLIC_NAME=ec2-198-18-0-10.rehearsal.test
IMDS_IP=169.254.169.254
BACKEND_PORT=9001
TTL=60
ROUND_ROBIN_REQUESTS=30

die() { echo "rehearse: $*" >&2; exit 1; }

while [ "$#" -gt 0 ]; do
  case $1 in
    --pibl-jar) PIBL_JAR=$(realpath "${2:?}"); shift ;;
    --backend-jar) BACKEND_JAR=$(realpath "${2:?}"); shift ;;
    --keep) KEEP=1 ;;
    -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
  shift
done

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, nftables)"
for jar in "$PIBL_JAR" "$BACKEND_JAR"; do
  [ -r "$jar" ] || die "no $jar: build first with  mvn -B -q package -DskipTests"
done
[ -x /usr/bin/java ] || die "no /usr/bin/java (the units run /usr/bin/java): apt-get install -y openjdk-17-jre-headless"

# --- tools, then the time limit for the rehearsal proper ------------------------------------------------------

if [ -z "${PIBL_REHEARSAL_TIMED:-}" ]; then
  missing=()
  command -v nft >/dev/null || missing+=(nftables)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v curl >/dev/null || missing+=(curl)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v python3 >/dev/null || missing+=(python3)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "rehearse: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get install -y -q "${missing[@]}" >/dev/null ||
      { timeout 300 apt-get update -q >/dev/null && timeout 300 apt-get install -y -q "${missing[@]}" >/dev/null; } ||
      die "could not install ${missing[*]}"
  fi
  # timeout sends TERM after the limit; the trap below then removes everything.
  again=(--pibl-jar "$PIBL_JAR" --backend-jar "$BACKEND_JAR")
  [ "$KEEP" = 0 ] || again+=(--keep)
  PIBL_REHEARSAL_TIMED=1 exec timeout -k 30 "$TIME_LIMIT" bash "$0" "${again[@]}"
fi

# --- teardown on any exit ----------------------------------------------------------------------------------------

TAG="plr$$"
WORK=$(mktemp -d "/tmp/pibl-rehearsal.XXXXXX")
NAMESPACES=()
FAILURES=()
STARTED=$SECONDS

cleanup() {
  local status=$? ns pid
  trap - EXIT INT TERM
  svc_stop_all
  netns_remove_all # anything still inside one of our namespaces was started by this script (curl, the user-data)
  if [ "$KEEP" = 1 ]; then
    echo "rehearse: kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'echo "rehearse: stopped (time limit ${TIME_LIMIT}s or signal)" >&2; exit 124' INT TERM

# --- network ---------------------------------------------------------------------------------------------------

# firewall HOST RULE... : a security group: only what the rules accept may open a connection to HOST.
firewall() {
  local host=$1 rules="" rule
  shift
  for rule in "$@"; do rules+="    $rule"$'\n'; done
  in_ns "$host" nft -f - <<EOF
table inet security_group {
  chain input {
    type filter hook input priority 0; policy drop;
    iif lo accept
    ct state established,related accept
$rules  }
}
EOF
}

echo "rehearse: network $NET.0/24 in namespaces $TAG-*"
netns_switch || die "no bridge"
add_host pibl "$PIBL_IP"
for i in 0 1 2; do add_host "be$((i + 1))" "${BACKEND_IPS[$i]}"; done
add_host client "$CLIENT_IP"

# The same rules as deploy/aws: PIBL's two ports from anywhere, the backends' port only from PIBL.
firewall pibl "tcp dport { $TLS_PORT, $PIBL_PORT } accept"
for i in 1 2 3; do firewall "be$i" "ip saddr $PIBL_IP tcp dport $BACKEND_PORT accept"; done

# --- hosts: the AWS user-data, then the units' ExecStart ----------------------------------------------------------

install_host() { # HOST USER_DATA_FILE
  mkdir -p "$WORK/hosts/$1"
  in_ns "$1" env PIBL_ROOT="$WORK/hosts/$1" bash "$2" >"$WORK/user-data-$1.log" 2>&1 ||
    { cat "$WORK/user-data-$1.log" >&2; die "the user-data of $1 failed"; }
}

backends=()
for i in 0 1 2; do
  host="be$((i + 1))" name=${BACKEND_NAMES[$i]}
  render_user_data_backend rehearsal "file://$BACKEND_JAR" "$name" 0.0.0.0 "$BACKEND_PORT" >"$WORK/user-data-$host.sh"
  install_host "$host" "$WORK/user-data-$host.sh"
  unit_exec "$WORK/hosts/$host/etc/systemd/system/pibl-backend@.service" "$name" "$WORK/hosts/$host"
  svc_start "$name" "$(ns_name "$host")" "$WORK/$name.out"
  backends+=("${BACKEND_IPS[$i]}:$BACKEND_PORT")
done
render_user_data_pibl rehearsal "file://$PIBL_JAR" 0.0.0.0 "$PIBL_PORT" "$TLS_PORT" true "$ADMIN_PORT" "$TTL" "" "" \
  "${backends[@]}" >"$WORK/user-data-pibl.sh"
# The metadata service, as EC2 has it, for the user-data's certificate; gone before PIBL takes port 80.
ip -n "$(ns_name pibl)" addr add "$IMDS_IP/32" dev lo
# Not through in_ns (a function, so $! would be a subshell's): ip execs python3, and $! is python3 itself.
ip netns exec "$(ns_name pibl)" python3 "$REPO_ROOT/deploy/test/fake-imds.py" --bind "$IMDS_IP" --port 80 \
  --public-hostname "$PUBLIC_NAME" --public-ipv4 "$PIBL_IP" >"$WORK/imds.out" 2>"$WORK/imds.log" &
IMDS_PID=$!
for ((i = 0; i < 50; i++)); do grep -qs '^port ' "$WORK/imds.out" && break; sleep 0.1; done
grep -q '^port ' "$WORK/imds.out" || { cat "$WORK/imds.log" >&2; die "the stand-in metadata service did not start"; }
install_host pibl "$WORK/user-data-pibl.sh"
kill "$IMDS_PID" 2>/dev/null || true
wait "$IMDS_PID" 2>/dev/null || true
ip -n "$(ns_name pibl)" addr del "$IMDS_IP/32" dev lo
PIBL_ROOT_DIR="$WORK/hosts/pibl"
CERT="$PIBL_ROOT_DIR/etc/pibl/tls.crt"
unit_exec "$PIBL_ROOT_DIR/etc/systemd/system/pibl.service" "" "$PIBL_ROOT_DIR"
PIBL_WORKDIR=$UNIT_WORKDIR
echo "rehearse: pibl runs: ${UNIT_ARGV[*]#"$WORK/hosts/pibl"}"
svc_start pibl "$(ns_name pibl)" "$WORK/pibl.out"

show_logs() {
  local f
  for f in "$WORK"/*.out "$PIBL_WORKDIR/logs/pibl.log"; do
    [ -s "$f" ] || continue
    echo "----- last lines of ${f#"$WORK/"}" >&2
    tail -n 15 "$f" >&2
  done
}

for i in 0 1 2; do
  svc_wait_http "${BACKEND_NAMES[$i]}" "$(ns_name "be$((i + 1))")" "http://127.0.0.1:$BACKEND_PORT/health" 60 ||
    { show_logs; die "backend ${BACKEND_NAMES[$i]} did not start"; }
done
# Up: the cleartext port answers (its 308), then the TLS port (-k here: the certificate is the checks' business).
if ! svc_wait_http pibl "$(ns_name client)" "http://$PIBL_IP:$PIBL_PORT/health" 60 ||
  ! svc_wait_http pibl "$(ns_name client)" "https://$PIBL_IP:$TLS_PORT/health" 10 -k; then
  show_logs
  die "PIBL did not start"
fi
echo "rehearse: 3 backends and PIBL up after $((SECONDS - STARTED))s"

# --- checks from the client namespace ---------------------------------------------------------------------------

PASSED=0
ok() { echo "  ok    $1"; PASSED=$((PASSED + 1)); }
failed() { echo "  FAIL  $1" >&2; FAILURES+=("$1"); }

from() { # HOST CURL_ARGS... : curl inside HOST's namespace, headers and body to stdout
  local host=$1
  shift
  in_ns "$host" curl -s --max-time 5 "$@"
}
# https: a client that trusts the certificate PIBL's host made for itself (as a browser would after accepting it).
tls() { # HOST CURL_ARGS...
  local host=$1
  shift
  from "$host" --cacert "$CERT" "$@"
}
header() { # NAME : the value of header NAME in the response head on stdin
  tr -d '\r' | sed -n "s/^$1: *//Ip" | head -n 1
}
BASE="https://$PIBL_IP"

echo "rehearse: checks from the client ($CLIENT_IP)"

# What EC2 serves: https on 443 with HTTP/2, under the name and address the metadata service gave.
version=$(tls client --http2 -o /dev/null -w '%{http_version} %{http_code}' "$BASE/api/info" || true)
by_name=$(tls client --http2 -o /dev/null -w '%{http_code}' --resolve "$PUBLIC_NAME:$TLS_PORT:$PIBL_IP" \
  "https://$PUBLIC_NAME/api/info" || true)
if [ "$version" = "2 200" ] && [ "$by_name" = 200 ]; then
  ok "https: curl --http2 --cacert on $BASE and https://$PUBLIC_NAME -> HTTP/2 200 (certificate made at boot, IMDSv2)"
else
  failed "https: curl --http2 $BASE/api/info -> '${version:-nothing}', https://$PUBLIC_NAME -> '${by_name:-nothing}', wanted '2 200' and 200"
fi

declare -A per_backend=()
statuses=""
for ((i = 0; i < ROUND_ROBIN_REQUESTS; i++)); do
  head=$(tls client -o /dev/null -D - "$BASE/api/info" || true)
  backend=$(header X-Backend <<<"$head")
  per_backend[${backend:-none}]=$((${per_backend[${backend:-none}]:-0} + 1))
  statuses+="$(head -n 1 <<<"$head" | cut -d' ' -f2) "
done
split=""
for name in "${!per_backend[@]}"; do split+="$name=${per_backend[$name]} "; done
split=$(tr ' ' '\n' <<<"$split" | sort | xargs)
expected_each=$((ROUND_ROBIN_REQUESTS / 3))
if [ "$split" = "backend-1=$expected_each backend-2=$expected_each backend-3=$expected_each" ]; then
  ok "round robin: $ROUND_ROBIN_REQUESTS https requests to /api/info -> $split"
else
  failed "round robin: $ROUND_ROBIN_REQUESTS https requests to /api/info -> ${split:-nothing}, wanted $expected_each each (statuses: $statuses)"
fi

body=$(tls client "$BASE/api/info" || true)
if grep -q "$CLIENT_IP" <<<"$body" && grep -qi '"via"' <<<"$body" && grep -qi '"x-forwarded-proto":"https"' <<<"$body"; then
  ok "the backend sees X-Forwarded-For $CLIENT_IP, X-Forwarded-Proto https and Via"
else
  failed "the backend's /api/info does not show X-Forwarded-For $CLIENT_IP, X-Forwarded-Proto https and Via: ${body:0:300}"
fi

cache_head() { # HOST [CURL_ARGS...] : the response head of GET /cache/max-age/60 over https
  local host=$1
  shift
  tls "$host" -o /dev/null -D - "$@" "$BASE/cache/max-age/60"
}
first=$(cache_head client | header X-Cache || true)
second_head=$(cache_head client || true)
second=$(header X-Cache <<<"$second_head")
hsts=$(header Strict-Transport-Security <<<"$second_head")
if [[ ${first^^} == MISS* && ${second^^} == HIT* ]]; then
  ok "cache over https: /cache/max-age/60 X-Cache $first, then $second"
else
  failed "cache over https: /cache/max-age/60 X-Cache '${first:-none}', then '${second:-none}', wanted MISS then HIT"
fi
if [ "$hsts" = "max-age=3600" ]; then
  ok "https answers carry Strict-Transport-Security: $hsts"
else
  failed "https answers carry Strict-Transport-Security '${hsts:-none}', wanted max-age=3600 (hsts: 1h)"
fi
if [ -n "$(find "$PIBL_WORKDIR/cache" -type f -size +0 2>/dev/null | head -n 1)" ]; then
  ok "cache: the entry is on disk under the working directory (${PIBL_WORKDIR#"$WORK/hosts/pibl"}/cache)"
else
  failed "cache: no file under ${PIBL_WORKDIR#"$WORK/hosts/pibl"}/cache after a stored response"
fi

# PURGE over https from the PIBL host's loopback (the cleartext port would redirect it too): the connection goes
# to 127.0.0.1, the URL and so the certificate check and the Host in the cache key stay the public address.
purge=$(tls pibl -o /dev/null -w '%{http_code}' -X PURGE --connect-to "$PIBL_IP:$TLS_PORT:127.0.0.1:$TLS_PORT" \
  "$BASE/cache/max-age/60" || true)
after=$(cache_head client | header X-Cache || true)
if [ "$purge" = 200 ] && [[ ${after^^} == MISS* ]]; then
  ok "PURGE over https from the PIBL host's loopback -> $purge, then X-Cache $after"
else
  failed "PURGE over https from the PIBL host's loopback -> ${purge:-no answer}, then X-Cache '${after:-none}', wanted 200 then MISS"
fi

redirect=$(from client -o /dev/null -w '%{http_code} %{redirect_url}' "http://$PIBL_IP/api/info?a=1" || true)
if [ "$redirect" = "308 $BASE/api/info?a=1" ]; then
  ok "cleartext port $PIBL_PORT: 308 to $BASE/api/info?a=1 (redirect-http)"
else
  failed "cleartext port $PIBL_PORT: '${redirect:-nothing}', wanted '308 $BASE/api/info?a=1'"
fi

WS_ECHO=(timeout 20 python3 "$REPO_ROOT/deploy/test/ws-echo.py")
echoed=$(in_ns client "${WS_ECHO[@]}" "wss://$PIBL_IP/ws" --cacert "$CERT" --text "hello from the client" 2>&1 || true)
if [ "$echoed" = "hello from the client" ]; then
  ok "WebSocket over wss://$PIBL_IP/ws: 101, and the backend's echo came back through the tunnel"
else
  failed "WebSocket over wss://$PIBL_IP/ws: '${echoed:-nothing}', wanted the echo 'hello from the client'"
fi
refused=$(in_ns client "${WS_ECHO[@]}" "ws://$PIBL_IP/ws" 2>&1 || true)
if [ "$refused" = "status: 308 location: $BASE/ws" ]; then
  ok "WebSocket over ws:// on the cleartext port: 308 to $BASE/ws, no tunnel"
else
  failed "WebSocket over ws://$PIBL_IP/ws: '${refused:-nothing}', wanted 'status: 308 location: $BASE/ws'"
fi

log="$PIBL_WORKDIR/logs/pibl.log"
log_ok() {
  [ "$(grep -c '/api/info HTTP/.*TLSv1' "$log" 2>/dev/null)" -ge "$ROUND_ROBIN_REQUESTS" ] &&
    grep -q '"GET /api/info HTTP/2.0".*TLSv1.3' "$log" && grep -q "/cache/max-age/60" "$log"
}
for ((i = 0; i < 25; i++)); do # the log may be written asynchronously: up to 5 s
  log_ok && break
  sleep 0.2
done
logged=$(grep -c '/api/info HTTP/.*TLSv1' "$log" 2>/dev/null || true)
if log_ok; then
  ok "log: logs/pibl.log on the PIBL host has $logged lines for /api/info over TLS (HTTP/2.0 among them) and the cache requests"
else
  failed "log: ${log#"$WORK/hosts/pibl"} has ${logged:-0} TLS lines for /api/info (wanted >= $ROUND_ROBIN_REQUESTS, one HTTP/2.0 over TLSv1.3) or lacks /cache/max-age/60"
fi

blocked=0
for i in 0 1 2; do
  if from client -o /dev/null --connect-timeout 1 "http://${BACKEND_IPS[$i]}:$BACKEND_PORT/health"; then
    failed "firewall: the client reached ${BACKEND_NAMES[$i]} at ${BACKEND_IPS[$i]}:$BACKEND_PORT directly"
  elif ! from pibl -o /dev/null --connect-timeout 2 "http://${BACKEND_IPS[$i]}:$BACKEND_PORT/health"; then
    failed "firewall: PIBL cannot reach ${BACKEND_NAMES[$i]} at ${BACKEND_IPS[$i]}:$BACKEND_PORT"
  else
    blocked=$((blocked + 1))
  fi
done
[ "$blocked" != 3 ] || ok "firewall: the backends answer PIBL ($PIBL_IP) but not the client"

admin=$(in_ns pibl curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/status" || true)
[ "$admin" != 000 ] || admin=""
echo "  info  admin http://127.0.0.1:$ADMIN_PORT/status on the PIBL host -> ${admin:-no answer} (not checked)"

# --- summary -----------------------------------------------------------------------------------------------------

if [ "${#FAILURES[@]}" -gt 0 ]; then
  show_logs
  echo "rehearse: FAILED ${#FAILURES[@]} check(s) after $((SECONDS - STARTED))s:" >&2
  printf '  - %s\n' "${FAILURES[@]}" >&2
  echo "rehearse: $PASSED passed, ${#FAILURES[@]} failed"
  exit 1
fi
echo "rehearse: every check passed in $((SECONDS - STARTED))s (4 hosts, 5 namespaces, removed on exit)"
echo "rehearse: $PASSED passed, 0 failed"
