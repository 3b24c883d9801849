#!/bin/bash
# cloud-init user-data for the backend host backend-2 of deployment rehearsal, rendered by deploy/lib/render.sh.
# cloud-init runs it once, as root, at first boot; its output goes to /var/log/cloud-init-output.log.
# With PIBL_ROOT=DIR it writes every file under DIR and skips packages and systemd: deploy/local/rehearse.sh does that.
# It must stay under EC2's 16 KiB of user-data: deploy/aws/pibl-aws.sh refuses a larger one.
set -euo pipefail
ROOT="${PIBL_ROOT:-}"
say() { echo "pibl-user-data: $*"; }

if [ -z "$ROOT" ]; then
  say "installing java-17-amazon-corretto-headless"
  for attempt in 1 2 3 4 5; do
    dnf install -y java-17-amazon-corretto-headless && break
    [ "$attempt" -lt 5 ] || exit 1
    sleep 10
  done
fi

mkdir -p "$ROOT/opt/pibl" "$ROOT/etc/pibl" "$ROOT/etc/systemd/system"
say "fetching pibl-backend-demo.jar"
curl -fsSL --retry 10 --retry-delay 5 --retry-all-errors --max-time 300 \
  -o "$ROOT/opt/pibl/pibl-backend-demo.jar.part" 'file:///srv/pibl-backend-demo.jar'
mv "$ROOT/opt/pibl/pibl-backend-demo.jar.part" "$ROOT/opt/pibl/pibl-backend-demo.jar"
chmod 0644 "$ROOT/opt/pibl/pibl-backend-demo.jar"

cat >"$ROOT/etc/pibl/backend-2.env" <<'PIBL_FILE'
# /etc/pibl/<name>.env: read by pibl-backend@<name>.service.
JAVA_OPTS=-Xms64m -Xmx128m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError
BACKEND_PORT=9001
BACKEND_BIND=0.0.0.0
PIBL_FILE
cat >"$ROOT/etc/systemd/system/pibl-backend@.service" <<'PIBL_FILE'
# PIBL demo backend, one instance per name: pibl-backend@backend-1.service reads /etc/pibl/backend-1.env
# (see backend.env here) and answers with "X-Backend: backend-1".
#   systemctl enable --now pibl-backend@backend-1.service
# deploy/local/rehearse.sh runs this ExecStart line (with the env file) inside a network namespace.
[Unit]
Description=PIBL demo backend %i
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
DynamicUser=yes
EnvironmentFile=/etc/pibl/%i.env
StateDirectory=pibl-backend/%i
WorkingDirectory=/var/lib/pibl-backend/%i
ExecStart=/usr/bin/java $JAVA_OPTS -jar /opt/pibl/pibl-backend-demo.jar --port ${BACKEND_PORT} --name %i --bind ${BACKEND_BIND}
SuccessExitStatus=143
TimeoutStopSec=20
Restart=on-failure
RestartSec=2

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

[Install]
WantedBy=multi-user.target
PIBL_FILE
if [ -z "$ROOT" ]; then
  systemctl daemon-reload
  systemctl enable --now pibl-backend@backend-2.service
  say "started pibl-backend@backend-2.service"
fi
say "done"
