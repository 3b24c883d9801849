#!/usr/bin/env bash
# bench/run.sh - PIBL next to nginx (cache and plain proxy) and HAProxy, on loopback, from a clean clone.
#
#   BENCH_SH=/path/to/bench.sh bench/run.sh                                  defaults of bench.sh, 30 s warm-up
#   BENCH_SH=/path/to/bench.sh bench/run.sh -- -d 5 -r 3 -p '/small /nocache' after -- goes to bench.sh
#
# bench.sh is the team's reference harness; it is not part of this repository, so its path is given in BENCH_SH.
#
# Installs missing wrk/nginx/haproxy/curl (as root, with apt-get), rebuilds pibl-app/target/pibl.jar
# when it is missing or older than the sources, waits (bounded) for the benchmark ports to be free,
# then runs $BENCH_SH with PIBL as the custom target. Results: /tmp/bench-results.*
# (or -o DIR after --). See bench/README.md.
set -euo pipefail

# The JVM flags of the proxy under test: the one place to tune them (or set PIBL_JAVA_OPTS outside).
PIBL_JAVA_OPTS=${PIBL_JAVA_OPTS:--Xms128m -Xmx128m -XX:+UseParallelGC -Dio.netty.leakDetection.level=disabled}
# Defaults given to bench.sh before the pass-through arguments (which win: bench.sh keeps the last value).
BENCH_DEFAULTS=(-w 30)
# The anchors PIBL is compared with.
ANCHORS=(nginx-cache nginx-proxy haproxy)
# How long to wait for another benchmark on this machine to free the ports, in seconds.
PORT_WAIT=${PORT_WAIT:-300}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_SH=${BENCH_SH:-}
JAR=pibl-app/target/pibl.jar
CONFIG=bench/pibl-bench.yaml

log() { printf 'run.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

usage() {
	sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	echo
	echo "Environment: PIBL_JAVA_OPTS (now: $PIBL_JAVA_OPTS), BENCH_SH, PORT_WAIT (seconds, now: $PORT_WAIT)."
	echo "bench.sh options (pass them after --):"
	if [[ -r $BENCH_SH ]]; then bash "$BENCH_SH" -h | sed -n '/^Options/,$p'; else echo "  ($BENCH_SH not found)"; fi
}

PASS=()
while (($#)); do
	case $1 in
	--) shift; PASS=("$@"); break ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument '$1'; bench.sh options go after -- (see -h)" ;;
	esac
done

cd "$ROOT"

# ---------------------------------------------------------------- the harness
[[ -n $BENCH_SH ]] || die "set BENCH_SH=/path/to/bench.sh (the team's reference harness, not part of this repository); bench/cache-fill.sh needs nothing outside it"
[[ -f $BENCH_SH ]] || die "the harness is not at $BENCH_SH (BENCH_SH)"
[[ -r $BENCH_SH ]] || die "cannot read $BENCH_SH"

# ---------------------------------------------------------------- tools
declare -A PACKAGE=([wrk]=wrk [nginx]=nginx [haproxy]=haproxy [curl]=curl)
missing=()
for tool in wrk nginx haproxy curl; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("${PACKAGE[$tool]}")
done
if ((${#missing[@]})); then
	if ((EUID == 0)) && command -v apt-get >/dev/null 2>&1; then
		log "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	else
		die "missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}"
	fi
fi
command -v java >/dev/null 2>&1 || die "java not found; install a JDK 17+ (Debian: apt-get install openjdk-17-jdk-headless)"

# ---------------------------------------------------------------- PIBL
# Rebuild when the jar is missing or any main source or POM of what goes into it is newer.
stale=""
if [[ ! -f $JAR ]]; then
	stale="$JAR is missing"
else
	newer=$(find pom.xml pibl-core/pom.xml pibl-app/pom.xml pibl-core/src/main pibl-app/src/main \
		-type f -newer "$JAR" -print -quit 2>/dev/null || true)
	if [[ -n $newer ]]; then stale="$newer is newer than $JAR"; fi
fi
if [[ -n $stale ]]; then
	command -v mvn >/dev/null 2>&1 || die "$stale and mvn is not installed (Debian: apt-get install maven)"
	log "building PIBL ($stale): mvn -B -q package -DskipTests"
	mvn -B -q package -DskipTests
	[[ -f $JAR ]] || die "the build did not produce $JAR"
fi

# ---------------------------------------------------------------- ports
# bench.sh refuses to start on a busy port; wait a bounded time for another run on this machine to end.
pibl_port=8080
for ((i = 0; i < ${#PASS[@]}; i++)); do
	if [[ ${PASS[i]} == --port ]] && ((i + 1 < ${#PASS[@]})); then pibl_port=${PASS[i + 1]}; fi
done
port_busy() { (echo >"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1; }
busy_ports() {
	local p list=()
	for p in "$pibl_port" 8081 8082 8083 9001 9002 9003; do
		if port_busy "$p"; then list+=("$p"); fi
	done
	echo "${list[*]}"
}
case " ${PASS[*]} " in
*" --report "* | *" -h "* | *" --help "*) ;; # bench.sh starts nothing
*)
	deadline=$((SECONDS + PORT_WAIT))
	while busy=$(busy_ports) && [[ -n $busy ]]; do
		((SECONDS < deadline)) || die "ports $busy are still in use after ${PORT_WAIT}s (another benchmark?); try again later"
		log "ports $busy are in use (another benchmark?); waiting up to $((deadline - SECONDS))s more"
		sleep 10
	done
	;;
esac

# ---------------------------------------------------------------- run
# bench.sh runs the target with bash -c in this directory and sets PORT, ACCESS_LOG_FILE and BENCH_RUN_DIR.
export PIBL_JAVA_OPTS
# shellcheck disable=SC2016 # the variables are expanded by bench.sh's bash -c, not here
{
	PIBL_CMD='exec java $PIBL_JAVA_OPTS -jar '"$JAR"' --config '"$CONFIG"' --port "$PORT"'
	PIBL_CMD+=' --backend 127.0.0.1:9001 --backend 127.0.0.1:9002 --backend 127.0.0.1:9003 --ttl 3600'
	PIBL_CMD+=' --log-file "$ACCESS_LOG_FILE" --cache-dir "$BENCH_RUN_DIR/pibl-cache"'
}

log "PIBL_JAVA_OPTS=$PIBL_JAVA_OPTS"
log "$BENCH_SH ${BENCH_DEFAULTS[*]}${PASS[*]:+ ${PASS[*]@Q}} pibl='$PIBL_CMD' ${ANCHORS[*]}"
exec bash "$BENCH_SH" "${BENCH_DEFAULTS[@]}" "${PASS[@]}" "pibl=$PIBL_CMD" "${ANCHORS[@]}"
