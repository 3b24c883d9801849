#!/bin/bash
# cloud-init user-data for the pibl host pibl of deployment rehearsal, rendered by deploy/lib/render.sh.
# cloud-init runs it once, as root, at first boot; its output goes to /var/log/cloud-init-output.log.
# With PIBL_ROOT=DIR it writes every file under DIR and skips packages and systemd: deploy/local/rehearse.sh does that.
set -euo pipefail
ROOT="${PIBL_ROOT:-}"
say() { echo "pibl-user-data: $*"; }

if [ -z "$ROOT" ]; then
  say "installing the Java 17 runtime"
  for attempt in 1 2 3 4 5; do
    dnf install -y java-17-amazon-corretto-headless && break
    [ "$attempt" -lt 5 ] || exit 1
    sleep 10
  done
fi

mkdir -p "$ROOT/opt/pibl" "$ROOT/etc/pibl" "$ROOT/etc/systemd/system"
say "fetching pibl.jar"
curl -fsSL --retry 10 --retry-delay 5 --retry-all-errors --max-time 300 \
  -o "$ROOT/opt/pibl/pibl.jar.part" 'file:///srv/pibl.jar'
mv "$ROOT/opt/pibl/pibl.jar.part" "$ROOT/opt/pibl/pibl.jar"
chmod 0644 "$ROOT/opt/pibl/pibl.jar"

cat >"$ROOT/etc/pibl/pibl.yaml" <<'PIBL_FILE'
# PIBL configuration for rehearsal, rendered by deploy/lib/render.sh.
# Relative paths are resolved against the working directory (WorkingDirectory= in pibl.service).
port: 8080
bind: 0.0.0.0
backends:
  - "198.18.0.11:9001"
  - "198.18.0.12:9001"
  - "198.18.0.13:9001"
log:
  file: logs/pibl.log
cache:
  directory: cache
  ttl: 45
admin:
  host: 127.0.0.1
  port: 8081
PIBL_FILE
cat >"$ROOT/etc/pibl/pibl.env" <<'PIBL_FILE'
# /etc/pibl/pibl.env: read by pibl.service.
# Heap fixed at 256 MiB so a t3.micro (1 GiB) keeps room for the page cache that serves cache/ files.
# Netty's sampled leak detection off: the test suite runs it at paranoid level instead.
JAVA_OPTS=-Xms256m -Xmx256m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled
# Seconds a cached response stays fresh when the backend gives no max-age (the --ttl flag).
PIBL_TTL=45
PIBL_FILE
cat >"$ROOT/opt/pibl/pibl-jvm" <<'PIBL_FILE'
#!/bin/sh
# Starts PIBL's JVM with an application class-data archive (AppCDS), so that the ~4,400 classes PIBL loads at
# start (Jackson's YAML binding, Log4j, Netty, picocli) are mapped from one file instead of each being read from
# the jar, verified and defined: the port opens in ~0.7 s instead of ~0.9-1.1 s.
#
#   /bin/sh /opt/pibl/pibl-jvm /var/lib/pibl/pibl.jsa $JAVA_OPTS -jar /opt/pibl/pibl.jar --config ...
#   JAVA=$(command -v java) sh deploy/systemd/pibl-jvm pibl-app/target/pibl.jsa -jar ...   (./run-demo.sh)
#
# Java 17 cannot keep such an archive by itself (JDK 19's -XX:+AutoCreateSharedArchive does), and naming one
# that does not exist turns off the JDK's own class sharing too. So: when ARCHIVE is there and newer than both
# the jar and the JVM, it is used; otherwise this run records it (-XX:ArchiveClassesAtExit, written as the JVM
# exits after a clean stop, its warnings about classes it cannot keep silenced), and the next start uses it.
# A stale or foreign archive is never named.
set -eu
archive=$1
shift
jar=
prev=
for arg in "$@"; do
  if [ "$prev" = "-jar" ]; then jar=$arg; fi
  prev=$arg
done
java=${JAVA:-/usr/bin/java}
jvm=$(readlink -f "$java")
if [ -s "$archive" ] && [ "$archive" -nt "$jvm" ] && { [ -z "$jar" ] || [ "$archive" -nt "$jar" ]; }; then
  exec "$java" -XX:SharedArchiveFile="$archive" "$@"
fi
rm -f "$archive"
exec "$java" -XX:ArchiveClassesAtExit="$archive" -Xlog:cds=off "$@"
PIBL_FILE
cat >"$ROOT/etc/systemd/system/pibl.service" <<'PIBL_FILE'
# PIBL: caching HTTP/1.1 reverse proxy and round-robin load balancer.
# Install: /opt/pibl/pibl.jar, /opt/pibl/pibl-jvm, /etc/pibl/pibl.yaml, /etc/pibl/pibl.env (see pibl.env here), then
#   systemctl enable --now pibl.service     reload config: systemctl reload pibl
# deploy/local/rehearse.sh runs this ExecStart line (with pibl.env) inside a network namespace.
[Unit]
Description=PIBL caching reverse proxy and round-robin load balancer
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
# A transient user named pibl; its state directory survives restarts and reboots.
DynamicUser=yes
User=pibl
EnvironmentFile=/etc/pibl/pibl.env
# cache/ and logs/pibl.log live here: pibl.yaml names them relative to the working directory.
StateDirectory=pibl
StateDirectoryMode=0750
WorkingDirectory=/var/lib/pibl
# pibl-jvm runs /usr/bin/java with a class-data archive it keeps in the state directory (the port opens in
# ~0.7 s instead of ~1 s); the first start after an install or a JDK update records it, at the next stop.
ExecStart=/bin/sh /opt/pibl/pibl-jvm /var/lib/pibl/pibl.jsa $JAVA_OPTS -jar /opt/pibl/pibl.jar --config /etc/pibl/pibl.yaml --ttl ${PIBL_TTL}
ExecReload=/bin/kill -HUP $MAINPID
# The JVM exits with 143 after a SIGTERM it handled: that is a clean stop.
SuccessExitStatus=143
TimeoutStopSec=30
Restart=on-failure
RestartSec=2
LimitNOFILE=65536

# Hardening: the proxy needs the network, its state directory and nothing else.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectClock=yes
ProtectHostname=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
UMask=0027
# No MemoryDenyWriteExecute: the JIT compiler needs writable and executable memory.

[Install]
WantedBy=multi-user.target
PIBL_FILE
if [ -z "$ROOT" ]; then
  systemctl daemon-reload
  systemctl enable --now pibl.service
  say "started pibl.service"
fi
say "done"
