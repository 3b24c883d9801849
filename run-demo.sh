#!/usr/bin/env bash
# The whole demo on this machine: three demo backends on 127.0.0.1:9001-9003 and PIBL on :8080 and, over TLS
# with HTTP/2, on https://127.0.0.1:8443/ (a self-signed certificate made under ./certs on the first run);
# admin page on http://127.0.0.1:8081/. PIBL in the foreground. Ctrl-C stops all of them.
#
#   ./run-demo.sh                 build if needed, then run with ./pibl.yaml
#   ./run-demo.sh --ttl 30        any further arguments go to PIBL (see java -jar pibl-app/target/pibl.jar --help)
set -euo pipefail
cd "$(dirname "$0")"

PIBL_JAR=pibl-app/target/pibl.jar
BACKEND_JAR=pibl-backend-demo/target/pibl-backend-demo.jar

command -v java >/dev/null || { echo "run-demo: java (17 or newer) is needed" >&2; exit 1; }
if [[ ! -f $PIBL_JAR || ! -f $BACKEND_JAR ]] \
	|| [[ -n $(find pom.xml pibl-*/pom.xml pibl-*/src -newer "$PIBL_JAR" -print -quit 2>/dev/null) ]]; then
	command -v mvn >/dev/null || { echo "run-demo: Maven is needed to build (apt-get install maven)" >&2; exit 1; }
	echo "run-demo: building (mvn -B -q package -DskipTests)..."
	mvn -B -q package -DskipTests
fi

for port in 8080 8081 8443 9001 9002 9003; do
	if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "run-demo: port $port is already in use; stop whatever listens there first" >&2
		exit 1
	fi
done

mkdir -p logs
# The demo's own certificate, for https://127.0.0.1:8443/ (browsers will ask to accept it; curl -k or --cacert).
CERT=certs/demo.crt
KEY=certs/demo.key
if [[ ! -f $CERT || ! -f $KEY ]]; then
	# shellcheck source=deploy/lib/self-signed.sh
	. deploy/lib/self-signed.sh
	mkdir -p certs
	self_signed_cert "$CERT" "$KEY" 365 "DNS:localhost,IP:127.0.0.1,IP:::1" || { echo "run-demo: no demo certificate" >&2; exit 1; }
	echo "run-demo: made a self-signed certificate for localhost/127.0.0.1 in $CERT (key $KEY; not committed)"
fi
pids=()
stop_all() {
	trap - EXIT INT TERM
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for i in 1 2 3; do
	java -Xmx128m -jar "$BACKEND_JAR" --port "900$i" --name "backend-$i" >"logs/backend-$i.log" 2>&1 &
	pids+=($!)
done
for i in 1 2 3; do
	for _ in $(seq 1 100); do
		if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:900$i/health" 2>/dev/null; then continue 2; fi
		kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { echo "run-demo: backend-$i exited; see logs/backend-$i.log" >&2; exit 1; }
		sleep 0.1
	done
	echo "run-demo: backend-$i did not answer on :900$i within 10 s; see logs/backend-$i.log" >&2
	exit 1
done
echo "run-demo: backends up on 9001-9003 (logs in logs/backend-N.log); starting PIBL on :8080"
echo "run-demo: try  curl -i http://127.0.0.1:8080/   and open http://127.0.0.1:8081/ for the status page"
echo "run-demo: HTTPS with HTTP/2 on https://127.0.0.1:8443/ (self-signed: curl --cacert $CERT, or -k)"
# With the class-data archive the systemd unit uses (deploy/systemd/pibl-jvm): recorded at the first stop,
# used from the second start on.
# The demo's TLS flags, unless the arguments bring their own (PIBL takes each flag once).
tls_flags=(--tls-port 8443 --tls-cert "$CERT" --tls-key "$KEY")
for arg in "$@"; do [[ $arg == --tls-* ]] && tls_flags=(); done
JAVA=$(command -v java) /bin/sh deploy/systemd/pibl-jvm pibl-app/target/pibl.jsa -jar "$PIBL_JAR" --config pibl.yaml \
	"${tls_flags[@]}" "$@" &
pids+=($!)
wait "${pids[-1]}"
