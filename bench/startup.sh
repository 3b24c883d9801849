#!/usr/bin/env bash
# bench/startup.sh - time from launching PIBL's JVM to its port accepting a TCP connection, with and without
# the class-data archive that deploy/systemd/pibl-jvm keeps (AppCDS), launches interleaved.
#
#   bench/startup.sh              5 launches of each, the production flags of deploy/systemd/pibl.env
#   bench/startup.sh -r 9         9 of each
#
# Each launch: a fresh empty cache directory, health checks off (one backend that is never asked), the port
# polled every 5 ms (bounded: 10 s), then SIGTERM. The archive is recorded once first (a launch with
# -XX:ArchiveClassesAtExit, stopped cleanly), as the unit's first start does. Prints every launch and the
# medians. Needs java, ss (iproute2) and the jar (mvn -B -q package -DskipTests); listens on 127.0.0.1 only.
set -euo pipefail

ROUNDS=5
while [ $# -gt 0 ]; do
  case $1 in
    -r) ROUNDS=${2:?}; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "startup: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR="$ROOT/pibl-app/target/pibl.jar"
[ -r "$JAR" ] || { echo "startup: no $JAR; build it: mvn -B -q package -DskipTests" >&2; exit 2; }
WORK=$(mktemp -d /tmp/pibl-startup.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The production JVM flags, from the unit's environment file.
read -ra OPTS <<<"$(sed -n 's/^JAVA_OPTS=//p' "$ROOT/deploy/systemd/pibl.env")"

launch() { # MODE (plain | cds) : prints milliseconds to a connect
  local mode=$1 dir start end pid i
  dir=$(mktemp -d "$WORK/run.XXXXXX")
  cat >"$dir/pibl.yaml" <<YAML
port: $PORT
bind: 127.0.0.1
backends:
  - 127.0.0.1:9
health-check:
  enabled: false
admin:
  enabled: false
cache:
  directory: $dir/cache
log:
  file: $dir/pibl.log
YAML
  start=$(date +%s%N)
  if [ "$mode" = cds ]; then
    JAVA=$(command -v java) /bin/sh "$ROOT/deploy/systemd/pibl-jvm" "$WORK/pibl.jsa" "${OPTS[@]}" \
      -jar "$JAR" --config "$dir/pibl.yaml" >"$dir/out.log" 2>&1 &
  else
    java "${OPTS[@]}" -jar "$JAR" --config "$dir/pibl.yaml" >"$dir/out.log" 2>&1 &
  fi
  pid=$!
  for ((i = 0; i < 2000; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    kill -0 "$pid" 2>/dev/null || { echo "startup: PIBL exited; see below" >&2; cat "$dir/out.log" >&2; exit 1; }
    sleep 0.005
  done
  end=$(date +%s%N)
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  [ "$i" -lt 2000 ] || { echo "startup: no connect within 10 s" >&2; exit 1; }
  # With io_uring the kernel releases the listening socket a moment after the process is gone (the ring's
  # files are dropped asynchronously); until then it still accepts, and the next launch would seem instant.
  for ((i = 0; i < 400; i++)); do
    [ -z "$(ss -Hltn "sport = :$PORT")" ] && break
    sleep 0.005
  done
  echo $(((end - start) / 1000000))
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "startup: recording the archive (one launch, stopped cleanly)"
launch cds >/dev/null
[ -s "$WORK/pibl.jsa" ] || { echo "startup: no archive was written" >&2; exit 1; }
plain=()
cds=()
for ((r = 1; r <= ROUNDS; r++)); do
  plain+=("$(launch plain)")
  cds+=("$(launch cds)")
  echo "round $r: plain ${plain[-1]} ms, with the archive ${cds[-1]} ms (load $(cut -d' ' -f1 /proc/loadavg))"
done
mp=$(printf '%s\n' "${plain[@]}" | median)
mc=$(printf '%s\n' "${cds[@]}" | median)
echo "median: plain $mp ms, with the archive $mc ms ($(java -version 2>&1 | head -n 1))"
