#!/usr/bin/env bash
# Run the PIBL Postman collection with newman (installed into postman/node_modules from package-lock.json).
#
#   postman/run-newman.sh                  start three demo backends and PIBL on loopback from the built jars,
#                                          run the collection against them, stop them
#   postman/run-newman.sh --no-start       run against what already listens on baseUrl/adminUrl
#                                          (default http://127.0.0.1:8080 and :8081; override with
#                                          BASE_URL=... ADMIN_URL=...)
# The Admin requests (adminUrl /status and /metrics) are skipped when adminUrl does not answer;
# PIBL_REQUIRE_ADMIN=1 runs them anyway, so that a missing admin listener fails the run.
#
# The demo is installed the way the hosts are (deploy/lib/render.sh user-data under a temporary root, with a
# self-signed certificate as pibl-aws.sh --cert would ship one) and started with the systemd units' ExecStart
# lines, on free loopback ports from 29001 (backends), 28080 (PIBL), 28081 (admin) and 28443 (TLS, which the
# collection does not use; the cleartext port serves rather than redirecting), which are passed to newman as
# baseUrl and adminUrl. Prints "newman: N passed, M failed" last; exits non-zero on any failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../deploy/lib/render.sh
source "$REPO_ROOT/deploy/lib/render.sh"
# shellcheck source-path=SCRIPTDIR source=../deploy/lib/unit.sh
source "$REPO_ROOT/deploy/lib/unit.sh"
# shellcheck source-path=SCRIPTDIR source=../deploy/lib/self-signed.sh
source "$REPO_ROOT/deploy/lib/self-signed.sh"

PIBL_JAR=${PIBL_JAR:-$REPO_ROOT/pibl-app/target/pibl.jar}
BACKEND_JAR=${BACKEND_JAR:-$REPO_ROOT/pibl-backend-demo/target/pibl-backend-demo.jar}
START=1
KEEP=0
NEWMAN_ARGS=()

die() { echo "run-newman: $*" >&2; exit 1; }

while [ "$#" -gt 0 ]; do
  case $1 in
    --no-start) START=0 ;;
    --keep) KEEP=1 ;;
    --) shift; NEWMAN_ARGS=("$@"); break ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
  shift
done

command -v npm >/dev/null || die "needs node and npm (apt-get install -y nodejs npm)"
NEWMAN="$HERE/node_modules/.bin/newman"
if [ ! -x "$NEWMAN" ] || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
  echo "run-newman: npm ci (newman into postman/node_modules)"
  (cd "$HERE" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
fi

WORK=$(mktemp -d /tmp/pibl-newman.XXXXXX)
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  svc_stop_all
  if [ "$KEEP" = 1 ] || [ "$status" != 0 ]; then echo "run-newman: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
TAKEN=" "
pick_port() { # BASE : the first free port from BASE, step 7 (9001-9003 and 8080-8081 are often taken)
  local p=$1 i
  for ((i = 0; i < 200; i++, p += 7)); do
    if [[ $TAKEN != *" $p "* ]] && ! port_busy "$p"; then
      TAKEN+="$p "
      echo "$p"
      return 0
    fi
  done
  die "no free port from $1"
}

if [ "$START" = 1 ]; then
  for jar in "$PIBL_JAR" "$BACKEND_JAR"; do
    [ -r "$jar" ] || die "no $jar: build first with  mvn -B -q package -DskipTests"
  done
  ROOT="$WORK/host"
  backends=()
  for i in 1 2 3; do
    port=$(pick_port $((29000 + i)))
    render_user_data_backend newman "file://$BACKEND_JAR" "backend-$i" 127.0.0.1 "$port" >"$WORK/user-data-backend-$i.sh"
    PIBL_ROOT=$ROOT bash "$WORK/user-data-backend-$i.sh" >/dev/null
    unit_exec "$ROOT/etc/systemd/system/pibl-backend@.service" "backend-$i" "$ROOT"
    svc_start "backend-$i" "" "$WORK/backend-$i.out"
    backends+=("127.0.0.1:$port")
  done
  pibl_port=$(pick_port 28080)
  admin_port=$(pick_port 28081)
  tls_port=$(pick_port 28443)
  self_signed_cert "$WORK/site.crt" "$WORK/site.key" 2 "IP:127.0.0.1" || die "could not make a certificate"
  render_user_data_pibl newman "file://$PIBL_JAR" 127.0.0.1 "$pibl_port" "$tls_port" false "$admin_port" 60 \
    "$WORK/site.crt" "$WORK/site.key" "${backends[@]}" >"$WORK/user-data-pibl.sh"
  PIBL_ROOT=$ROOT bash "$WORK/user-data-pibl.sh" >/dev/null
  unit_exec "$ROOT/etc/systemd/system/pibl.service" "" "$ROOT"
  svc_start pibl "" "$WORK/pibl.out"
  BASE_URL="http://127.0.0.1:$pibl_port"
  ADMIN_URL="http://127.0.0.1:$admin_port"
  for i in 1 2 3; do
    svc_wait_http "backend-$i" "" "http://${backends[$((i - 1))]}/health" 60 || die "backend-$i did not start"
  done
  svc_wait_http pibl "" "$BASE_URL/health" 60 || { tail -n 20 "$WORK/pibl.out" >&2; die "PIBL did not start"; }
  echo "run-newman: PIBL on $BASE_URL (admin $ADMIN_URL), backends ${backends[*]}"
fi

BASE_URL=${BASE_URL:-http://127.0.0.1:8080}
ADMIN_URL=${ADMIN_URL:-http://127.0.0.1:8081}
env_args=(--env-var "baseUrl=$BASE_URL" --env-var "adminUrl=$ADMIN_URL")
if [ "${PIBL_REQUIRE_ADMIN:-0}" != 1 ] && ! curl -s -o /dev/null --max-time 3 "$ADMIN_URL/status"; then
  echo "run-newman: $ADMIN_URL does not answer: skipping the Admin requests (PIBL_REQUIRE_ADMIN=1 to fail instead)"
  env_args+=(--env-var skipAdmin=true)
  skipped=", 2 skipped"
fi

status=0
: "${skipped:=}"
timeout 300 "$NEWMAN" run "$HERE/pibl.postman_collection.json" \
  --environment "$HERE/pibl-local.postman_environment.json" "${env_args[@]}" \
  --timeout-request 10000 --color off --reporters cli,json --reporter-json-export "$WORK/newman.json" \
  "${NEWMAN_ARGS[@]}" || status=$?

if [ -s "$WORK/newman.json" ]; then
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const assertions = require(process.argv[1]).run.stats.assertions;
    console.log(`newman: ${assertions.total - assertions.failed} passed, ${assertions.failed} failed${process.argv[2]}`);' \
    "$WORK/newman.json" "$skipped"
fi
exit "$status"
