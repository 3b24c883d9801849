#!/bin/bash
# cloud-init user-data for the pibl host pibl of deployment rehearsal, rendered by deploy/lib/render.sh.
# cloud-init runs it once, as root, at first boot; its output goes to /var/log/cloud-init-output.log.
# With PIBL_ROOT=DIR it writes every file under DIR and skips packages and systemd: deploy/local/rehearse.sh does that.
# It must stay under EC2's 16 KiB of user-data: deploy/aws/pibl-aws.sh refuses a larger one.
set -euo pipefail
ROOT="${PIBL_ROOT:-}"
say() { echo "pibl-user-data: $*"; }

if [ -z "$ROOT" ]; then
  say "installing java-17-amazon-corretto-headless openssl"
  for attempt in 1 2 3 4 5; do
    dnf install -y java-17-amazon-corretto-headless openssl && break
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
port: 80
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
# The certificate and key are not named here: pibl.service passes them as --tls-cert/--tls-key, from the copies
# systemd makes of /etc/pibl/tls.crt and tls.key for the service's transient user (LoadCredential=).
tls:
  port: 443
  redirect-http: true
  # Short: a browser that saw it over a trusted certificate keeps to https for this long, and an EC2 public
  # DNS name goes to someone else once the instance is gone.
  hsts: 1h
PIBL_FILE
cat >"$ROOT/etc/pibl/pibl.env" <<'PIBL_FILE'
# /etc/pibl/pibl.env: read by pibl.service.
# Heap fixed at 256 MiB so a t3.micro (1 GiB) keeps room for the page cache that serves cache/ files.
# Netty's sampled leak detection off: the test suite runs it at paranoid level instead.
JAVA_OPTS=-Xms256m -Xmx256m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled
# Seconds a cached response stays fresh when the backend gives no max-age (the --ttl flag).
PIBL_TTL=45
PIBL_FILE
# No certificate was given to pibl-aws.sh up: make a self-signed one for this instance's public DNS name and IP,
# as the instance metadata service (IMDSv2: a token first, then the values) tells them.
self_signed_cert() {
	local cert=$1 key=$2 days=$3 san=$4 cn
	cn=${san%%,*}
	cn=${cn#*:}
	command -v openssl >/dev/null || { echo "self_signed_cert: openssl is needed (apt-get install openssl)" >&2; return 1; }
	(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" -subj "/CN=$cn" \
		-addext "subjectAltName=$san" -keyout "$key" -out "$cert" 2>/dev/null) &&
		chmod 600 "$key" && chmod 644 "$cert"
}
imds=${PIBL_IMDS:-http://169.254.169.254}
imds_token=$(curl -fsS --retry 5 --retry-connrefused --max-time 5 -X PUT \
  -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$imds/latest/api/token" || true)
imds_get() { # NAME : the metadata value, or nothing (EC2 answers 404 for a name the instance has not got)
  [ -n "$imds_token" ] || return 0
  curl -fs --max-time 5 -H "X-aws-ec2-metadata-token: $imds_token" "$imds/latest/meta-data/$1" || true
}
public_name=$(imds_get public-hostname)
public_ip=$(imds_get public-ipv4)
san=""
[[ $public_name =~ ^[A-Za-z0-9.-]+$ ]] && san="DNS:$public_name"
[[ $public_ip =~ ^[0-9]+(\.[0-9]+){3}$ ]] && san="${san:+$san,}IP:$public_ip"
if [ -z "$san" ]; then
  say "the metadata service gave no public name or address: the certificate is for localhost only"
  san="DNS:localhost"
fi
self_signed_cert "$ROOT/etc/pibl/tls.crt" "$ROOT/etc/pibl/tls.key" 365 "$san"
say "made a self-signed certificate for $san, valid 365 days: /etc/pibl/tls.crt"
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
# PIBL: caching reverse proxy (HTTP/1.1, HTTP/2, TLS, WebSocket) and round-robin load balancer.
# Install: /opt/pibl/pibl.jar, /opt/pibl/pibl-jvm, /etc/pibl/pibl.yaml, /etc/pibl/pibl.env (see pibl.env here),
# /etc/pibl/tls.crt and /etc/pibl/tls.key (PEM, owned by root, the key 0600), then
#   systemctl enable --now pibl.service     reload config: systemctl reload pibl
#   new certificate or key: replace the two files, then systemctl restart pibl (see LoadCredential= below)
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
# The certificate and key, readable by the transient user without being readable by anyone else: systemd copies
# them at each start into a directory only this service may read, $CREDENTIALS_DIRECTORY, and ExecStart names
# the copies (--tls-cert/--tls-key win over pibl.yaml, which holds the rest of the tls: block). The copies are
# fixed for the life of the process, so reload (SIGHUP) re-reads them unchanged: a new certificate takes a restart.
LoadCredential=tls.crt:/etc/pibl/tls.crt
LoadCredential=tls.key:/etc/pibl/tls.key
# pibl-jvm runs /usr/bin/java with a class-data archive it keeps in the state directory (the port opens in
# ~0.7 s instead of ~1 s); the first start after an install or a JDK update records it, at the next stop.
ExecStart=/bin/sh /opt/pibl/pibl-jvm /var/lib/pibl/pibl.jsa $JAVA_OPTS -jar /opt/pibl/pibl.jar --config /etc/pibl/pibl.yaml --ttl ${PIBL_TTL} --tls-cert ${CREDENTIALS_DIRECTORY}/tls.crt --tls-key ${CREDENTIALS_DIRECTORY}/tls.key
ExecReload=/bin/kill -HUP $MAINPID
# The JVM exits with 143 after a SIGTERM it handled: that is a clean stop.
SuccessExitStatus=143
TimeoutStopSec=30
Restart=on-failure
RestartSec=2
LimitNOFILE=65536

# Hardening: the proxy needs the network, its state directory and nothing else. Its one capability binds ports
# below 1024 (80 and 443 on the EC2 host); it survives the exec of java because it is ambient.
NoNewPrivileges=yes
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
AmbientCapabilities=CAP_NET_BIND_SERVICE
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
