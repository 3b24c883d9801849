# shellcheck shell=bash
# One demo backend and PIBL from the built jars, on free loopback ports, in a temporary directory, stopped when
# the sourcing script exits (logs kept there when it fails). For the script tests (test-h2c.sh,
# test-status-page.sh). Source it after setting NAME, then:
#
#   local_pibl_workdir                             # optional: make WORK first, to put files there
#   local_pibl_start "admin: { enabled: false }" ...   # extra pibl.yaml lines; sets WORK, BACKEND, PORT
#   die "message"                                  # "NAME: message" on stderr, exit 1
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PIBL_JAR=${PIBL_JAR:-$REPO_ROOT/pibl-app/target/pibl.jar}
BACKEND_JAR=${BACKEND_JAR:-$REPO_ROOT/pibl-backend-demo/target/pibl-backend-demo.jar}

die() { echo "$NAME: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

local_pibl_cleanup() {
	local status=$?
	trap - EXIT INT TERM
	for pid in "${LOCAL_PIBL_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "$status" != 0 ]; then echo "$NAME: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
	exit "$status"
}

local_pibl_workdir() { # the temporary directory PIBL runs in, removed at exit unless the script failed
	WORK=$(mktemp -d "/tmp/pibl-$NAME.XXXXXX")
	LOCAL_PIBL_PIDS=()
	trap local_pibl_cleanup EXIT
	trap 'exit 130' INT TERM
}

local_pibl_start() { # EXTRA_YAML_LINE...
	for tool in curl python3 java; do command -v "$tool" >/dev/null || die "needs $tool"; done
	for jar in "$PIBL_JAR" "$BACKEND_JAR"; do
		[ -r "$jar" ] || die "no $jar: build first (mvn -B -q package -DskipTests)"
	done
	[ -n "${WORK:-}" ] || local_pibl_workdir
	BACKEND=$(free_port)
	PORT=$(free_port)
	cat >"$WORK/pibl.yaml" <<-YAML
		bind: 127.0.0.1
		port: $PORT
		backends: [127.0.0.1:$BACKEND]
		log: { file: $WORK/pibl.log }
		cache: { directory: $WORK/cache }
	YAML
	printf '%s\n' "$@" >>"$WORK/pibl.yaml"
	java -Xmx128m -jar "$BACKEND_JAR" --port "$BACKEND" --name backend-1 >"$WORK/backend.log" 2>&1 &
	LOCAL_PIBL_PIDS+=($!)
	(cd "$WORK" && exec java -Xmx256m -jar "$PIBL_JAR" --config pibl.yaml >"$WORK/pibl.out" 2>&1) &
	LOCAL_PIBL_PIDS+=($!)
	for _ in $(seq 1 150); do
		if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/health" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health" || die "PIBL did not answer on :$PORT"
}
