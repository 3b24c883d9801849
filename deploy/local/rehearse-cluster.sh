#!/usr/bin/env bash
# Rehearse a PIBL fleet on one Linux machine: three PIBL nodes in cluster mode behind a virtual IP that the
# kernel's own L4 load balancing spreads (nftables DNAT with a numgen map, the way kube-proxy's nftables mode
# balances a Service; an AWS NLB on EC2), three demo backends and a client, all in network namespaces on one
# bridge, every address in 198.18.0.0/24, nothing in the root namespace.
#
#   switch   bridge br0, one veth per host
#   lb       198.18.0.40   the virtual IP :80: new connections DNAT to n1..n3 in turn, source NAT to itself
#   n1-n3    198.18.0.41-43 PIBL :80, cluster peers 198.18.0.41-43:80, one shared secret
#   be       198.18.0.51   demo backends backend-1..3 on :9001-9003
#   client   198.18.0.140  where the checks run from
#
# Checks: connections to the virtual IP reach every node; a cacheable URL is fetched once from the backends
# whichever node a request reaches (MISS once, then HIT through every node); a PURGE reaches every node;
# with one node killed and taken out of the virtual IP's map (what the NLB's health check does), every request
# is still answered and only the dead node's keys are fetched again.
#
#   sudo deploy/local/rehearse-cluster.sh [--pibl-jar PATH] [--backend-jar PATH] [--keep] [--measure]
#
# --measure then runs a Zipf load (s = 0.9 over 10,000 cacheable URLs, bench/lua/zipf.lua under wrk, 30
# connections, 8,000 requests) through the virtual IP three ways: the fleet in cluster mode, each cache holding a third of
# the URLs; three independent nodes with the same caches; one node holding them all. It prints, for each, the
# requests, the hit ratio the client saw, and the backend fetches per distinct URL fetched. Then, with the fleet
# warm, it kills one node with kill -9 in the middle of a 20 s Zipf load (out of the virtual IP's map at once, as
# an NLB target that fails its checks) and prints what failed and what share of the keys asked for after the kill
# had to be fetched again; and it compares hits on a key's owner with hits through another node (p50/p99),
# without and with hot copies. Before the kill it compares the fleet's throughput and CPU per request with one
# node's under the same load.
#
# Needs root; installs nftables, iproute2 and curl with apt-get when missing. Runs in under 2 minutes
# (enforced), removes every namespace and process it made on any exit, exits non-zero on any failed check.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
source "$HERE/../lib/netns.sh"

PIBL_JAR="$REPO_ROOT/pibl-app/target/pibl.jar"
BACKEND_JAR="$REPO_ROOT/pibl-backend-demo/target/pibl-backend-demo.jar"
KEEP=0
MEASURE=0
ZIPF_URLS=10000
ZIPF_PER_THREAD=4000 # x 2 wrk threads: every run sees a stream of 8,000 requests
TIME_LIMIT=${PIBL_REHEARSAL_TIMEOUT:-115}
NET=198.18.0
VIP=$NET.40
NODE_IPS=("$NET.41" "$NET.42" "$NET.43")
BACKEND_IP=$NET.51
CLIENT_IP=$NET.140
PORT=80
KEYS=12

die() { echo "rehearse-cluster: $*" >&2; exit 1; }

while [ "$#" -gt 0 ]; do
  case $1 in
    --pibl-jar) PIBL_JAR=$(realpath "${2:?}"); shift ;;
    --backend-jar) BACKEND_JAR=$(realpath "${2:?}"); shift ;;
    --keep) KEEP=1 ;;
    --measure) MEASURE=1 ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
  shift
done

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, nftables)"
for jar in "$PIBL_JAR" "$BACKEND_JAR"; do
  [ -r "$jar" ] || die "no $jar: build first with  mvn -B -q package -DskipTests"
done
command -v java >/dev/null || die "no java on PATH"

if [ -z "${PIBL_REHEARSAL_TIMED:-}" ]; then
  missing=()
  command -v nft >/dev/null || missing+=(nftables)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v curl >/dev/null || missing+=(curl)
  [ "$MEASURE" = 0 ] || command -v wrk >/dev/null || missing+=(wrk)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "rehearse-cluster: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    { timeout 300 apt-get update -q >/dev/null && timeout 300 apt-get install -y -q "${missing[@]}" >/dev/null; } ||
      die "could not install ${missing[*]}"
  fi
  again=(--pibl-jar "$PIBL_JAR" --backend-jar "$BACKEND_JAR")
  [ "$KEEP" = 0 ] || again+=(--keep)
  [ "$MEASURE" = 0 ] || { again+=(--measure); TIME_LIMIT=$((TIME_LIMIT + 660)); }
  PIBL_REHEARSAL_TIMED=1 exec timeout -k 30 "$TIME_LIMIT" bash "$0" "${again[@]}"
fi

# --- teardown on any exit ----------------------------------------------------------------------------------------

TAG="plc$$"
WORK=$(mktemp -d "/tmp/pibl-cluster-rehearsal.XXXXXX")
NAMESPACES=()
FAILURES=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  netns_remove_all
  if [ "$KEEP" = 1 ]; then echo "rehearse-cluster: kept $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'echo "rehearse-cluster: stopped (time limit ${TIME_LIMIT}s or signal)" >&2; exit 124' INT TERM

PASSED=0
check() { # NAME COMMAND... : runs the command, records a failure instead of stopping
  local name=$1
  shift
  if "$@"; then echo "  ok   $name"; PASSED=$((PASSED + 1)); else echo "  FAIL $name"; FAILURES+=("$name"); fi
}

# --- network -----------------------------------------------------------------------------------------------------

echo "rehearse-cluster: network $NET.0/24 in namespaces $TAG-*"
netns_switch || die "no bridge"
add_host lb "$VIP"
for i in 0 1 2; do add_host "n$((i + 1))" "${NODE_IPS[$i]}"; done
add_host be "$BACKEND_IP"
add_host client "$CLIENT_IP"

# The virtual IP: each new connection to $VIP:80 goes to the next node (numgen inc mod N over a map), replies come
# back through the balancer (source NAT), conntrack keeps a connection on its node. set_nodes rewrites the map.
in_ns lb sysctl -qw net.ipv4.ip_forward=1
set_nodes() { # IP... : the nodes the virtual IP spreads over
  local map="" i=0 ip
  for ip in "$@"; do map+="${map:+, }$i : $ip"; i=$((i + 1)); done
  in_ns lb nft -f - <<EOF
table ip vip
delete table ip vip
table ip vip {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $VIP tcp dport $PORT dnat to numgen inc mod $# map { $map }
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ct status dnat ip daddr { $(IFS=,; echo "$*") } masquerade
  }
}
EOF
}
set_nodes "${NODE_IPS[@]}"

# --- backends and nodes ---------------------------------------------------------------------------------------

start_bg() { # HOST LOG COMMAND...
  local host=$1 log=$2
  shift 2
  ip netns exec "$(ns_name "$host")" "$@" >"$log" 2>&1 &
  disown # killed by cleanup (or on purpose): no "Killed" line from bash
}

for i in 1 2 3; do
  start_bg be "$WORK/backend-$i.log" java -Xmx64m -jar "$BACKEND_JAR" --bind 0.0.0.0 --port "900$i" --name "backend-$i"
done
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/cluster.key"

# start_nodes CLUSTER MAX_ENTRIES N [HOT [PORT]] : PIBL on the first N nodes, in cluster mode (on) or not (off),
# each cache holding at most MAX_ENTRIES entries (0: the default), with fresh cache directories and logs; the
# virtual IP then spreads over those N. HOT, when given and not empty, is the cluster's hot-copy block
# ({ max-size: 64m, ttl: 5s }). PORT (default $PORT) is the port the nodes listen on; on another port they are
# another set of JVMs beside the first (directories nK-PORT), which the virtual IP reaches on that same port
# once vip_port PORT has said so (set_nodes is left alone).
start_nodes() {
  local cluster=$1 max_entries=$2 count=$3 hot=${4:-} port=${5:-$PORT} i dir peers=""
  for ((i = 0; i < count; i++)); do peers+="${peers:+, }${NODE_IPS[$i]}:$port"; done
  for ((i = 0; i < count; i++)); do
    dir="$WORK/n$((i + 1))"
    [ "$port" = "$PORT" ] || dir+="-$port"
    rm -rf "$dir"
    mkdir -p "$dir"
    cat >"$dir/pibl.yaml" <<EOF
bind: 0.0.0.0
port: $port
backends: [$BACKEND_IP:9001, $BACKEND_IP:9002, $BACKEND_IP:9003]
log: { file: $dir/pibl.log }
cache: { enabled: true, directory: $dir/cache, ttl: 60s, max-entries: $max_entries }
admin: { enabled: false }
EOF
    if [ "$cluster" = on ]; then
      cat >>"$dir/pibl.yaml" <<EOF
cluster:
  self: ${NODE_IPS[$i]}:$port
  peers: [$peers]
  secret-file: $WORK/cluster.key
EOF
      [ -z "$hot" ] || echo "  hot-copy: $hot" >>"$dir/pibl.yaml"
    fi
    (cd "$dir" && start_bg "n$((i + 1))" "$dir/stdout.log" java -Xmx128m -jar "$PIBL_JAR" --config "$dir/pibl.yaml")
  done
  for ((i = 0; i < count; i++)); do
    dir="$WORK/n$((i + 1))"
    [ "$port" = "$PORT" ] || dir+="-$port"
    wait_http client "http://${NODE_IPS[$i]}:$port/api/info" ||
      die "node n$((i + 1)) on :$port did not start: $(tail -5 "$dir/stdout.log")"
  done
  [ "$cluster" = off ] || wait_fleet "$count" "$port"
  [ "$port" != "$PORT" ] || set_nodes "${NODE_IPS[@]:0:$count}"
}

# wait_fleet N PORT : until each of the first N nodes on PORT has every peer it logged DOWN back UP (10 s at
# most). Nodes start seconds apart: the first ones' checks find the late ones not listening yet and take them
# out until two checks pass; a key asked for in that moment is fetched by its next owner as well as its own.
# That is the fleet starting, not what the checks below are about.
wait_fleet() {
  local count=$1 port=$2 i j log ip settled tries
  for ((tries = 0; tries < 50; tries++)); do
    settled=1
    for ((i = 1; i <= count; i++)); do
      log="$WORK/n$i"
      [ "$port" = "$PORT" ] || log+="-$port"
      log+=/stdout.log
      for ((j = 0; j < count; j++)); do
        ip=${NODE_IPS[$j]}:$port
        [ "$(grep -c "backend $ip DOWN" "$log" 2>/dev/null || true)" -le "$(grep -c "backend $ip UP" "$log" 2>/dev/null || true)" ] ||
          settled=0
      done
    done
    [ "$settled" = 0 ] || return 0
    sleep 0.2
  done
  echo "rehearse-cluster: the fleet on :$port had a peer still DOWN after 10 s; going on" >&2
}

stop_nodes() {
  local i pid
  for i in 1 2 3; do
    for pid in $(ip netns pids "$(ns_name "n$i")" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  done
}

wait_http() { # HOST URL : until it answers (25 s at most)
  local host=$1 url=$2 i
  for ((i = 0; i < 250; i++)); do
    in_ns "$host" curl -s -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.1
  done
  return 1
}
for i in 1 2 3; do wait_http be "http://127.0.0.1:900$i/api/info" || die "backend-$i did not start: $(tail -5 "$WORK/backend-$i.log")"; done
start_nodes on 0 3
echo "rehearse-cluster: backends and nodes up after ${SECONDS}s"

# --- checks -------------------------------------------------------------------------------------------------------

vip_get() { # PATH : X-Cache of a GET on a new connection to the virtual IP (empty on failure)
  in_ns client curl -s -o /dev/null -D - --max-time 5 -H 'Host: shop.test' "http://$VIP:$PORT$1" |
    tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache" { print $2 }'
}
# From each node's own log file (log.file in its pibl.yaml): also checks that the file is where it was told to be.
node_lines() { grep -c 'POST /api/spread' "$WORK/n$1/pibl.log" 2>/dev/null || echo 0; }

echo "rehearse-cluster: checks"
# POST: not cacheable, so answered by the node that took the connection, with no hop to an owner.
for ((i = 0; i < 30; i++)); do
  in_ns client curl -s -o /dev/null --max-time 5 -X POST -d x "http://$VIP:$PORT/api/spread" || true
done
spread_ok() { local n; for n in 1 2 3; do [ "$(node_lines "$n")" = 10 ] || return 1; done; }
check "the virtual IP spreads new connections evenly: $(node_lines 1)/$(node_lines 2)/$(node_lines 3) of 30" spread_ok

# Each key three times through the virtual IP, so through three different nodes in turn.
misses=0 hits=0 failed=0
for ((k = 0; k < KEYS; k++)); do
  for r in 1 2 3; do
    case $(vip_get "/cache/max-age/60?k=$k") in
      MISS) misses=$((misses + 1)) ;; HIT) hits=$((hits + 1)) ;; *) failed=$((failed + 1)) ;;
    esac
  done
done
check "each of $KEYS keys fetched once for the fleet: $misses MISS, $hits HIT, $failed failed" \
  test "$misses" = "$KEYS" -a "$hits" = "$((2 * KEYS))" -a "$failed" = 0

purge=$(in_ns n1 curl -s --max-time 5 -X PURGE -H 'Host: shop.test' "http://127.0.0.1:$PORT/cache/max-age/60?k=0")
check "a PURGE on one node answers for all three: $purge" \
  bash -c '[[ $1 == *"\"purged\":1"* && $(grep -o "198.18.0.4[123]:80\":[0-9]" <<<"$1" | wc -l) == 3 ]]' _ "$purge"
check "then the purged key is fetched again" test "$(vip_get '/cache/max-age/60?k=0')" = MISS

# A node dies: kill -9, then out of the virtual IP's map (the NLB's target health check).
for pid in $(ip netns pids "$(ns_name n3)"); do kill -KILL "$pid" 2>/dev/null || true; done
set_nodes "${NODE_IPS[0]}" "${NODE_IPS[1]}"
misses=0 hits=0 failed=0
for ((k = 1; k < KEYS; k++)); do
  for r in 1 2; do
    case $(vip_get "/cache/max-age/60?k=$k") in
      MISS) misses=$((misses + 1)) ;; HIT) hits=$((hits + 1)) ;; *) failed=$((failed + 1)) ;;
    esac
  done
done
check "with n3 dead every request is answered ($failed failed)" test "$failed" = 0
check "only n3's keys are fetched again: $misses of $((KEYS - 1)) keys, about a third" \
  test "$misses" -ge 1 -a "$misses" -le $(((KEYS - 1) * 2 / 3))

echo "rehearse-cluster: $PASSED passed, ${#FAILURES[@]} failed, ${SECONDS}s"
if [ "${#FAILURES[@]}" -gt 0 ]; then
  for i in 1 2 3; do echo "--- n$i"; tail -5 "$WORK/n$i/stdout.log"; done
  exit 1
fi
echo "rehearse-cluster: all checks passed"
[ "$MEASURE" = 1 ] || exit 0

# --- measurements ----------------------------------------------------------------------------------------------

# measure NAME CLUSTER MAX_ENTRIES NODES : one Zipf run through the virtual IP, then what the nodes' logs say.
measure() {
  local name=$1 out fetches distinct
  stop_nodes
  rm -rf "$WORK"/n[123] # the last run's logs and caches: only this run's nodes count
  start_nodes "$2" "$3" "$4"
  out=$(in_ns client env ZIPF_N="$ZIPF_URLS" ZIPF_S=0.9 ZIPF_MAX="$ZIPF_PER_THREAD" timeout 40 wrk --latency -t 2 -c 30 -d 30s \
    -s "$REPO_ROOT/bench/lua/zipf.lua" "http://$VIP:$PORT" 2>&1)
  # A fetch: an access line whose upstream is a backend (198.18.0.51), the request a MISS.
  fetches=$(cat "$WORK"/n*/pibl.log | grep -c " $BACKEND_IP:900[0-9] MISS " || true)
  distinct=$(cat "$WORK"/n*/pibl.log | grep " $BACKEND_IP:900[0-9] MISS " | grep -o 'k=[0-9]*' | sort -u | wc -l)
  printf '  %-44s %s  fetches %s of %s distinct URLs: %s per URL; p50/p99 %s/%s\n' "$name" \
    "$(grep -o 'requests [0-9]* hits [0-9]* hit-ratio [0-9.]*' <<<"$out")" "$fetches" "$distinct" \
    "$(awk -v f="$fetches" -v d="$distinct" 'BEGIN { printf "%.2f", d ? f / d : 0 }')" \
    "$(awk '$1 == "50%" { print $2 }' <<<"$out")" "$(awk '$1 == "99%" { print $2 }' <<<"$out")"
}
echo "rehearse-cluster: Zipf s=0.9 over $ZIPF_URLS URLs, $((2 * ZIPF_PER_THREAD)) requests (wrk -t 2 -c 30) through the virtual IP"
third=$(((ZIPF_URLS + 2) / 3))
measure "3 nodes, cluster on, caches of $third" on "$third" 3
measure "3 independent nodes, caches of $third" off "$third" 3
measure "1 node, a cache of $ZIPF_URLS" off "$ZIPF_URLS" 1

# --- the fleet's throughput against one node's --------------------------------------------------------------
# Three contenders side by side, all started first: the fleet in cluster
# mode (the virtual IP's port 80), the same fleet with hot copies (its own JVMs on port 81 of each node) and one
# node holding every URL (port 82 of n1), each warm from 60 s of the Zipf load. Then 3 rounds of 10 s (time-bounded, 30 connections) per contender,
# their order rotating each round, through the virtual IP. Every PIBL JVM here shares the machine's cores with
# the others and with wrk, so the fleet cannot serve more than one node does; what carries over to hosts of
# their own is the CPU the fleet spends per request (the hop included), summed over its nodes' processes from
# /proc, against one node's: the fleet's CPU-bound capacity is about N x one node's x (one node's CPU per
# request / the fleet's). Ratios are of the same round (this machine is shared: rounds differ).
vip_port() { # PORT IP... : new connections to $VIP:PORT go to those nodes in turn, on the same port
  local port=$1 map="" i=0 ip
  shift
  for ip in "$@"; do map+="${map:+, }$i : $ip"; i=$((i + 1)); done
  in_ns lb nft -f - <<EOF
table ip vip$port
delete table ip vip$port
table ip vip$port {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $VIP tcp dport $port dnat to numgen inc mod $# map { $map }
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ct status dnat ip daddr { $(IFS=,; echo "$*") } tcp dport $port masquerade
  }
}
EOF
}
cpu_ticks() { # DIR... : utime + stime, in clock ticks, of the PIBL processes started with DIR/pibl.yaml
  local d pid total=0
  for d in "$@"; do
    for pid in $(pgrep -f -- "--config $WORK/$d/pibl.yaml" || true); do
      total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
  done
  echo "$total"
}
zipf_load() { # PORT SECONDS : the Zipf load through the virtual IP on PORT; wrk's output
  in_ns client env ZIPF_N="$ZIPF_URLS" timeout $(($2 + 10)) wrk --latency -t 2 -c 30 -d "${2}s" \
    -s "$REPO_ROOT/bench/lua/zipf.lua" "http://$VIP:$1" 2>&1
}
# round NAME PORT DIR... : one measured run; appends "NAME|req/s|CPU ms per request|p50|p99|hit ratio" to rounds.txt
round() {
  local name=$1 port=$2 before after out reqs
  shift 2
  before=$(cpu_ticks "$@")
  out=$(zipf_load "$port" 10)
  after=$(cpu_ticks "$@")
  reqs=$(grep -o 'requests [0-9][0-9]* hits' <<<"$out" | grep -o '[0-9][0-9]*' || echo 0)
  printf '%s|%s|%s|%s|%s|%s\n' "$name" "$(awk '/Requests\/sec/ { print $2 }' <<<"$out")" \
    "$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="${reqs:-0}" \
      'BEGIN { printf "%.3f", n ? t * 1000 / hz / n : 0 }')" \
    "$(awk '$1 == "50%" { print $2 }' <<<"$out")" "$(awk '$1 == "99%" { print $2 }' <<<"$out")" \
    "$(grep -o 'hit-ratio [0-9.]*' <<<"$out" | grep -o '[0-9.]*$')" >>"$WORK/rounds.txt"
}
stop_nodes
rm -rf "$WORK"/n[123] "$WORK"/n[123]-*
start_nodes on 0 3
start_nodes on 0 3 '{ max-size: 64m, ttl: 5s }' 81
start_nodes off "$ZIPF_URLS" 1 '' 82
vip_port 81 "${NODE_IPS[@]}"
vip_port 82 "${NODE_IPS[0]}"
CONTENDERS=("1 node, a cache of $ZIPF_URLS|82|n1-82" "3 nodes, cluster on|80|n1 n2 n3"
  "3 nodes, cluster on, hot-copy|81|n1-81 n2-81 n3-81")
# 60 s each: seven fresh JVMs compiling at once on two cores take that long to reach their steady state (with
# 15 s the fleet's CPU per request was 7x one node's, with 30 s 4-5x and still falling round after round).
for c in "${CONTENDERS[@]}"; do zipf_load "$(cut -d'|' -f2 <<<"$c")" 60 >/dev/null; done
: >"$WORK/rounds.txt"
for r in 0 1 2; do
  for k in 0 1 2; do
    IFS='|' read -r name port dirs <<<"${CONTENDERS[$(((r + k) % 3))]}"
    # shellcheck disable=SC2086 # dirs: one word per node
    round "$name" "$port" $dirs
  done
done
echo "rehearse-cluster: throughput, Zipf s=0.9 over $ZIPF_URLS URLs, wrk -t 2 -c 30 -d 10s through the virtual IP, 3 rounds, warm:"
median() { sort -n | sed -n 2p; } # of 3 values, one per line
for c in "${CONTENDERS[@]}"; do
  name=${c%%|*}
  grep -F "$name|" "$WORK/rounds.txt" >"$WORK/one.txt"
  printf '  %-32s median %s req/s, %s ms of PIBL CPU per request (rounds: %s; p50/p99 %s; hit-ratio %s)\n' "$name" \
    "$(cut -d'|' -f2 "$WORK/one.txt" | median)" "$(cut -d'|' -f3 "$WORK/one.txt" | median)" \
    "$(cut -d'|' -f2,3 "$WORK/one.txt" | tr '|' ' ' | sed 's/ / req\/s /; s/$/ ms/' | paste -sd',')" \
    "$(cut -d'|' -f4,5 "$WORK/one.txt" | tr '|' '/' | paste -sd' ')" "$(cut -d'|' -f6 "$WORK/one.txt" | paste -sd' ')"
done
# Same-round ratios of CPU per request, fleet / one node (three lines per round, in rotating order).
awk -F'|' -v one="1 node, a cache of $ZIPF_URLS" '
  { round = int((NR - 1) / 3); cpu[round, $1] = $3 }
  END {
    for (r = 0; r < 3; r++) {
      line = line sprintf(" round %d: %.1fx / %.1fx;", r + 1, cpu[r, "3 nodes, cluster on"] / cpu[r, one],
        cpu[r, "3 nodes, cluster on, hot-copy"] / cpu[r, one])
    }
    print "  CPU per request against one node, same round (cluster / cluster with hot-copy):" line
  }' "$WORK/rounds.txt"
# Only the fleet on port 80 goes on to the kill.
for pid in $(pgrep -f -- "--config $WORK/n[123]-8[12]/pibl.yaml" || true); do kill -KILL "$pid" 2>/dev/null || true; done

# --- one node killed under load -------------------------------------------------------------------------------
# The fleet warm from the throughput run (port 80); then 20 s of Zipf load, n3 killed (kill -9) after 8 s and taken out of
# the virtual IP's map at once. Failed: wrk's socket errors and non-2xx answers. Refetched: of the distinct keys
# asked for after the kill that had been fetched before it, how many were fetched from the backends again (their
# owner was n3: about a third; all of them if every key had moved).
lines_before() { wc -l <"$WORK/n$1/pibl.log"; }
in_ns client env ZIPF_N="$ZIPF_URLS" timeout 30 wrk --latency -t 2 -c 30 -d 20s \
  -s "$REPO_ROOT/bench/lua/zipf.lua" "http://$VIP:$PORT" >"$WORK/kill-wrk.txt" 2>&1 &
wrk_pid=$!
sleep 8
mark1=$(lines_before 1) mark2=$(lines_before 2) mark3=$(lines_before 3)
for pid in $(ip netns pids "$(ns_name n3)"); do kill -KILL "$pid" 2>/dev/null || true; done
set_nodes "${NODE_IPS[0]}" "${NODE_IPS[1]}"
wait "$wrk_pid" || true
fetched_keys() { grep " $BACKEND_IP:900[0-9] MISS " | grep -o 'k=[0-9]*' | sort -u; }
{ head -n "$mark1" "$WORK/n1/pibl.log"; head -n "$mark2" "$WORK/n2/pibl.log"; head -n "$mark3" "$WORK/n3/pibl.log"; } |
  fetched_keys >"$WORK/before.txt"
{ tail -n +"$((mark1 + 1))" "$WORK/n1/pibl.log"; tail -n +"$((mark2 + 1))" "$WORK/n2/pibl.log"; } >"$WORK/after.log"
grep -o 'GET /cache/max-age/600?k=[0-9]*' "$WORK/after.log" | grep -o 'k=[0-9]*' | sort -u >"$WORK/asked.txt"
comm -12 "$WORK/before.txt" "$WORK/asked.txt" >"$WORK/asked-known.txt"
refetched=$(fetched_keys <"$WORK/after.log" | comm -12 - "$WORK/asked-known.txt" | wc -l)
known=$(wc -l <"$WORK/asked-known.txt")
echo "rehearse-cluster: n3 killed under load (wrk -t 2 -c 30 -d 20s, kill -9 after 8 s):"
# wrk prints these two lines only when there is something to count.
failed=$(awk '/Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } /Non-2xx/ { n += $NF } END { print n + 0 }' \
  "$WORK/kill-wrk.txt")
echo "  $(grep -o 'requests [0-9]* hits [0-9]* hit-ratio [0-9.]*' "$WORK/kill-wrk.txt"); failed $failed" \
  "($(grep -E 'Socket errors|Non-2xx' "$WORK/kill-wrk.txt" | tr -s ' ' | sed 's/^ //' | paste -sd';' || true))"
echo "  refetched after the kill: $refetched of $known known keys asked for again" \
  "($(awk -v r="$refetched" -v k="$known" 'BEGIN { printf "%.2f", k ? r / k : 0 }'); n3 owned about 0.33)"

# --- the cost of the hop --------------------------------------------------------------------------------------
# One cached key, hit 5 s on its owner and 5 s through another node (its own address, not the virtual IP).
vip_get /cache/max-age/600?k=hop >/dev/null
owner=""
for i in 1 2; do grep -q "k=hop HTTP/1.1\" 200 .* $BACKEND_IP:900[0-9] MISS " "$WORK/n$i/pibl.log" && owner=$i; done
if [ -n "$owner" ]; then
  other=$((3 - owner))
  hop() { # NODE : p50/p99 of 5 s of hits on that node
    in_ns client timeout 15 wrk --latency -t 1 -c 10 -d 5s -H 'Host: shop.test' \
      "http://${NODE_IPS[$(($1 - 1))]}:$PORT/cache/max-age/600?k=hop" 2>&1 |
      awk '$1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 } /Requests\/sec/ { rps = $2 } END { print p50 "/" p99 ", " rps " req/s" }'
  }
  echo "rehearse-cluster: hits on the owner n$owner: $(hop "$owner"); through n$other: $(hop "$other") (wrk -t 1 -c 10 -d 5s)"
  # The same through the other node with hot copies on: after 4 requests it serves its own copy, 5 s at a time.
  stop_nodes
  rm -rf "$WORK"/n[123]
  start_nodes on 0 2 '{ max-size: 64m, ttl: 5s }'
  vip_get /cache/max-age/600?k=hop >/dev/null
  echo "rehearse-cluster: with hot-copy { max-size: 64m, ttl: 5s }, through n$other: $(hop "$other")"
else
  echo "rehearse-cluster: could not tell the hop key's owner from the logs; hop cost not measured"
fi
