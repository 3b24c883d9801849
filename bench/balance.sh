#!/usr/bin/env bash
# bench/balance.sh - PIBL's balancers where they differ: one backend of three slow for every request, and one
# backend killed and restarted cold under load, with and without slow start. See bench/README.md.
#
# Three demo backends (pibl-backend-demo) and PIBL on loopback, from a clone of this repository and nothing else.
# Writes results.md (env.txt and two tables), slow.csv, cold.csv, env.txt and raw/ (wrk's output, each run's
# access lines of the restarted backend, PIBL's lines about it). Everything it starts is stopped at the end, on
# error and on Ctrl-C; every loop and wait is bounded. Takes the machine's benchmark lock first.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: bench/balance.sh [options]

  bench/balance.sh                      both parts, 3 rounds (~9 min)
  bench/balance.sh -d 2 -r 1 -w 2       a smoke run (~3 min)
  bench/balance.sh --only cold -r 1     one part only: slow or cold

1. slow: backend b3 answers every request --slow-ms late (the demo's --delay-ms). For each policy of -b, a PIBL
   with that balance: (cache off: every request reaches a backend); wrk -c CONNS -d SEC --latency through it.
   Per run: req/s and errors (wrk); p50, p99, max and the share of the requests each backend answered (PIBL's
   access lines: wrk's own percentiles are padded for coordinated omission, see SLOW_HEADER).
2. cold: three quick backends; for each case of --cold (balance:slow-start) a PIBL with active health checks
   every 1 s; wrk -c COLD_CONNS for 20 s; 5 s in, kill -9 of b3; 3 s later b3 starts again, a fresh JVM.
   Per run: p99 and max of the requests b3 served in its first 5 s back, and how many requests (to any backend)
   took longer than 1 s after the restart (PIBL's access lines: start time, backend, duration).
The runs of every part are interleaved: each round runs every policy or case once, the order rotating.

Options (defaults in brackets):
  -d SEC         measured seconds per slow-backend run [10]
  -r N           rounds [3]
  -w SEC         warm-up of each PIBL before the first round, at the part's connection count [10]
  -c CONNS       connections of the slow-backend runs [50]
  -b POLICIES    balance: policies of the slow-backend part, quoted ['round-robin least-request ewma']
  --slow-ms MS   b3's added delay in the slow-backend part [50]
  --cold CASES   balance:slow-start cases of the cold part, quoted
                 ['round-robin:0s round-robin:30s least-request:0s least-request:30s']
  --cold-conns N connections of the cold-restart runs [100]
  --only PART    slow or cold [both]
  -o DIR         results directory [a new /tmp/pibl-balance.XXXXXX]
  --keep         keep the runtime directory (configs, logs) after the run
  -h             this help

Environment: PIBL_JAVA_OPTS (PIBL's JVM flags; default in bench/lib/common.sh), BACKEND_JAVA_OPTS (the demo
backends' [-Xmx128m], as run-demo.sh), BENCH_PORT_BASE (18500: backends on +1..+3, PIBLs from +10, all on
127.0.0.1), PORT_WAIT (300: seconds to wait for busy ports), BENCH_LOCK (/tmp/pibl-bench.lock).
EOF
}

BENCH_NAME=balance.sh
# shellcheck source=bench/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
log() { bench_log "$@"; }
die() { bench_die "$@"; }

# ---------------------------------------------------------------- settings
COMMAND_LINE="bench/balance.sh${*:+ ${*@Q}}"
DURATION=10 ROUNDS=3 WARMUP=10 CONNS=50 SLOW_MS=50 COLD_CONNS=100 ONLY="" OUT="" KEEP=0 THREADS=2
POLICIES="round-robin least-request ewma"
COLD_CASES="round-robin:0s round-robin:30s least-request:0s least-request:30s"
# The cold run's timeline: load alone, b3 dead, then b3 back until the end of the run.
COLD_BEFORE=5 COLD_DEAD=3 COLD_AFTER=12 COLD_WINDOW_MS=5000
URL_PATH="/download?size=1024"
START_TIMEOUT=60
PORT_BASE=${BENCH_PORT_BASE:-18500}
PORT_WAIT=${PORT_WAIT:-300}
BACKEND_JAVA_OPTS=${BACKEND_JAVA_OPTS:--Xmx128m}
BACKEND_JAR=$BENCH_ROOT/pibl-backend-demo/target/pibl-backend-demo.jar

while (($#)); do
	case $1 in
	-d | -r | -w | -c | -b | -o | --slow-ms | --cold | --cold-conns | --only) (($# >= 2)) || die "option $1 needs a value (see -h)" ;;
	esac
	case $1 in
	-d) DURATION=$2; shift 2 ;;
	-r) ROUNDS=$2; shift 2 ;;
	-w) WARMUP=$2; shift 2 ;;
	-c) CONNS=$2; shift 2 ;;
	-b) POLICIES=$2; shift 2 ;;
	-o) OUT=$2; shift 2 ;;
	--slow-ms) SLOW_MS=$2; shift 2 ;;
	--cold) COLD_CASES=$2; shift 2 ;;
	--cold-conns) COLD_CONNS=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument '$1' (see -h)" ;;
	esac
done
for v in DURATION ROUNDS WARMUP CONNS SLOW_MS COLD_CONNS PORT_BASE PORT_WAIT; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, got '${!v}'"
done
((DURATION >= 1 && DURATION <= 600 && ROUNDS >= 1 && ROUNDS <= 50)) || die "-d must be within 1..600 and -r within 1..50"
((CONNS >= THREADS && COLD_CONNS >= THREADS)) || die "-c and --cold-conns must be at least $THREADS"
((PORT_BASE >= 1024 && PORT_BASE <= 65000)) || die "BENCH_PORT_BASE must be within 1024..65000, got $PORT_BASE"
case $ONLY in "" | slow | cold) ;; *) die "--only takes slow or cold, got '$ONLY'" ;; esac
read -r -a POLICY_LIST <<<"$POLICIES"
read -r -a COLD_LIST <<<"$COLD_CASES"
for p in "${POLICY_LIST[@]}"; do
	case $p in round-robin | weighted | least-request | ewma | hash) ;; *) die "-b: unknown balance '$p'" ;; esac
done
for c in "${COLD_LIST[@]}"; do
	[[ $c =~ ^(round-robin|weighted|least-request|ewma|hash):[0-9]+(ms|s|m)$ ]] || die "--cold: '$c' is not BALANCE:SLOW-START (round-robin:30s)"
done
RUN_SLOW=1 RUN_COLD=1
if [[ $ONLY == slow ]]; then RUN_COLD=0; fi
if [[ $ONLY == cold ]]; then RUN_SLOW=0; fi
((!RUN_SLOW || ${#POLICY_LIST[@]})) || die "-b needs at least one policy"
((!RUN_COLD || ${#COLD_LIST[@]})) || die "--cold needs at least one case"

BACKEND_PORTS=($((PORT_BASE + 1)) $((PORT_BASE + 2)) $((PORT_BASE + 3)))
BACKEND_NAMES=(b1 b2 b3)
# A PIBL per policy or case, all started before the first round: 10 ports from +10.
PIBL_PORT_FIRST=$((PORT_BASE + 10))
((${#POLICY_LIST[@]} <= 10 && ${#COLD_LIST[@]} <= 10)) || die "at most 10 policies and 10 cold cases"

# ---------------------------------------------------------------- tools, jars, ports, lock
bench_lock # one benchmark at a time: waits while another holds the machine
cd "$BENCH_ROOT"
bench_install wrk:wrk curl:curl
for t in setsid timeout sort awk flock; do command -v "$t" >/dev/null || die "$t is missing (coreutils, util-linux)"; done
command -v java >/dev/null || die "java is missing: install a JDK 17+ (Debian: apt-get install openjdk-17-jdk-headless)"
bench_build "$BACKEND_JAR"
bench_await_free "$PORT_WAIT" "${BACKEND_PORTS[@]}" $(seq "$PIBL_PORT_FIRST" $((PIBL_PORT_FIRST + 9)))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

RUN=$(mktemp -d /tmp/pibl-balance-run.XXXXXX)
if [[ -z $OUT ]]; then OUT=$(mktemp -d /tmp/pibl-balance.XXXXXX); fi
mkdir -p "$OUT/raw"
OUT=$(cd "$OUT" && pwd)

# ---------------------------------------------------------------- processes
# Every server runs in its own session (process group id = its pid), which is what cleanup stops; none keeps
# the lock's fd 9.
declare -A PGID=()
GROUPS_STARTED=() CLIENT=""

stop_group() { # PGID [SIGNAL]
	local g=$1 sig=${2:-TERM} i
	kill "-$sig" -- "-$g" 2>/dev/null || return 0
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
	if [[ -n $CLIENT ]]; then stop_group "$CLIENT"; fi
	for ((i = ${#GROUPS_STARTED[@]} - 1; i >= 0; i--)); do stop_group "${GROUPS_STARTED[i]}"; done
	if ((rc != 0 || KEEP)); then
		log "runtime files (configs, logs) kept in $RUN"
	else
		rm -rf "$RUN"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

spawn() { # NAME COMMAND... : runs in $RUN/NAME, stdout and stderr appended to files there
	local name=$1 dir=$RUN/$1
	shift
	mkdir -p "$dir/logs"
	(cd "$dir" && exec setsid "$@") </dev/null >>"$dir/stdout" 2>>"$dir/stderr" 9>&- &
	PGID[$name]=$!
	GROUPS_STARTED+=($!)
}

show_logs() { tail -n 20 "$RUN/$1/stderr" "$RUN/$1/stdout" >&2 2>/dev/null || true; }

wait_ready() { # NAME URL
	local name=$1 url=$2 pid=${PGID[$1]} deadline=$((SECONDS + START_TIMEOUT))
	until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || { show_logs "$name"; die "$name exited while starting"; }
		((SECONDS < deadline)) || { show_logs "$name"; die "$name does not answer $url after ${START_TIMEOUT} s"; }
		sleep 0.1
	done
}

now_ms() { date +%s%3N; }

start_backend() { # INDEX DELAY_MS : b1..b3 on their ports
	local i=$1 delay=$2 name=${BACKEND_NAMES[$1]}
	# shellcheck disable=SC2086 # BACKEND_JAVA_OPTS is a list of words
	spawn "$name" java $BACKEND_JAVA_OPTS -jar "$BACKEND_JAR" --bind 127.0.0.1 --port "${BACKEND_PORTS[i]}" \
		--name "$name" --delay-ms "$delay"
}

start_backends() { # DELAY_OF_B3
	local i
	for i in 0 1 2; do
		if ((i == 2)); then start_backend "$i" "$1"; else start_backend "$i" 0; fi
	done
	for i in 0 1 2; do wait_ready "${BACKEND_NAMES[i]}" "http://127.0.0.1:${BACKEND_PORTS[i]}/health"; done
}

stop_backends() {
	local n
	for n in "${BACKEND_NAMES[@]}"; do stop_group "${PGID[$n]}"; done
}

# PIBL NAME on PORT with balance: BALANCE and slow-start: SLOW_START. The cache is off, so every request reaches
# a backend; active health checks every second (the defaults otherwise: timeout 1 s, fall 3, rise 2, passive
# failures 3, cooldown 10 s); the admin listener off; access lines on stdout and in a file, as in production.
PIBL_CONFIGS=""
start_pibl() { # NAME PORT BALANCE SLOW_START
	local name=$1 port=$2 dir=$RUN/$1 backends
	mkdir -p "$dir"
	backends=$(printf '127.0.0.1:%s, ' "${BACKEND_PORTS[@]}")
	cat >"$dir/pibl.yaml" <<-YAML
		bind: 127.0.0.1
		port: $port
		backends: [${backends%, }]
		balance: $3
		slow-start: $4
		health-check: { enabled: true, path: /health, interval: 1s }
		cache: { enabled: false, directory: $dir/cache }
		admin: { enabled: false }
		log: { file: $dir/logs/pibl.log }
	YAML
	if [[ -z $PIBL_CONFIGS ]]; then PIBL_CONFIGS=$(grep -vE '^(port|balance|slow-start|cache|log):' "$dir/pibl.yaml"); fi
	# shellcheck disable=SC2086 # PIBL_JAVA_OPTS is a list of words
	spawn "$name" java $PIBL_JAVA_OPTS -jar "$BENCH_JAR" --config "$dir/pibl.yaml"
	wait_ready "$name" "http://127.0.0.1:$port/health"
}

# wrk through a PIBL, bounded by timeout, in its own session (cleanup stops it); its output to RAW. With
# BACKGROUND=1 it returns at once (CLIENT is its group; wait_client waits for it).
run_wrk() { # RAW PORT CONNS SECONDS
	local raw=$1 port=$2 conns=$3 secs=$4
	setsid timeout --foreground -k 5 $((secs + 30)) wrk -t"$THREADS" -c"$conns" -d"${secs}s" --timeout 10s --latency \
		-s "$BENCH_ROOT/bench/lib/wrk-report.lua" "http://127.0.0.1:$port$URL_PATH" >"$raw" 2>&1 9>&- &
	CLIENT=$!
	if [[ ${BACKGROUND:-0} != 1 ]]; then wait_client; fi
}
wait_client() {
	wait "$CLIENT" || true
	CLIENT=""
}

# wrk's RESULT line: requests duration_us bytes connect read write non2xx timeouts p50 p90 p99 max (µs).
wrk_result() { awk '/^RESULT / { $1 = ""; print substr($0, 2); found = 1 } END { if (!found) print "0 0 0 0 0 0 0 0 0 0 0 0" }' "$1"; }

# The access lines in a PIBL's stdout (default format: time client "request" status bytes backend cache ms "UA"
# ...), one "epoch_ms status backend duration_ms" each; the server's own lines are left out.
# shellcheck disable=SC2016 # awk's own $ fields
ACCESS_AWK='
function days(y, m, d) { y -= (m <= 2); era = int(y / 400); yoe = y - era * 400
	doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
	return era * 146097 + yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy - 719468 }
function epoch_ms(t) { return ((days(substr(t, 1, 4) + 0, substr(t, 6, 2) + 0, substr(t, 9, 2) + 0) * 24 + substr(t, 12, 2)) * 60 \
	+ substr(t, 15, 2)) * 60000 + substr(t, 18, 2) * 1000 + substr(t, 21, 3) }
NF >= 5 && $1 ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]+Z / && $3 ~ /^ [0-9][0-9][0-9] [0-9]+ [^ ]+ [^ ]+ [0-9.]+ms $/ {
	split($3, f, " "); printf "%.0f %s %s %s\n", epoch_ms($1), f[1], f[3], f[5] + 0 }'
access_lines() { awk -F'"' "$ACCESS_AWK" "$1"; }

# count p50 p99 max over1s of a file of durations in ms (one a line); "0 - - - 0" when empty.
duration_stats() {
	sort -n "$1" | awk '{ a[NR] = $1; if ($1 > 1000) over++ }
		function at(q) { i = int(NR * q); if (i < NR * q) i++; if (i < 1) i = 1; return a[i] }
		END { if (!NR) print "0 - - - 0"; else printf "%d %.1f %.1f %.1f %d\n", NR, at(0.5), at(0.99), a[NR], over }'
}

# ---------------------------------------------------------------- part 1: one slow backend
# The latencies are PIBL's (its access lines: from the request read to the response written, each request once):
# wrk 4 "corrects" its histogram for coordinated omission before reporting it (stats_correct: a sample longer
# than the mean interval between a connection's requests is copied at that value minus 1, 2, ... intervals),
# which with one backend of three 50 ms late puts wrk's p50 near 30 ms while two requests in three take 1 ms.
# wrk's p99 stays in the CSV (wrk_p99_ms) for comparison; req/s and errors are wrk's.
SLOW_HEADER="round,balance,requests,seconds,rps,p50_ms,p99_ms,max_ms,wrk_p99_ms,errors,non2xx,logged,b1_pct,b2_pct,b3_pct"

measure_slow() { # ROUND INDEX
	local round=$1 i=$2 name=slow-${POLICY_LIST[$2]} port=$((PIBL_PORT_FIRST + $2)) raw res stats counts
	raw=$OUT/raw/slow-r$round-${POLICY_LIST[i]}.txt
	kill -0 "${PGID[$name]}" 2>/dev/null || { show_logs "$name"; die "$name is no longer running"; }
	: >"$RUN/$name/stdout" # opened with O_APPEND: the run's lines only
	run_wrk "$raw" "$port" "$CONNS" "$DURATION"
	sleep 1 # PIBL writes access lines within ~10 ms of each response; let the last ones out
	res=$(wrk_result "$raw")
	# 499: the requests wrk left unanswered when its time was up.
	access_lines "$RUN/$name/stdout" | awk '$2 != 499' >"$RUN/lines"
	awk '{ print $4 }' "$RUN/lines" >"$RUN/lines.ms"
	stats=$(duration_stats "$RUN/lines.ms")
	counts=$(awk -v b1="127.0.0.1:${BACKEND_PORTS[0]}" -v b2="127.0.0.1:${BACKEND_PORTS[1]}" \
		-v b3="127.0.0.1:${BACKEND_PORTS[2]}" '{ n++; c[$3]++ } END { print n + 0, c[b1] + 0, c[b2] + 0, c[b3] + 0 }' "$RUN/lines")
	awk -v round="$round" -v balance="${POLICY_LIST[i]}" -v res="$res" -v stats="$stats" -v counts="$counts" 'BEGIN {
		split(res, r, " "); split(stats, l, " "); split(counts, c, " "); secs = r[2] / 1e6; if (secs <= 0) secs = 1
		n = c[1] ? c[1] : 1
		printf "%s,%s,%d,%.3f,%.0f,%s,%s,%s,%.2f,%d,%d,%d,%.1f,%.1f,%.1f\n", round, balance, r[1], secs, r[1] / secs,
			l[2], l[3], l[4], r[11] / 1000, r[4] + r[5] + r[6] + r[8], r[7], c[1], 100 * c[2] / n, 100 * c[3] / n, 100 * c[4] / n }' >>"$OUT/slow.csv"
	tail -n 1 "$OUT/slow.csv" | awk -F, '{ printf "  r%s %-14s %7s req/s  p50 %6s ms  p99 %7s ms  max %7s ms  shares b1 %s%% b2 %s%% b3 %s%%  errors %s/%s\n",
		$1, $2, $5, $6, $7, $8, $13, $14, $15, $10, $11 }' >&2
}

run_slow_part() {
	local i round n=${#POLICY_LIST[@]}
	log "part 1: b3 answers ${SLOW_MS} ms late; balance ${POLICY_LIST[*]}; wrk -c $CONNS, ${DURATION} s runs"
	start_backends "$SLOW_MS"
	for ((i = 0; i < n; i++)); do start_pibl "slow-${POLICY_LIST[i]}" $((PIBL_PORT_FIRST + i)) "${POLICY_LIST[i]}" 30s; done
	for ((i = 0; i < n; i++)); do
		if ((WARMUP > 0)); then
			log "warm-up of balance ${POLICY_LIST[i]}: ${WARMUP} s"
			run_wrk "$RUN/warm.txt" $((PIBL_PORT_FIRST + i)) "$CONNS" "$WARMUP"
			grep -q '^RESULT ' "$RUN/warm.txt" || die "warm-up of ${POLICY_LIST[i]} failed: $(tail -n 3 "$RUN/warm.txt")"
		fi
	done
	echo "$SLOW_HEADER" >"$OUT/slow.csv"
	for ((round = 1; round <= ROUNDS; round++)); do
		log "part 1, round $round of $ROUNDS"
		for ((j = 0; j < n; j++)); do measure_slow "$round" $(((j + round - 1) % n)); done
	done
	for ((i = 0; i < n; i++)); do stop_group "${PGID[slow-${POLICY_LIST[i]}]}"; done
	stop_backends
}

# ---------------------------------------------------------------- part 2: a backend restarted cold
COLD_HEADER="round,balance,slow_start,requests,errors,non2xx,wrk_p99_ms,wrk_max_ms,back_after_ms,b3_first_1s,b3_requests,b3_p50_ms,b3_p99_ms,b3_max_ms,b3_over_1s,after_requests,after_p99_ms,after_max_ms,after_over_1s,run_over_1s"

# Before a run b3 answers and every PIBL has seen it pass two checks (rise 2, a second apart).
settle() {
	wait_ready b3 "http://127.0.0.1:${BACKEND_PORTS[2]}/health"
	sleep 3
}

# Until b3 accepts a connection (no request: the fresh JVM gets nothing but PIBL's traffic), bounded.
await_listening() { # PORT
	local deadline=$((SECONDS + START_TIMEOUT))
	until bench_port_busy "$1"; do
		kill -0 "${PGID[b3]}" 2>/dev/null || { show_logs b3; die "b3 exited while starting"; }
		((SECONDS < deadline)) || { show_logs b3; die "b3 does not listen after ${START_TIMEOUT} s"; }
		sleep 0.02
	done
}

measure_cold() { # ROUND INDEX
	local round=$1 i=$2 balance=${COLD_LIST[$2]%%:*} slow=${COLD_LIST[$2]#*:} name=cold-$2 port=$((PIBL_PORT_FIRST + $2))
	local tag raw restart_ms kill_ms up_ms res b3=127.0.0.1:${BACKEND_PORTS[2]} lines first first_1s stats_b3 stats_after run_over
	tag=r$round-$balance-$slow
	raw=$OUT/raw/cold-$tag.txt
	kill -0 "${PGID[$name]}" 2>/dev/null || { show_logs "$name"; die "$name is no longer running"; }
	settle
	: >"$RUN/$name/stdout"
	BACKGROUND=1 run_wrk "$raw" "$port" "$COLD_CONNS" $((COLD_BEFORE + COLD_DEAD + COLD_AFTER))
	sleep "$COLD_BEFORE"
	kill_ms=$(now_ms)
	stop_group "${PGID[b3]}" KILL
	sleep "$COLD_DEAD"
	restart_ms=$(now_ms)
	start_backend 2 0
	await_listening "${BACKEND_PORTS[2]}"
	up_ms=$(now_ms)
	wait_client
	sleep 1
	res=$(wrk_result "$raw")
	lines=$RUN/$name/lines
	access_lines "$RUN/$name/stdout" | awk '$2 != 499' >"$lines"
	# The first request b3 served after its restart, and the 5 s from it.
	first=$(awk -v b3="$b3" -v t="$restart_ms" '$3 == b3 && $1 >= t { print $1; exit }' "$lines")
	first=${first:-0}
	awk -v b3="$b3" -v t="$first" -v w="$COLD_WINDOW_MS" '$3 == b3 && $1 >= t && $1 < t + w { print $4 }' "$lines" >"$RUN/b3.ms"
	awk -v t="$restart_ms" '$1 >= t { print $4 }' "$lines" >"$RUN/after.ms"
	first_1s=$(awk -v b3="$b3" -v t="$first" '$3 == b3 && $1 >= t && $1 < t + 1000 { n++ } END { print n + 0 }' "$lines")
	stats_b3=$(duration_stats "$RUN/b3.ms")
	stats_after=$(duration_stats "$RUN/after.ms")
	run_over=$(awk '$4 > 1000 { n++ } END { print n + 0 }' "$lines")
	# Evidence: b3's access lines of the run, and what PIBL said about it.
	{
		echo "# b3 killed at $kill_ms, restarted at $restart_ms, listening at $up_ms (epoch ms)"
		echo "# PIBL's lines about b3:"
		grep -F "$b3" "$RUN/$name/stdout" | grep -v '"GET ' || true
		echo "# access lines of b3 after the restart (epoch_ms status backend ms):"
		awk -v b3="$b3" -v t="$restart_ms" '$3 == b3 && $1 >= t' "$lines"
	} >"$OUT/raw/cold-$tag-b3.txt"
	awk -v round="$round" -v balance="$balance" -v slow="$slow" -v res="$res" -v first="$first" -v restart="$restart_ms" \
		-v first_1s="$first_1s" -v b="$stats_b3" -v a="$stats_after" -v over="$run_over" 'BEGIN {
		split(res, r, " "); split(b, s, " "); split(a, t, " ")
		printf "%s,%s,%s,%d,%d,%d,%.1f,%.1f,%s,%d,%d,%s,%s,%s,%d,%d,%s,%s,%d,%d\n", round, balance, slow, r[1],
			r[4] + r[5] + r[6] + r[8], r[7], r[11] / 1000, r[12] / 1000, first ? first - restart : "", first_1s,
			s[1], s[2], s[3], s[4], s[5], t[1], t[3], t[4], t[5], over }' >>"$OUT/cold.csv"
	tail -n 1 "$OUT/cold.csv" | awk -F, '{ printf "  r%s %-14s slow-start %-4s back after %6s ms  b3 first 1 s / 5 s: %s / %s req, p99 %s ms, max %s ms  >1 s after restart: %s  errors %s/%s\n",
		$1, $2, $3, $9, $10, $11, $13, $14, $19, $5, $6 }' >&2
}

run_cold_part() {
	local i round n=${#COLD_LIST[@]}
	log "part 2: kill -9 and a cold restart of b3 under wrk -c $COLD_CONNS; cases ${COLD_LIST[*]}"
	start_backends 0
	for ((i = 0; i < n; i++)); do start_pibl "cold-$i" $((PIBL_PORT_FIRST + i)) "${COLD_LIST[i]%%:*}" "${COLD_LIST[i]#*:}"; done
	for ((i = 0; i < n; i++)); do
		if ((WARMUP > 0)); then
			log "warm-up of ${COLD_LIST[i]}: ${WARMUP} s"
			run_wrk "$RUN/warm.txt" $((PIBL_PORT_FIRST + i)) "$COLD_CONNS" "$WARMUP"
			grep -q '^RESULT ' "$RUN/warm.txt" || die "warm-up of ${COLD_LIST[i]} failed: $(tail -n 3 "$RUN/warm.txt")"
		fi
	done
	echo "$COLD_HEADER" >"$OUT/cold.csv"
	for ((round = 1; round <= ROUNDS; round++)); do
		log "part 2, round $round of $ROUNDS"
		for ((j = 0; j < n; j++)); do measure_cold "$round" $(((j + round - 1) % n)); done
	done
	for ((i = 0; i < n; i++)); do stop_group "${PGID[cold-$i]}"; done
	stop_backends
}

# ---------------------------------------------------------------- report
# Medians over the rounds (with the range where it says something), from slow.csv and cold.csv.
MEDIAN_AWK='
function median(list,   v, n, i, j, x) { n = split(list, v, " ")
	for (i = 2; i <= n; i++) { x = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
function lo(list,   v, n, i, m) { n = split(list, v, " "); m = v[1] + 0; for (i = 2; i <= n; i++) if (v[i] + 0 < m) m = v[i] + 0; return m }
function hi(list,   v, n, i, m) { n = split(list, v, " "); m = v[1] + 0; for (i = 2; i <= n; i++) if (v[i] + 0 > m) m = v[i] + 0; return m }
function sum(list,   v, n, i, s) { n = split(list, v, " "); for (i = 1; i <= n; i++) s += v[i]; return s }
function fmt(x) { return x >= 100 ? sprintf("%.0f", x) : x >= 10 ? sprintf("%.1f", x) : sprintf("%.2f", x) }
function range(list) { return lo(list) == hi(list) ? "" : " (" fmt(lo(list)) "–" fmt(hi(list)) ")" }
function add(key, col, value) { if (!(key in seen)) { seen[key] = 1; keys[++nkeys] = key }; vals[key, col] = vals[key, col] " " value }'

slow_table() {
	awk -F, -v slow_ms="$SLOW_MS" "$MEDIAN_AWK"'
		NR > 1 { k = $2; add(k, "rps", $5); add(k, "p50", $6); add(k, "p99", $7); add(k, "b3", $15)
			add(k, "b1", $13); add(k, "b2", $14); add(k, "err", $10 + $11) }
		END {
			print "| balance | req/s | p50 ms | p99 ms | b3 (slow) share | b1 / b2 share | errors |"
			print "|---|---|---|---|---|---|---|"
			for (i = 1; i <= nkeys; i++) { k = keys[i]
				printf "| %s | %.0f | %s | %s%s | %.1f %%%s | %.1f / %.1f %% | %d |\n", k, median(vals[k, "rps"]),
					fmt(median(vals[k, "p50"])), fmt(median(vals[k, "p99"])), range(vals[k, "p99"]),
					median(vals[k, "b3"]), range(vals[k, "b3"]), median(vals[k, "b1"]), median(vals[k, "b2"]), sum(vals[k, "err"]) }
		}' "$1"
}

cold_table() {
	awk -F, "$MEDIAN_AWK"'
		NR > 1 { k = $2 ", slow-start " $3; add(k, "back", $9 / 1000); add(k, "b3n1", $10); add(k, "b3n", $11); add(k, "b3p99", $13)
			add(k, "b3max", $14); add(k, "ap99", $17); add(k, "amax", $18); add(k, "aover", $19); add(k, "err", $5 + $6) }
		END {
			print "| balance, slow start | b3 back after (s) | b3 requests, first 1 s · 5 s | b3, first 5 s: p99 · max ms | all requests after the restart: p99 · max ms | requests > 1 s after the restart (all rounds) | errors |"
			print "|---|---|---|---|---|---|---|"
			for (i = 1; i <= nkeys; i++) { k = keys[i]
				printf "| %s | %.1f | %.0f · %.0f | %s · %s%s | %s · %s%s | %d | %d |\n", k, median(vals[k, "back"]),
					median(vals[k, "b3n1"]), median(vals[k, "b3n"]), fmt(median(vals[k, "b3p99"])), fmt(median(vals[k, "b3max"])),
					range(vals[k, "b3max"]), fmt(median(vals[k, "ap99"])), fmt(median(vals[k, "amax"])), range(vals[k, "amax"]),
					sum(vals[k, "aover"]), sum(vals[k, "err"]) }
		}' "$1"
}

write_report() {
	{
		echo "# bench/balance.sh results"
		echo
		echo "Machine, tools and command ([env.txt](env.txt)); one row per run in slow.csv and cold.csv, wrk's"
		echo "output and the restarted backend's access lines in raw/."
		echo
		echo '```text'
		cat "$OUT/env.txt"
		echo '```'
		if [[ -s $OUT/slow.csv ]]; then
			echo
			echo "## One slow backend"
			echo
			echo "b3 answers every request ${SLOW_MS} ms late (\`--delay-ms ${SLOW_MS}\`), b1 and b2 at once; wrk -c $CONNS for ${DURATION} s"
			echo "through PIBL (\`GET $URL_PATH\`, cache off). req/s and errors (socket errors and non-2xx answers, all"
			echo "rounds) are wrk's; latencies and shares are from PIBL's access lines, every request once (wrk 4 pads its"
			echo "histogram for coordinated omission, which turns one slow backend's 50 ms into a p50 of ~30 ms). Medians over"
			echo "$ROUNDS round(s), the range over the rounds in parentheses."
			echo
			slow_table "$OUT/slow.csv"
		fi
		if [[ -s $OUT/cold.csv ]]; then
			echo
			echo "## A backend restarted cold"
			echo
			echo "wrk -c $COLD_CONNS for $((COLD_BEFORE + COLD_DEAD + COLD_AFTER)) s through PIBL (\`GET $URL_PATH\`, cache off); ${COLD_BEFORE} s in, \`kill -9\` of b3;"
			echo "${COLD_DEAD} s later b3 starts again, a fresh JVM. Active health checks every 1 s (rise 2), passive checks as by"
			echo "default. \"Back after\": from the restart to the first request b3 served through PIBL. \"First 5 s\": the"
			echo "requests b3 served in the 5 s from then, as PIBL timed them. Medians over $ROUNDS round(s), the range in parentheses;"
			echo "the counts of slow requests and errors are sums over the rounds."
			echo
			cold_table "$OUT/cold.csv"
		fi
	} >"$OUT/results.md"
}

# ---------------------------------------------------------------- main
version() { "$@" 2>&1 | head -n1 || true; }
estimate=$((RUN_SLOW * (${#POLICY_LIST[@]} * (WARMUP + 5) + ROUNDS * ${#POLICY_LIST[@]} * (DURATION + 2) + 20)
	+ RUN_COLD * (${#COLD_LIST[@]} * (WARMUP + 5) + ROUNDS * ${#COLD_LIST[@]} * (COLD_BEFORE + COLD_DEAD + COLD_AFTER + 9) + 20)))
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "command: $COMMAND_LINE"
	echo "source: commit $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$BENCH_ROOT" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
	echo "machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "java: $(version java -version); PIBL_JAVA_OPTS=$PIBL_JAVA_OPTS; BACKEND_JAVA_OPTS=$BACKEND_JAVA_OPTS"
	echo "wrk: $(version wrk -v | cut -d' ' -f1-2), $THREADS threads, --timeout 10s"
	echo "settings: parts$( ((RUN_SLOW)) && echo " slow (${POLICY_LIST[*]}; -c $CONNS, ${DURATION} s, b3 +${SLOW_MS} ms)")$( ((RUN_COLD)) && echo " cold (${COLD_LIST[*]}; -c $COLD_CONNS)"); $ROUNDS round(s), ${WARMUP} s warm-up per PIBL"
	echo "backends: b1 b2 b3 on 127.0.0.1:${BACKEND_PORTS[*]}: java $BACKEND_JAVA_OPTS -jar pibl-backend-demo.jar --bind 127.0.0.1 --port N --name bN --delay-ms MS"
	echo "estimated duration: $(((estimate + 59) / 60)) min"
} | tee "$OUT/env.txt" >&2

if ((RUN_SLOW)); then run_slow_part; fi
if ((RUN_COLD)); then run_cold_part; fi
{
	echo "pibl: java \$PIBL_JAVA_OPTS -jar pibl.jar --config pibl.yaml, one per policy or case, each with its port, balance:,"
	echo "  slow-start: (part 1: the default 30s), cache: { enabled: false } and log: file, and:"
	printf '%s\n' "$PIBL_CONFIGS" | sed 's/^/    /'
	echo "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$OUT/env.txt"
write_report
cat "$OUT/results.md"
log "results in $OUT (results.md, slow.csv, cold.csv, env.txt, raw/)"
