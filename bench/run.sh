#!/usr/bin/env bash
# bench/run.sh - PIBL side by side with nginx (a plain proxy and proxy_cache) and HAProxy, on loopback, from a
# clone of this repository and nothing else. See bench/README.md.
#
# Starts three nginx origins and every contender, checks that each answers right, warms each up, then runs the
# load generator against every cell (path x connections) for every contender, their order rotating every
# round, so that ratios come from the same minute. Writes raw/, results.csv, env.txt and results.md.
# Everything it starts is stopped at the end, on error and on Ctrl-C; every loop and wait is bounded.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: bench/run.sh [options]

  bench/run.sh                          HTTP/1.1: pibl, nginx-cache, nginx-proxy, haproxy, direct (~25 min)
  bench/run.sh --tls                    HTTPS and HTTP/2: pibl and nginx terminating TLS (~15 min)
  bench/run.sh -d 3 -r 1 -w 5 -p '/small /nocache' -c 50      a smoke run (~2 min)
  bench/run.sh --report DIR             results.md of an earlier run again, from DIR/results.csv

Options (defaults in brackets):
  -d SEC      measured seconds per run [10]
  -w SEC      warm-up per contender, every path mixed, before the first round [30: the JVM compiles its hot path]
  -r N        rounds; every round runs every cell for every contender, in an order that rotates [3]
  -p PATHS    paths, quoted: /small /medium /large /nocache [all four; --tls: '/small /medium /nocache']
  -c CONNS    keep-alive connection counts, quoted ['50 200']
  -t N        wrk and h2load threads; openssl s_time clients [2]
  -o DIR      results directory [a new /tmp/pibl-bench.XXXXXX]
  --tls       the TLS mode: https keep-alive (every -p and -c), new TLS connections per second (resumed: wrk
              with Connection: close at the smallest -c; full handshakes: openssl s_time -new), and HTTP/2
              (h2load -c 50 -m 10 on every -p); pibl and nginx with one self-signed certificate
  --keep      keep the runtime directory (configs, logs, caches) after the run
  --report DIR  write DIR/results.md again from DIR/results.csv and DIR/env.txt; runs nothing
  -h          this help

Environment: PIBL_JAVA_OPTS (the JVM flags of PIBL; default in bench/lib/common.sh), BENCH_PORT_BASE (18400:
origins on +1..+3, contenders on +10..+13, TLS on +20..+21, all on 127.0.0.1), PORT_WAIT (300: seconds to wait
for busy ports).

Contenders: pibl (bench/pibl-bench.yaml), nginx-proxy, nginx-cache, haproxy (bench/conf/), direct (wrk straight
to one origin: the ceiling). --tls: pibl and nginx (bench/conf/nginx-tls.conf). Origin paths: /small 1 KiB,
/medium 64 KiB, /large 1 MiB (Cache-Control: max-age=3600), /nocache 1 KiB (no-store), /id (the origin's name).
EOF
}

BENCH_NAME=run.sh
# shellcheck source=bench/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=deploy/lib/render.sh
. "$BENCH_ROOT/deploy/lib/render.sh"
# shellcheck source=deploy/lib/self-signed.sh
. "$BENCH_ROOT/deploy/lib/self-signed.sh"
log() { bench_log "$@"; }
die() { bench_die "$@"; }

# ---------------------------------------------------------------- settings
COMMAND_LINE="bench/run.sh${*:+ ${*@Q}}"
DURATION=10 WARMUP=30 ROUNDS=3 THREADS=2 CONNS="50 200" PATHS="" OUT="" TLS=0 KEEP=0 REPORT=""
H2_CONNS=50 H2_STREAMS=10
START_TIMEOUT=60
PORT_BASE=${BENCH_PORT_BASE:-18400}
PORT_WAIT=${PORT_WAIT:-300}
declare -A SIZE=([/small]=1024 [/medium]=65536 [/large]=1048576 [/nocache]=1024)

while (($#)); do
	case $1 in
	-d | -w | -r | -p | -c | -t | -o | --report) (($# >= 2)) || die "option $1 needs a value (see -h)" ;;
	esac
	case $1 in
	-d) DURATION=$2; shift 2 ;;
	-w) WARMUP=$2; shift 2 ;;
	-r) ROUNDS=$2; shift 2 ;;
	-p) PATHS=$2; shift 2 ;;
	-c) CONNS=$2; shift 2 ;;
	-t) THREADS=$2; shift 2 ;;
	-o) OUT=$2; shift 2 ;;
	--tls) TLS=1; shift ;;
	--keep) KEEP=1; shift ;;
	--report) REPORT=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument '$1' (see -h)" ;;
	esac
done
if [[ -z $PATHS ]]; then
	if ((TLS)); then PATHS="/small /medium /nocache"; else PATHS="/small /medium /large /nocache"; fi
fi
for v in DURATION WARMUP ROUNDS THREADS PORT_BASE PORT_WAIT; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, got '${!v}'"
done
((DURATION >= 1 && ROUNDS >= 1 && THREADS >= 1)) || die "-d, -r and -t must be at least 1"
((PORT_BASE >= 1024 && PORT_BASE <= 65000)) || die "BENCH_PORT_BASE must be within 1024..65000, got $PORT_BASE"
read -r -a PATH_LIST <<<"$PATHS"
read -r -a CONN_LIST <<<"$CONNS"
((${#PATH_LIST[@]} && ${#CONN_LIST[@]})) || die "-p and -c need at least one value each"
for p in "${PATH_LIST[@]}"; do [[ -n ${SIZE[$p]:-} ]] || die "unknown path '$p' (the origins serve ${!SIZE[*]})"; done
for c in "${CONN_LIST[@]}"; do
	if ! [[ $c =~ ^[0-9]+$ ]] || ((c < THREADS)); then die "connection count '$c' must be a whole number >= -t ($THREADS)"; fi
done
MIN_CONNS=$(printf '%s\n' "${CONN_LIST[@]}" | sort -n | head -n1)
MAX_CONNS=$(printf '%s\n' "${CONN_LIST[@]}" | sort -n | tail -n1)

ORIGIN_PORTS=($((PORT_BASE + 1)) $((PORT_BASE + 2)) $((PORT_BASE + 3)))
declare -A PORT=([pibl]=$((PORT_BASE + 10)) [nginx-proxy]=$((PORT_BASE + 11)) [nginx-cache]=$((PORT_BASE + 12))
	[haproxy]=$((PORT_BASE + 13)) [direct]=${ORIGIN_PORTS[0]})
declare -A TLS_PORT=([pibl]=$((PORT_BASE + 20)) [nginx]=$((PORT_BASE + 21)))
if ((TLS)); then
	CONTENDERS=(pibl nginx)
	ALL_PORTS=("${ORIGIN_PORTS[@]}" "${PORT[pibl]}" "${TLS_PORT[@]}")
else
	CONTENDERS=(pibl nginx-cache nginx-proxy haproxy direct)
	ALL_PORTS=("${ORIGIN_PORTS[@]}" "${PORT[pibl]}" "${PORT[nginx-proxy]}" "${PORT[nginx-cache]}" "${PORT[haproxy]}")
fi

# results.md from results.csv: the run's environment, then the tables of bench/lib/summary.awk.
write_report() { # DIR
	local dir=$1 hit=nginx-cache pass="nginx-proxy haproxy" order="pibl nginx-cache nginx-proxy haproxy direct"
	[[ -r $dir/results.csv ]] || die "no $dir/results.csv"
	if awk -F, 'NR > 1 && $2 == "nginx" { found = 1 } END { exit !found }' "$dir/results.csv"; then
		hit=nginx pass=nginx order="pibl nginx"
	fi
	{
		echo "# bench/run.sh results"
		echo
		echo "Machine, tools and command ([env.txt](env.txt)); one row per run in [results.csv](results.csv), each"
		echo "client's own output in raw/."
		echo
		echo '```text'
		cat "$dir/env.txt" 2>/dev/null || echo "(no env.txt)"
		echo '```'
		echo
		awk -F, -v order="$order" -v subject=pibl -v hit_anchors="$hit" -v pass_anchors="$pass" -v pass_paths=/nocache \
			-f "$BENCH_ROOT/bench/lib/summary.awk" "$dir/results.csv"
	} >"$dir/results.md"
}

if [[ -n $REPORT ]]; then
	write_report "$REPORT"
	cat "$REPORT/results.md"
	exit 0
fi

# ---------------------------------------------------------------- tools, PIBL, ports
bench_lock # one benchmark at a time: waits while another holds the machine
cd "$BENCH_ROOT"
bench_install wrk:wrk nginx:nginx haproxy:haproxy curl:curl openssl:openssl h2load:nghttp2-client
for t in setsid timeout ps sort awk getconf; do command -v "$t" >/dev/null || die "$t is missing (coreutils, procps, util-linux)"; done
command -v java >/dev/null || die "java is missing: install a JDK 17+ (Debian: apt-get install openjdk-17-jdk-headless)"
[[ -r /proc/stat ]] || die "/proc is needed for the CPU and memory figures"
# shellcheck disable=SC2119 # no jar but PIBL's is needed
bench_build
bench_await_free "$PORT_WAIT" "${ALL_PORTS[@]}"
CLK_TCK=$(getconf CLK_TCK)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

RUN=$(mktemp -d /tmp/pibl-bench-run.XXXXXX)
if [[ -z $OUT ]]; then OUT=$(mktemp -d /tmp/pibl-bench.XXXXXX); fi
mkdir -p "$OUT/raw"
OUT=$(cd "$OUT" && pwd)

# ---------------------------------------------------------------- processes
# Every server runs in its own session, so that its process group (id = its pid) holds all its processes:
# their CPU and memory are summed over the group, and the group is what cleanup stops.
declare -A PGID=()
GROUPS_STARTED=() ORIGIN_PGIDS=() CLIENT="" SAMPLER=""
USER_LINE=""
if ((EUID == 0)); then USER_LINE="user root;"; fi # else nginx's workers drop to nobody, who cannot read $RUN

stop_group() { # PGID
	local g=$1 i
	kill -TERM -- "-$g" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 -- "-$g" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$g" 2>/dev/null || true
	wait "$g" 2>/dev/null || true
}

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	if [[ -n $SAMPLER ]]; then kill "$SAMPLER" 2>/dev/null || true; fi
	if [[ -n $CLIENT ]]; then stop_group "$CLIENT"; fi
	for ((i = ${#GROUPS_STARTED[@]} - 1; i >= 0; i--)); do stop_group "${GROUPS_STARTED[i]}"; done
	if ((rc != 0 || KEEP)); then
		log "runtime files (configs, logs, caches) kept in $RUN"
	else
		rm -rf "$RUN"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

spawn() { # NAME COMMAND... : runs in $RUN/NAME with stdout, stderr and fd 3 (logs/access.log) on files there
	local name=$1 dir=$RUN/$1
	shift
	mkdir -p "$dir/logs" "$dir/tmp"
	(cd "$dir" && exec setsid "$@") </dev/null >>"$dir/stdout" 2>>"$dir/stderr" 3>>"$dir/logs/access.log" 9>&- &
	PGID[$name]=$!
	GROUPS_STARTED+=($!)
}

show_logs() { # NAME
	tail -n 20 "$RUN/$1/stderr" "$RUN/$1/error.log" "$RUN/$1/stdout" >&2 2>/dev/null || true
}

wait_ready() { # NAME URL
	local name=$1 url=$2 pid=${PGID[$1]} deadline=$((SECONDS + START_TIMEOUT))
	until curl -fsSk -o /dev/null --max-time 2 "$url" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null; then
			show_logs "$name"
			die "$name exited while starting"
		fi
		((SECONDS < deadline)) || { show_logs "$name"; die "$name does not answer $url after ${START_TIMEOUT} s"; }
		sleep 0.2
	done
	[[ $(ps -o pgid= -p "$pid" | tr -d ' ') == "$pid" ]] || die "$name is not the leader of its process group"
}

# The pids of the given process groups.
group_pids() { ps -e -o pgid=,pid= | awk -v set=" $* " 'index(set, " " $1 " ") { print $2 }'; }

# User + system CPU ticks used so far by the processes of the given groups (all their threads).
group_ticks() {
	local total=0 pid s f
	(($#)) || { echo 0; return; }
	for pid in $(group_pids "$@"); do
		s=$(<"/proc/$pid/stat") 2>/dev/null || continue
		s=${s##*) }
		read -r -a f <<<"$s"
		total=$((total + f[11] + f[12]))
	done
	echo "$total"
}

# Non-idle CPU ticks of the whole machine, steal included; minus the proxy, the client and the origins, what
# other processes took. Interrupts stay in: /proc/stat counts loopback's softirq work there, and the
# processes' own times count it too (without it, "other" goes below zero under load).
busy_ticks() {
	local u n s irq sirq st
	read -r _ u n s _ _ irq sirq st _ </proc/stat
	echo $((u + n + s + irq + sirq + st))
}

# The largest RSS and PSS (KiB) of the given groups, summed over their processes, sampled every second.
sample_memory() { # SECONDS PGID...
	local n=$1 i pid k v rss pss max_rss=0 max_pss=0
	shift
	for ((i = 0; i < n; i++)); do
		sleep 1
		rss=0 pss=0
		for pid in $(group_pids "$@"); do
			while read -r k v _; do
				case $k in Rss:) rss=$((rss + v)) ;; Pss:) pss=$((pss + v)) ;; esac
			done <"/proc/$pid/smaps_rollup" 2>/dev/null || true
		done
		if ((rss > max_rss)); then max_rss=$rss; fi
		if ((pss > max_pss)); then max_pss=$pss; fi
	done
	echo "$max_rss $max_pss"
}

# ---------------------------------------------------------------- origins and contenders
upstream_lines() { # PREFIX SUFFIX : one line per origin
	local p
	for p in "${ORIGIN_PORTS[@]}"; do printf '%s127.0.0.1:%s%s\n' "$1" "$p" "$2"; done
}

render_conf() { # TEMPLATE OUTPUT KEY=VALUE...
	local template=$BENCH_ROOT/bench/conf/$1 output=$2
	shift 2
	render_template "$template" "$@" >"$output" || die "could not render $template"
}

start_origins() {
	local i name port
	mkdir -p "$RUN/www"
	head -c 1024 /dev/zero | tr '\0' 's' >"$RUN/www/small.bin"
	head -c 65536 /dev/zero | tr '\0' 'm' >"$RUN/www/medium.bin"
	head -c 1048576 /dev/zero | tr '\0' 'l' >"$RUN/www/large.bin"
	for i in 0 1 2; do
		name=b$((i + 1)) port=${ORIGIN_PORTS[i]}
		mkdir -p "$RUN/$name"
		render_conf origin.conf "$RUN/$name/nginx.conf" USER="$USER_LINE" CONF="$BENCH_ROOT/bench/conf" \
			PORT="$port" WWW="$RUN/www" NAME="$name"
		spawn "$name" nginx -p "$RUN/$name/" -e "$RUN/$name/error.log" -c "$RUN/$name/nginx.conf"
		ORIGIN_PGIDS+=("${PGID[$name]}")
		wait_ready "$name" "http://127.0.0.1:$port/id"
	done
}

start_pibl() {
	local dir=$RUN/pibl args=()
	local b
	for b in "${ORIGIN_PORTS[@]}"; do args+=(--backend "127.0.0.1:$b"); done
	if ((TLS)); then args+=(--tls-port "${TLS_PORT[pibl]}" --tls-cert "$RUN/site.crt" --tls-key "$RUN/site.key"); fi
	mkdir -p "$dir"
	# shellcheck disable=SC2086 # PIBL_JAVA_OPTS is a list of words
	PIBL_COMMAND="java $PIBL_JAVA_OPTS -jar $BENCH_JAR --config $BENCH_ROOT/bench/pibl-bench.yaml --port ${PORT[pibl]} ${args[*]} --ttl 3600 --log-file $dir/logs/pibl.log --cache-dir $dir/cache"
	# shellcheck disable=SC2086
	spawn pibl java $PIBL_JAVA_OPTS -jar "$BENCH_JAR" --config "$BENCH_ROOT/bench/pibl-bench.yaml" --port "${PORT[pibl]}" \
		"${args[@]}" --ttl 3600 --log-file "$dir/logs/pibl.log" --cache-dir "$dir/cache"
	wait_ready pibl "http://127.0.0.1:${PORT[pibl]}/id"
	if ((TLS)); then wait_ready pibl "https://127.0.0.1:${TLS_PORT[pibl]}/id"; fi
}

start_nginx() { # NAME TEMPLATE
	local name=$1 dir=$RUN/$1 listen=ssl
	mkdir -p "$dir"
	# nginx 1.25.1 turned "listen ... http2" into the directive "http2 on"; Debian 12 has 1.22.
	if [[ $2 == nginx-tls.conf ]]; then
		if printf '%s\n' "1.25.1" "$(nginx -v 2>&1 | sed 's,.*nginx/,,')" | sort -V -C; then listen="ssl; http2 on"; else listen="ssl http2"; fi
		render_conf "$2" "$dir/nginx.conf" USER="$USER_LINE" CONF="$BENCH_ROOT/bench/conf" WORKERS="$(nproc)" \
			UPSTREAMS="$(upstream_lines '        server ' ';')" PORT="${TLS_PORT[$name]}" LISTEN="$listen" \
			CERT="$RUN/site.crt" KEY="$RUN/site.key"
	else
		render_conf "$2" "$dir/nginx.conf" USER="$USER_LINE" CONF="$BENCH_ROOT/bench/conf" WORKERS="$(nproc)" \
			UPSTREAMS="$(upstream_lines '        server ' ';')" PORT="${PORT[$name]}"
	fi
	spawn "$name" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf"
	if [[ $2 == nginx-tls.conf ]]; then wait_ready "$name" "https://127.0.0.1:${TLS_PORT[$name]}/id"; else wait_ready "$name" "http://127.0.0.1:${PORT[$name]}/id"; fi
}

start_haproxy() {
	local dir=$RUN/haproxy i=0 servers
	mkdir -p "$dir"
	servers=$(for p in "${ORIGIN_PORTS[@]}"; do i=$((i + 1)); echo "    server b$i 127.0.0.1:$p"; done)
	render_conf haproxy.cfg "$dir/haproxy.cfg" WORKERS="$(nproc)" PORT="${PORT[haproxy]}" SERVERS="$servers"
	spawn haproxy haproxy -db -f "$dir/haproxy.cfg"
	wait_ready haproxy "http://127.0.0.1:${PORT[haproxy]}/id"
}

start_contender() { # NAME
	case $1 in
	pibl) start_pibl ;;
	nginx-proxy) start_nginx nginx-proxy nginx-proxy.conf ;;
	nginx-cache) start_nginx nginx-cache nginx-cache.conf ;;
	nginx) start_nginx nginx nginx-tls.conf ;;
	haproxy) start_haproxy ;;
	direct) ;;
	esac
}

# The base URL a contender is measured on, for a kind of cell.
base_url() { # NAME KIND
	if [[ $2 == http ]]; then echo "http://127.0.0.1:${PORT[$1]}"; else echo "https://127.0.0.1:${TLS_PORT[$1]}"; fi
}

# openssl s_time -www PATH sends "GET PATH HTTP/1.0" and a blank line, without Host. Both proxies speak HTTP/1.1
# to the origins, which need a Host, so the "path" carries a Host line: GET /small HTTP/1.0, Host, X-Bench.
stime_path() { printf '%s HTTP/1.0\r\nHost: localhost\r\nX-Bench:' "$1"; }

# ---------------------------------------------------------------- functional checks
CHECK_PROBLEMS=0
check_note() { # NAME TEXT
	printf '  %-12s %s\n' "$1" "$2" | tee -a "$OUT/env.txt" >&2
}

# The cache status a response reports: PIBL's X-Cache, nginx's X-Cache-Status.
cache_status() { # CURL_ARGS... URL
	curl -s -D - -o /dev/null --max-time 5 "$@" | tr -d '\r' | awk -F': *' 'tolower($1) ~ /^x-cache(-status)?$/ { print toupper($2) }'
}

# Each contender answers 200 with the right size on every path; a cache's second GET of a cacheable path is a
# HIT (polled, bounded: an entry is stored after its response) and /nocache never is; 30 requests to /id over
# one connection reach all three origins.
check_contender() { # NAME KIND
	local name=$1 kind=$2 base curl_args=(-k) p got status ids caches=0 i problems=""
	base=$(base_url "$name" "$kind")
	if [[ $kind != http ]]; then curl_args=(--cacert "$RUN/site.crt"); fi
	[[ $name == pibl || $name == nginx-cache || $name == nginx ]] && caches=1
	for p in /small /medium /large /nocache; do
		got=$(curl -s "${curl_args[@]}" -o /dev/null --max-time 10 -w '%{http_code} %{size_download}' "$base$p" || true)
		[[ $got == "200 ${SIZE[$p]}" ]] || problems+=" $p answered '$got', not '200 ${SIZE[$p]}';"
		if ((caches)); then
			if [[ $p == /nocache ]]; then
				status=$(cache_status "${curl_args[@]}" "$base$p")
				[[ $status != HIT ]] || problems+=" /nocache was a cache HIT;"
			else
				for ((i = 0; i < 50; i++)); do
					status=$(cache_status "${curl_args[@]}" "$base$p")
					[[ $status == HIT ]] && break
					sleep 0.1
				done
				[[ $status == HIT ]] || problems+=" $p never became a HIT (last: '$status');"
			fi
		fi
	done
	local urls=()
	for i in {1..30}; do urls+=("$base/id"); done
	ids=$(curl -s "${curl_args[@]}" --max-time 10 "${urls[@]}" | sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }')
	if [[ $name != direct && $(wc -w <<<"$ids") != 3 ]]; then problems+=" /id x30 reached $ids, not all three origins;"; fi
	if [[ $kind == https ]]; then
		got=$(curl -s "${curl_args[@]}" --http2 -o /dev/null --max-time 10 -w '%{http_version} %{http_code}' "$base/small" || true)
		[[ $got == "2 200" ]] || problems+=" HTTP/2 by ALPN answered '$got', not '2 200';"
		got=$(timeout 20 openssl s_time -connect "${base#https://}" -new -time 1 -www "$(stime_path /small)" 2>&1 |
			awk '/bytes read per connection/ { print $(NF - 4) }' | tail -n1)
		# 1 KiB and a response head: an error page is shorter.
		[[ ${got:-0} -ge 1124 ]] || problems+=" openssl s_time -www /small read ${got:-nothing} bytes per connection, not 1 KiB and a head;"
		# A second connection resumes the first one's session (so wrk's Connection: close cell is resumed
		# handshakes: wrk offers its last session again).
		local request resumed
		printf -v request 'GET /id HTTP/1.0\r\nHost: localhost\r\n\r\n'
		printf '%s' "$request" | timeout 10 openssl s_client -connect "${base#https://}" -servername localhost -ign_eof \
			-sess_out "$RUN/$name.session" >/dev/null 2>&1 || true
		resumed=$(printf '%s' "$request" | timeout 10 openssl s_client -connect "${base#https://}" -servername localhost \
			-ign_eof -sess_in "$RUN/$name.session" 2>/dev/null | grep -m1 -oE '^(New|Reused), TLSv[0-9.]+' || true)
		[[ $resumed == Reused,* ]] || problems+=" a second connection did not resume the session (${resumed:-no handshake});"
	fi
	if [[ -n $problems ]]; then
		check_note "$name" "PROBLEM:$problems"
		CHECK_PROBLEMS=$((CHECK_PROBLEMS + 1))
	else
		check_note "$name" "ok ($kind: sizes$( ((caches)) && echo ", HITs")$([[ $kind == https ]] && echo ", h2, s_time, resumption"); /id x30: $ids)"
	fi
}

# ---------------------------------------------------------------- load
# Runs a client command in its own session (so cleanup can stop all of it), bounded by timeout (--foreground, so
# that the command stays in that process group: plain timeout makes a group of its own); its output goes
# to RAW, its CPU time ("CPU user system", seconds) to RAW.time.
run_client() { # RAW SECONDS COMMAND...
	local raw=$1 secs=$2
	shift 2
	setsid bash -c 'raw=$1; shift; TIMEFORMAT="CPU %U %S"; time "$@" >"$raw" 2>&1' run_client "$raw" \
		timeout --foreground -k 5 $((secs + 30)) "$@" 2>"$raw.time" 9>&- &
	CLIENT=$!
	wait "$CLIENT" || true
	CLIENT=""
}

# The client of a cell, writing to RAW.
run_cell_client() { # KIND URL CONNS SECONDS RAW [SCRIPT]
	local kind=$1 url=$2 conns=$3 secs=$4 raw=$5 script=${6:-$RUN/report.lua} extra=()
	shift 6 || shift $#
	case $kind in
	http | https | https-close)
		if [[ $kind == https-close ]]; then extra=(-H 'Connection: close'); fi
		run_client "$raw" "$secs" wrk -t"$THREADS" -c"$conns" -d"${secs}s" --timeout 5s --latency "${extra[@]}" \
			-s "$script" "$url" ${1+--} "$@"
		;;
	h2)
		# Timing-based: -D seconds; one line per request in RAW.log (start, status, microseconds) for the p50/p99.
		run_client "$raw" "$secs" h2load -c "$conns" -m "$H2_STREAMS" -t "$THREADS" -D "$secs" --log-file="$raw.log" "$url"
		;;
	https-new)
		# CONNS parallel openssl s_time clients, each a full handshake and one HTTP/1.0 GET per connection.
		local hostport=${url#https://}
		run_client "$raw" "$secs" bash -c 'n=$1 secs=$2 hostport=$3 path=$4 raw=$5 t0=$(date +%s%N) failed=0
			for ((i = 1; i <= n; i++)); do openssl s_time -connect "$hostport" -new -time "$secs" -www "$path" >"$raw.$i" 2>&1 & done
			for job in $(jobs -p); do wait "$job" || failed=$((failed + 1)); done
			cat "$raw".[0-9]*; rm -f "$raw".[0-9]*
			echo "STIME $((($(date +%s%N) - t0) / 1000)) $failed"' s_time "$conns" "$secs" "${hostport%%/*}" "$(stime_path "/${hostport#*/}")" "$raw"
		;;
	esac
}

# One line from a client's output: requests duration_us bytes errors non2xx p50_us p99_us ("" when unknown).
client_result() { # KIND RAW
	local kind=$1 raw=$2
	case $kind in
	http | https | https-close)
		awk '/^RESULT / { print $2, $3, $4, $5 + $6 + $7 + $9, $8, $10, $12; found = 1 } END { if (!found) print "0 0 0 0 0 - -" }' "$raw"
		;;
	h2)
		local lat
		lat=$(if [[ -s $raw.log ]]; then cut -f3 "$raw.log" | sort -n | awk '{ a[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; if (NR) print a[int((NR + 1) / 2)], a[i]; else print "- -" }'; else echo "- -"; fi)
		rm -f "$raw.log"
		awk -v lat="$lat" '
			/^finished in / { secs = $3; sub(/s,$/, "", secs) }
			/^requests: / { done = $6; errored = $12; timeout = $14 }
			/^status codes: / { other = $5 + $7 + $9 }
			/^traffic: / { bytes = $3; gsub(/[()]/, "", bytes) }
			END { if (secs == "" || done == "") print "0 0 0 0 0 - -"; else print done, secs * 1e6, bytes + 0, errored + timeout, other, lat }' "$raw"
		;;
	https-new)
		awk '/connections in [0-9]+ real seconds/ { n += $1; bytes += $1 * $(NF - 4) }
			/^STIME / { us = $2; failed = $3 }
			END { if (us == "" || n == 0) print "0 0 0 0 0 - -"; else print n, us, bytes, failed, 0, "-", "-" }' "$raw"
		;;
	esac
}

CSV_HEADER="round,contender,kind,path,conns,requests,seconds,rps,p50_ms,p99_ms,errors,non2xx,mib_s,proxy_cores,cpu_us_per_req,rss_mib,pss_mib,log_per_req,client_cores,origin_cores,other_cores"

measure() { # ROUND NAME KIND PATH CONNS
	local round=$1 name=$2 kind=$3 path=$4 conns=$5 dir=$RUN/$2 pg=() url raw t0 t1 o0 o1 m0 m1 mem="" res cpu lines="" f
	url=$(base_url "$name" "$kind")$path
	raw=$OUT/raw/r$round-$name-$kind-${path#/}-c$conns.txt
	if [[ $name != direct ]]; then
		pg=("${PGID[$name]}")
		kill -0 -- "-${pg[0]}" 2>/dev/null || { show_logs "$name"; die "$name is no longer running"; }
		# Count log lines per run: the proxy's stdout and log files start empty (they are open with O_APPEND).
		: >"$dir/stdout"
		for f in "$dir"/logs/*; do if [[ -f $f ]]; then : >"$f"; fi; done
		sample_memory "$DURATION" "${pg[@]}" >"$RUN/memory" &
		SAMPLER=$!
	fi
	t0=$(group_ticks "${pg[@]}") o0=$(group_ticks "${ORIGIN_PGIDS[@]}") m0=$(busy_ticks)
	run_cell_client "$kind" "$url" "$conns" "$DURATION" "$raw"
	t1=$(group_ticks "${pg[@]}") o1=$(group_ticks "${ORIGIN_PGIDS[@]}") m1=$(busy_ticks)
	if [[ -n $SAMPLER ]]; then
		wait "$SAMPLER" || true
		SAMPLER=""
		mem=$(<"$RUN/memory")
		lines=$(wc -l <"$dir/stdout")
	fi
	res=$(client_result "$kind" "$raw")
	cpu=$(grep -m1 '^CPU ' "$raw.time" 2>/dev/null || echo "CPU 0 0")
	awk -v round="$round" -v name="$name" -v kind="$kind" -v path="$path" -v conns="$conns" -v res="$res" -v cpu="$cpu" \
		-v t="$((t1 - t0))" -v o="$((o1 - o0))" -v busy="$((m1 - m0))" -v tck="$CLK_TCK" -v mem="$mem" -v lines="$lines" '
		BEGIN {
			split(res, r, " "); split(cpu, c, " "); split(mem, m, " ")
			req = r[1]; secs = r[2] / 1e6; proxy = name != "direct"
			if (secs <= 0) secs = 1
			client = (c[2] + c[3]) / secs
			p50 = r[6] == "-" ? "" : sprintf("%.3f", r[6] / 1000)
			p99 = r[7] == "-" ? "" : sprintf("%.3f", r[7] / 1000)
			cores = proxy ? sprintf("%.2f", t / tck / secs) : ""
			us = (proxy && req > 0) ? sprintf("%.1f", t / tck / req * 1e6) : ""
			rss = m[1] == "" ? "" : sprintf("%.0f", m[1] / 1024)
			pss = m[2] == "" ? "" : sprintf("%.0f", m[2] / 1024)
			logs = (lines == "" || req == 0) ? "" : sprintf("%.2f", lines / req)
			printf("%s,%s,%s,%s,%s,%d,%.3f,%.0f,%s,%s,%d,%d,%.1f,%s,%s,%s,%s,%s,%.2f,%.2f,%.2f\n",
				round, name, kind, path, conns, req, secs, req / secs, p50, p99, r[4], r[5], r[3] / secs / 1048576,
				cores, us, rss, pss, logs, client, o / tck / secs, (busy - t - o) / tck / secs - client)
		}' >>"$OUT/results.csv"
	tail -n 1 "$OUT/results.csv" | awk -F, '{ printf "  r%s %-11s %-11s %-8s c%-4s %8s req/s  p99 %8s ms  %7s us/req  err %s/%s  other %s\n",
		$1, $2, $3, $4, $5, $8, ($10 == "" ? "-" : $10), ($15 == "" ? "-" : $15), $11, $12, $21 }' >&2
}

warm_up() { # NAME
	local name=$1 raw=$RUN/warm-$1.txt quarter
	if ((WARMUP == 0)) || [[ $name == direct ]]; then return 0; fi
	log "warm-up of $name: ${WARMUP} s"
	if ((TLS)); then
		quarter=$(((WARMUP + 3) / 4))
		run_cell_client https "$(base_url "$name" https)/" "$MAX_CONNS" $((WARMUP - 2 * quarter > 0 ? WARMUP - 2 * quarter : 1)) "$raw" "$RUN/mix.lua" "${PATH_LIST[@]}"
		grep -q '^RESULT ' "$raw" || die "warm-up of $name failed: $(tail -n 3 "$raw")"
		run_cell_client https-close "$(base_url "$name" https)/small" "$MIN_CONNS" "$quarter" "$raw"
		run_cell_client h2 "$(base_url "$name" h2)/small" "$H2_CONNS" "$quarter" "$raw"
		grep -q '^finished in' "$raw" || die "HTTP/2 warm-up of $name failed: $(tail -n 3 "$raw")"
		rm -f "$raw.log"
	else
		run_cell_client http "$(base_url "$name" http)/" "$MAX_CONNS" "$WARMUP" "$raw" "$RUN/mix.lua" "${PATH_LIST[@]}"
		grep -q '^RESULT ' "$raw" || die "warm-up of $name failed: $(tail -n 3 "$raw")"
	fi
}

# The cells of a round, one "KIND PATH CONNS" per line.
cells() {
	local p c
	if ((TLS)); then
		for p in "${PATH_LIST[@]}"; do for c in "${CONN_LIST[@]}"; do echo "https $p $c"; done; done
		echo "https-close /small $MIN_CONNS"
		echo "https-new /small $THREADS"
		for p in "${PATH_LIST[@]}"; do echo "h2 $p $H2_CONNS"; done
	else
		for p in "${PATH_LIST[@]}"; do for c in "${CONN_LIST[@]}"; do echo "http $p $c"; done; done
	fi
}

# ---------------------------------------------------------------- main
mapfile -t CELLS < <(cells)
proxies=0
for name in "${CONTENDERS[@]}"; do [[ $name == direct ]] || proxies=$((proxies + 1)); done
estimate=$((proxies * (WARMUP + 1) + ROUNDS * ${#CELLS[@]} * ${#CONTENDERS[@]} * (DURATION + 2) + 30))
version() { "$@" 2>&1 | head -n1 || true; }
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "command: $COMMAND_LINE"
	echo "source: commit $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$BENCH_ROOT" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
	echo "machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "java: $(version java -version); PIBL_JAVA_OPTS=$PIBL_JAVA_OPTS"
	echo "nginx: $(version nginx -v) | haproxy: $(version haproxy -v) | wrk: $(version wrk -v | cut -d' ' -f1-2)"
	echo "h2load: $(version h2load --version) | openssl: $(version openssl version)"
	echo "settings: $( ((TLS)) && echo "TLS mode, ")${DURATION} s runs, ${WARMUP} s warm-up, $ROUNDS round(s), paths ${PATH_LIST[*]}, connections ${CONN_LIST[*]}, $THREADS client threads; contenders ${CONTENDERS[*]}"
	echo "ports: 127.0.0.1, origins ${ORIGIN_PORTS[*]}, $(for n in "${CONTENDERS[@]}"; do if ((TLS)); then printf '%s %s ' "$n" "${TLS_PORT[$n]}"; else printf '%s %s ' "$n" "${PORT[$n]}"; fi; done)"
	echo "estimated duration: $(((estimate + 59) / 60)) min"
} | tee "$OUT/env.txt" >&2

cat "$BENCH_ROOT/bench/lib/wrk-report.lua" >"$RUN/report.lua"
cat "$BENCH_ROOT/bench/lib/wrk-mix.lua" "$BENCH_ROOT/bench/lib/wrk-report.lua" >"$RUN/mix.lua"
if ((TLS)); then
	self_signed_cert "$RUN/site.crt" "$RUN/site.key" 2 "DNS:localhost,IP:127.0.0.1" || die "could not make a certificate"
fi
start_origins
for name in "${CONTENDERS[@]}"; do start_contender "$name"; done
grep -E 'PiblMain - pibl .* listening|TLS on' "$RUN/pibl/stdout" | sed -E 's/^.* - (pibl|TLS on)/pibl: \1/' | tee -a "$OUT/env.txt" >&2
echo "pibl command: $PIBL_COMMAND" >>"$OUT/env.txt"
echo "checks:" | tee -a "$OUT/env.txt" >&2
kind=http
if ((TLS)); then kind=https; fi
for name in "${CONTENDERS[@]}"; do check_contender "$name" "$kind"; done
((CHECK_PROBLEMS == 0)) || die "$CHECK_PROBLEMS contender(s) failed the checks (see above); nothing measured"

for name in "${CONTENDERS[@]}"; do warm_up "$name"; done

echo "$CSV_HEADER" >"$OUT/results.csv"
n=${#CONTENDERS[@]}
for ((round = 1; round <= ROUNDS; round++)); do
	log "round $round of $ROUNDS"
	for cell in "${CELLS[@]}"; do
		read -r kind path conns <<<"$cell"
		for ((j = 0; j < n; j++)); do
			measure "$round" "${CONTENDERS[(j + round - 1) % n]}" "$kind" "$path" "$conns"
		done
	done
done

echo "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/env.txt"
write_report "$OUT"
cat "$OUT/results.md"
log "results in $OUT (results.md, results.csv, env.txt, raw/)"
