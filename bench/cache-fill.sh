#!/usr/bin/env bash
# bench/cache-fill.sh - the disk cache at scale: PIBL next to nginx proxy_cache filling N unique small URLs.
#
#   bench/cache-fill.sh                      1,000,000 URLs, 50 connections, one round
#   bench/cache-fill.sh -n 200000 -r 3       smaller, three rounds (targets alternate in each)
#   bench/cache-fill.sh --only pibl          one target only
#   bench/cache-fill.sh -o /tmp/fill --keep  results (and logs, caches) where you want them
#   bench/cache-fill.sh --fill-only -r 2     the fills only (no restart, no wait for nginx's ~10 min loader)
#
# For each target, in a fresh directory: an origin (nginx, 128-byte body, Cache-Control: max-age=86400) on
# 127.0.0.1:19001, the target on :18080 (PIBL's admin on :18081), then
#   fresh   wrk fills N unique URLs into the empty cache directory (every request a miss that is stored)
#   warm    N/4 more unique URLs into the same directory (its directories and N files exist)
#   memory  PIBL: heap after a full GC and RSS; nginx: RSS of its processes (its keys zone is shared memory)
#   disk    bytes on disk (du, allocated blocks) per stored entry
#   restart the target stopped and started again over the same directory: time to listen, time to an index
#           that holds everything (PIBL: /status says loaded; nginx: its cache loader process exits)
# Both hold every entry (no eviction): nginx's keys zone takes ~2M keys, PIBL's max-entries is set to 1.3 N (its
# default with -Xmx128m is 1,074,790, which the warm fill would pass). Before each target the dirty pages of the
# one before are written back (sync, then I/O pressure under 5%, bounded), so that neither pays for the other.
# Fill rates are entries stored per second, from starting wrk to the target's N-th answer (both log every
# request to a file, as in production). Needs wrk, nginx, curl, java, python3; installs them with
# apt-get when run as root. Everything listens on 127.0.0.1; every wait is bounded.
set -euo pipefail

N=1000000
CONNS=50
ROUNDS=1
ONLY=""
OUT=""
KEEP=0
FILL_ONLY=0
ORIGIN_PORT=19001
PORT=18080
ADMIN_PORT=18081

usage() { sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while (($#)); do
	case $1 in
	-n) N=$2; shift 2 ;;
	-c) CONNS=$2; shift 2 ;;
	-r) ROUNDS=$2; shift 2 ;;
	-o) OUT=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--fill-only) FILL_ONLY=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "cache-fill: unknown argument '$1' (see -h)" >&2; exit 2 ;;
	esac
done

BENCH_NAME=cache-fill
# shellcheck source=bench/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" # PIBL_JAVA_OPTS, bench_install, bench_build
ROOT=$BENCH_ROOT
JAR=$BENCH_JAR
log() { bench_log "$@"; }
die() { bench_die "$@"; }

bench_lock # one benchmark at a time: waits while another holds the machine
bench_install wrk:wrk nginx:nginx curl:curl python3:python3
command -v java >/dev/null || die "java (17+) is needed"
# shellcheck disable=SC2119 # no jar but PIBL's is needed
bench_build
for p in $ORIGIN_PORT $PORT $ADMIN_PORT; do
	if (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p is in use"; fi
done

OUT=${OUT:-$(mktemp -d /tmp/cache-fill.XXXXXX)}
mkdir -p "$OUT"
RESULTS=$OUT/results.csv
echo "round,target,phase,value,unit" >"$RESULTS"
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
	sleep 0.5
	for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
	if ((!KEEP)); then rm -rf "$OUT"/*/cache "$OUT"/*/nginx-temp; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

record() { echo "$1,$2,$3,$4,$5" >>"$RESULTS"; printf '  %-6s %-22s %12s %s\n' "$2" "$3" "$4" "$5" >&2; }

# Waits (bounded) until something accepts connections on $1; prints the milliseconds it took since $2 (ns).
await_port() {
	local port=$1 since=$2 deadline=$((SECONDS + 60))
	until (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		((SECONDS < deadline)) || die "nothing listens on $port after 60 s"
		sleep 0.01
	done
	echo $((($(date +%s%N) - since) / 1000000))
}

start_origin() {
	local dir=$1
	cat >"$dir/origin.conf" <<-EOF
		worker_processes 1;
		pid $dir/origin.pid;
		error_log $dir/origin-error.log warn;
		events { worker_connections 4096; }
		http {
		  access_log off;
		  keepalive_requests 100000000;
		  server {
		    listen 127.0.0.1:$ORIGIN_PORT;
		    location / {
		      add_header Cache-Control "max-age=86400";
		      default_type text/plain;
		      return 200 "$(printf 'x%.0s' {1..128})";
		    }
		  }
		}
	EOF
	setsid nginx -c "$dir/origin.conf" -p "$dir" -g 'daemon off;' >/dev/null 2>&1 9>&- &
	ORIGIN_PID=$!
	PIDS+=($!)
	await_port $ORIGIN_PORT "$(date +%s%N)" >/dev/null
}

stop_origin() {
	kill -TERM -- "-$ORIGIN_PID" 2>/dev/null || true
	local deadline=$((SECONDS + 10))
	while (echo >"/dev/tcp/127.0.0.1/$ORIGIN_PORT") 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
}

nginx_conf() {
	local dir=$1
	cat >"$dir/nginx.conf" <<-EOF
		worker_processes 2;
		pid $dir/nginx.pid;
		error_log $dir/nginx-error.log notice;
		events { worker_connections 8192; }
		http {
		  log_format fill '\$msec \$upstream_cache_status "\$request" \$status \$body_bytes_sent';
		  access_log $dir/access.log fill;
		  proxy_cache_path $dir/cache levels=1:2 keys_zone=fill:256m max_size=16g inactive=1d use_temp_path=off;
		  upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 64; }
		  server {
		    listen 127.0.0.1:$PORT reuseport;
		    location / {
		      proxy_pass http://origin;
		      proxy_http_version 1.1;
		      proxy_set_header Connection "";
		      proxy_cache fill;
		      proxy_cache_key \$scheme\$host\$request_uri;
		    }
		  }
		}
	EOF
}

# Starts the target; sets TARGET_PID and LISTEN_MS (launch to accepting connections).
start_target() {
	local target=$1 dir=$2 since
	since=$(date +%s%N)
	if [[ $target == pibl ]]; then
		cat >"$dir/pibl.yaml" <<-EOF
			backends: [127.0.0.1:$ORIGIN_PORT]
			admin: { host: 127.0.0.1, port: $ADMIN_PORT }
			health-check: { enabled: false }
			cache: { directory: $dir/cache, max-size: 16g, max-entries: $((N * 13 / 10)) }
		EOF
		# As the systemd unit starts it: deploy/systemd/pibl-jvm records a class-data archive at the first stop
		# (after the fills) and the restart maps it.
		# shellcheck disable=SC2086 # the JVM flags are words
		(cd "$dir" && JAVA=$(command -v java) exec setsid /bin/sh "$ROOT/deploy/systemd/pibl-jvm" "$dir/pibl.jsa" \
			$PIBL_JAVA_OPTS -jar "$JAR" --config "$dir/pibl.yaml" --port $PORT \
			--log-file "$dir/access.log" >>"$dir/stdout.log" 2>&1) 9>&- &
	else
		nginx_conf "$dir"
		(cd "$dir" && exec setsid nginx -c "$dir/nginx.conf" -p "$dir" -g 'daemon off;' >>"$dir/stdout.log" 2>&1) 9>&- &
	fi
	PIDS+=($!)
	TARGET_PID=$!
	LISTEN_MS=$(await_port $PORT "$since")
}

stop_target() {
	kill -TERM -- "-$TARGET_PID" 2>/dev/null || true
	local deadline=$((SECONDS + 30))
	while kill -0 "$TARGET_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
	kill -KILL -- "-$TARGET_PID" 2>/dev/null || true
	while (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do sleep 0.1; done
}

# Unique URLs, each wrk thread stopping after its share; the duration is only an upper bound.
FILL_LUA=$OUT/fill.lua
cat >"$FILL_LUA" <<'EOF'
threads_made = 0
function setup(thread)
  thread:set("id", threads_made)
  threads_made = threads_made + 1
end
function init(args)
  run = args[1]
  share = tonumber(args[2])
  sent = 0
  answered = 0
end
function request()
  sent = sent + 1
  return wrk.format("GET", "/obj/" .. run .. "-" .. id .. "-" .. sent)
end
function response(status, headers, body)
  answered = answered + 1
  if answered >= share then
    wrk.thread:stop()
  end
end
EOF

# PIBL's responses stored since start (evicted ones included) and responses answered so far, from /status.
pibl_counts() {
	curl -fsS "http://127.0.0.1:$ADMIN_PORT/status" | python3 -c 'import json, sys
d = json.load(sys.stdin); print(d["cache"]["index"]["stored"], sum(d["responses"].values()))'
}

# Responses the target has answered so far: PIBL's /status, the lines of nginx's access log.
answered() {
	if [[ $1 == pibl ]]; then pibl_counts | cut -d' ' -f2; else wc -l <"$2/access.log"; fi
}

# Fills $2 unique URLs named after run $1; prints entries stored per second and entries stored. The clock runs
# from starting wrk to the target's $2-th answer (wrk itself waits for its whole -d even when every thread has
# stopped); what was stored: PIBL's /status (a response it passed through unstored because its disk was behind
# does not count), every answer for nginx (it writes each miss as it serves it).
fill() {
	local run=$1 count=$2 dir=$3 target=$4 threads=2 before stored0=0 stored1=0 start end deadline wrk_pid
	before=$(answered "$target" "$dir")
	[[ $target == pibl ]] && stored0=$(pibl_counts | cut -d' ' -f1)
	start=$(date +%s%N)
	wrk -t$threads -c"$CONNS" -d$((count / 500 + 60))s -s "$FILL_LUA" "http://127.0.0.1:$PORT/" -- "$run" \
		$((count / threads)) >"$dir/wrk-$run.txt" 2>&1 &
	wrk_pid=$!
	deadline=$((SECONDS + count / 500 + 60))
	while (($(answered "$target" "$dir") - before < count)); do
		((SECONDS < deadline)) || { kill "$wrk_pid"; die "$target answered fewer than $count in time"; }
		kill -0 "$wrk_pid" 2>/dev/null || break
		sleep 0.2
	done
	end=$(date +%s%N)
	kill -INT "$wrk_pid" 2>/dev/null || true
	wait "$wrk_pid" 2>/dev/null || true
	if [[ $target == pibl ]]; then
		local last=-1 now
		for _ in $(seq 1 50); do # the last commits land within moments
			now=$(pibl_counts | cut -d' ' -f1)
			[[ $now == "$last" ]] && break
			last=$now
			sleep 0.2
		done
		stored1=$last
	else
		stored0=0
		stored1=$(($(answered "$target" "$dir") - before))
	fi
	python3 -c "print(round(($stored1 - $stored0) / (($end - $start) / 1e9)), $stored1 - $stored0)"
}

pibl_memory() {
	local pid
	pid=$(pgrep -f "java .*--port $PORT" | head -1)
	jcmd "$pid" GC.run >/dev/null 2>&1 || true
	sleep 1
	local heap rss
	heap=$(jcmd "$pid" GC.heap_info 2>/dev/null | awk '/total/ { for (i = 1; i <= NF; i++) if ($i == "used") s += $(i + 1) } END { print s + 0 }' | tr -d 'K')
	rss=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
	echo "$heap $rss"
}

nginx_rss() {
	ps -o rss= -p "$(pgrep -d, -f "nginx.*$1/nginx.conf")" | awk '{ s += $1 } END { print s + 0 }'
}

# Polls until the index holds everything: PIBL's /status, or nginx's cache loader process gone.
await_loaded() {
	local target=$1 dir=$2 since=$3 deadline=$((SECONDS + 1800))
	if [[ $target == pibl ]]; then
		until curl -fsS "http://127.0.0.1:$ADMIN_PORT/status" 2>/dev/null | grep -q '"loading":false'; do
			((SECONDS < deadline)) || die "PIBL's index still loading after 30 min"
			sleep 0.2
		done
	else
		sleep 0.5
		while pgrep -f "nginx: cache loader process" >/dev/null; do
			((SECONDS < deadline)) || die "nginx's cache loader still running after 30 min"
			sleep 0.2
		done
	fi
	echo $((($(date +%s%N) - since) / 1000000))
}

# Writes back what the last target left dirty and waits (at most 3 min) for the disk to go quiet.
settle_disk() {
	local deadline=$((SECONDS + 180))
	sync
	while ((SECONDS < deadline)); do
		[[ -r /proc/pressure/io ]] || return 0
		(($(awk '/^some/ { split($2, a, "="); print int(a[2]) }' /proc/pressure/io) < 5)) && return 0
		sleep 2
	done
	log "the disk is still busy after 3 min; going on"
}

targets=(pibl nginx)
[[ -n $ONLY ]] && targets=("$ONLY")
log "N=$N, $CONNS connections, $ROUNDS round(s), results in $OUT"
for ((round = 1; round <= ROUNDS; round++)); do
	order=("${targets[@]}")
	if ((round % 2 == 0)); then order=($(printf '%s\n' "${targets[@]}" | tac)); fi
	for target in "${order[@]}"; do
		dir=$OUT/$round-$target
		rm -rf "$dir"
		mkdir -p "$dir"
		settle_disk
		log "round $round: $target"
		start_origin "$dir"
		start_target "$target" "$dir"
		record "$round" "$target" "listen-empty" "$LISTEN_MS" ms
		curl -fsS -o /dev/null "http://127.0.0.1:$PORT/warmup" || true
		read -r rate stored < <(fill "a$round" "$N" "$dir" "$target")
		record "$round" "$target" "fill-fresh" "$rate" "entries/s ($stored stored)"
		read -r rate stored < <(fill "b$round" $((N / 4)) "$dir" "$target")
		record "$round" "$target" "fill-warm" "$rate" "entries/s ($stored stored)"
		files=$(find "$dir/cache" -type f ! -name '*.tmp' | wc -l)
		kib=$(du -sk "$dir/cache" | cut -f1)
		record "$round" "$target" "disk-per-entry" $((kib * 1024 / (files > 0 ? files : 1))) "bytes ($files files, $kib KiB)"
		if [[ $target == pibl ]]; then
			read -r heap rss < <(pibl_memory)
			record "$round" "$target" "heap-after-gc" "$heap" "KiB ($(python3 -c "print(round($heap / 1024 / $files * 1e6, 1))") MiB per million)"
			record "$round" "$target" "rss" "$rss" "KiB ($(python3 -c "print(round($rss / 1024 / $files * 1e6, 1))") MiB per million)"
		else
			rss=$(nginx_rss "$dir")
			record "$round" "$target" "rss" "$rss" "KiB (all processes; keys zone: 256 MiB shared, mapped as used)"
		fi
		stop_target
		if ((FILL_ONLY)); then
			stop_origin
			continue
		fi
		since=$(date +%s%N)
		start_target "$target" "$dir"
		record "$round" "$target" "listen-after-restart" "$LISTEN_MS" "ms ($files files)"
		record "$round" "$target" "index-loaded" "$(await_loaded "$target" "$dir" "$since")" ms
		curl -fsS -o /dev/null -D "$dir/after-restart.headers" "http://127.0.0.1:$PORT/obj/a$round-0-1" || true
		stop_target
		stop_origin
	done
done
log "results: $RESULTS"
