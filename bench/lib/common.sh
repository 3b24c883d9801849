# shellcheck shell=bash
# What the bench/ scripts share: the JVM flags of the proxy under test, installing the tools they drive, building
# PIBL when its jar is stale, and waiting for loopback ports. Source it after setting BENCH_NAME (the prefix of
# every message); it sets BENCH_ROOT (the repository) and BENCH_JAR.
#
#   bench_log MESSAGE / bench_die MESSAGE       "BENCH_NAME: ..." on stderr; bench_die exits 1
#   bench_install COMMAND:PACKAGE...            apt-get installs the packages of the commands that are missing
#   bench_lock                                  waits for, then holds, the machine's benchmark lock (fd 9)
#   bench_build [FILE...]                       mvn package when BENCH_JAR (or a FILE) is missing or stale
#   bench_port_busy PORT                        true when something accepts connections on 127.0.0.1:PORT
#   bench_await_free SECONDS PORT...            waits, bounded, until none of the ports is busy

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_JAR=$BENCH_ROOT/pibl-app/target/pibl.jar

# The JVM flags of PIBL in every benchmark: the production flags of README.md's "JVM flags for production".
# The one place to change them; an exported PIBL_JAVA_OPTS wins.
PIBL_JAVA_OPTS=${PIBL_JAVA_OPTS:--Xms128m -Xmx128m -Xmn24m -XX:+UseParallelGC -XX:TrimNativeHeapInterval=1000 -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled}

bench_log() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; }
bench_die() {
	bench_log "error: $*"
	exit 1
}

# COMMAND:PACKAGE pairs; as root with apt-get the missing ones are installed (without starting their
# services: nginx and haproxy would otherwise take ports 80 and others), else they are named and we exit 1.
bench_install() {
	local pair missing=() added_policy=0
	for pair in "$@"; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
	done
	((${#missing[@]})) || return 0
	if ((EUID != 0)) || ! command -v apt-get >/dev/null 2>&1; then
		bench_die "missing ${missing[*]}; install them: sudo apt-get install ${missing[*]}"
	fi
	bench_log "installing ${missing[*]} (apt-get)"
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d # 101: "action not allowed", so no service starts
		chmod 755 /usr/sbin/policy-rc.d
		added_policy=1
	fi
	local rc=0
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
	if ((added_policy)); then rm -f /usr/sbin/policy-rc.d; fi
	((rc == 0)) || bench_die "apt-get install ${missing[*]} failed"
	for pair in "$@"; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || bench_die "${pair%%:*} is still missing after installing ${pair#*:}"
	done
}

# One benchmark at a time on this machine: two at once share the cores and both measure nothing. Takes
# BENCH_LOCK (/tmp/pibl-bench.lock) on fd 9, waiting as long as another run holds it; the lock goes with the
# shell that took it (and with any child that keeps fd 9 open: start servers with 9>&-).
BENCH_LOCK=${BENCH_LOCK:-/tmp/pibl-bench.lock}
bench_lock() {
	exec 9>"$BENCH_LOCK" || bench_die "cannot open the lock file $BENCH_LOCK"
	if ! flock -n 9; then
		bench_log "another benchmark holds $BENCH_LOCK; waiting for it to finish"
		flock 9 || bench_die "could not take $BENCH_LOCK"
	fi
}

# Builds every module (mvn -B -q package -DskipTests) when BENCH_JAR is missing or older than a POM or main
# source of pibl-core/pibl-app, or when one of the FILEs given (another module's jar, MODULE/target/NAME.jar) is
# missing or older than its module's POM or main sources.
bench_build() {
	local stale="" newer f
	if [[ ! -f $BENCH_JAR ]]; then
		stale="$BENCH_JAR is missing"
	else
		newer=$(cd "$BENCH_ROOT" && find pom.xml pibl-core/pom.xml pibl-app/pom.xml pibl-core/src/main pibl-app/src/main \
			-type f -newer "$BENCH_JAR" -print -quit 2>/dev/null || true)
		if [[ -n $newer ]]; then stale="$newer is newer than the jar"; fi
	fi
	for f in "$@"; do
		[[ -z $stale ]] || break
		if [[ ! -f $f ]]; then
			stale="$f is missing"
		elif [[ $f == */target/* && -d ${f%%/target/*}/src/main ]]; then
			newer=$(find "${f%%/target/*}/pom.xml" "${f%%/target/*}/src/main" -type f -newer "$f" -print -quit 2>/dev/null || true)
			if [[ -n $newer ]]; then stale="$newer is newer than $f"; fi
		fi
	done
	[[ -n $stale ]] || return 0
	command -v mvn >/dev/null 2>&1 || bench_die "$stale and mvn is not installed (Debian: apt-get install maven)"
	bench_log "building PIBL ($stale): mvn -B -q package -DskipTests"
	(cd "$BENCH_ROOT" && mvn -B -q package -DskipTests) || bench_die "the build failed"
	[[ -f $BENCH_JAR ]] || bench_die "the build did not produce $BENCH_JAR"
}

bench_port_busy() { (echo >"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1; }

# Another benchmark on a shared machine may hold the ports for a while: wait for it, at most SECONDS.
bench_await_free() {
	local deadline=$((SECONDS + $1)) p busy
	shift
	while :; do
		busy=()
		for p in "$@"; do
			if bench_port_busy "$p"; then busy+=("$p"); fi
		done
		((${#busy[@]})) || return 0
		((SECONDS < deadline)) || bench_die "ports ${busy[*]} on 127.0.0.1 are still in use after waiting (another benchmark?)"
		bench_log "ports ${busy[*]} are in use (another benchmark?); waiting up to $((deadline - SECONDS)) s more"
		sleep 5
	done
}
