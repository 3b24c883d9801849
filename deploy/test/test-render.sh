#!/usr/bin/env bash
# Tests of the deployment rendering and of deploy/aws/pibl-aws.sh --dry-run. Needs no jar, no AWS account and
# no network. Golden files are in deploy/test/golden/; UPDATE_GOLDEN=1 rewrites them from the current output.
# Last line: "N passed, M failed".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEPLOY=$(cd "$HERE/.." && pwd)
GOLDEN="$HERE/golden"
AWS_SCRIPT="$DEPLOY/aws/pibl-aws.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/render.sh
source "$DEPLOY/lib/render.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/unit.sh
source "$DEPLOY/lib/unit.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/self-signed.sh
source "$DEPLOY/lib/self-signed.sh"

T=$(mktemp -d /tmp/pibl-test-render.XXXXXX)
IMDS_PIDS=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  local pid
  for pid in "${IMDS_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $1"; [ -z "${2:-}" ] || echo "    ${2//$'\n'/$'\n'    }"; }
check() { # DESCRIPTION COMMAND... : passes when COMMAND succeeds
  local desc=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$desc"; else fail "$desc" "$out"; fi
}
check_fails() { # DESCRIPTION COMMAND... : passes when COMMAND fails
  local desc=$1 out
  shift
  if out=$("$@" 2>&1); then fail "$desc" "succeeded, printing: $out"; else pass "$desc"; fi
}
golden() { # DESCRIPTION GOLDEN_NAME ACTUAL_FILE
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
    mkdir -p "$GOLDEN"
    cp "$3" "$GOLDEN/$2"
    pass "$1 (golden $2 rewritten)"
  elif diff -u "$GOLDEN/$2" "$3" >"$T/diff" 2>&1; then
    pass "$1"
  else
    fail "$1: differs from deploy/test/golden/$2" "$(head -n 40 "$T/diff")"
  fi
}
contains() { grep -qF -- "$2" "$1" || { echo "no line with '$2' in $1"; return 1; }; }
lacks() { ! grep -qF -- "$2" "$1" || { echo "unexpected '$2' in $1"; return 1; }; }

BACKENDS=(198.18.0.11:9001 198.18.0.12:9001 198.18.0.13:9001)
mode() { stat -c %a "$1"; }
# A certificate as --cert/--key would bring one, and a second whose key does not match the first.
self_signed_cert "$T/site.crt" "$T/site.key" 2 "DNS:pibl.example.test"
self_signed_cert "$T/other.crt" "$T/other.key" 2 "DNS:other.example.test"

# --- templates ----------------------------------------------------------------------------------------------

render_pibl_yaml rehearsal 0.0.0.0 80 443 true 8081 60 "${BACKENDS[@]}" >"$T/pibl.yaml"
golden "pibl.yaml lists the backends, the ports, the TTL, the admin listener and TLS with redirect" pibl.yaml \
  "$T/pibl.yaml"
render_user_data_pibl rehearsal file:///srv/pibl.jar 0.0.0.0 80 443 true 8081 45 "" "" "${BACKENDS[@]}" >"$T/ud-pibl.sh"
golden "PIBL user-data (a self-signed certificate made at boot)" user-data-pibl.sh "$T/ud-pibl.sh"
render_user_data_pibl rehearsal file:///srv/pibl.jar 0.0.0.0 80 443 true 8081 45 "$T/site.crt" "$T/site.key" \
  "${BACKENDS[@]}" >"$T/ud-pibl-cert.sh"
check "PIBL user-data with --cert/--key ships both files instead of making one" \
  diff <(sed '/^# No certificate was given/,/^say "made a self-signed/d' "$T/ud-pibl.sh") \
  <(sed "/^install -m 0644 \/dev\/null \"\$ROOT\/etc\/pibl\/tls.crt\"$/,/^PIBL_FILE$/d;
         /^install -m 0600 \/dev\/null \"\$ROOT\/etc\/pibl\/tls.key\"$/,/^PIBL_FILE$/d" "$T/ud-pibl-cert.sh")
render_user_data_backend rehearsal file:///srv/pibl-backend-demo.jar backend-2 0.0.0.0 9001 >"$T/ud-backend.sh"
golden "backend user-data" user-data-backend-2.sh "$T/ud-backend.sh"

check "rendered user-data is valid bash" bash -n "$T/ud-pibl.sh"
check "rendered user-data with a certificate is valid bash" bash -n "$T/ud-pibl-cert.sh"
check "rendered backend user-data is valid bash" bash -n "$T/ud-backend.sh"
if command -v shellcheck >/dev/null; then
  check "rendered user-data is shellcheck-clean" shellcheck "$T/ud-pibl.sh" "$T/ud-pibl-cert.sh" "$T/ud-backend.sh"
fi

url='https://b.s3.eu-west-1.amazonaws.com/demo/pibl.jar?X-Amz-Algorithm=AWS4&X-Amz-Signature=ab%2Fcd'
render_user_data_pibl demo "$url" 0.0.0.0 80 443 true 8081 60 "" "" 10.0.0.1:9001 >"$T/ud-url.sh"
check "a presigned URL with & and % is written verbatim" contains "$T/ud-url.sh" "'$url'"
check_fails "a URL with a single quote is refused" \
  render_user_data_pibl demo "http://x/'a" 0.0.0.0 80 443 true 8081 60 "" "" a:1
check_fails "a backend without a port is refused" render_pibl_yaml demo 0.0.0.0 80 443 true 8081 60 10.0.0.1
check_fails "no backend at all is refused" render_pibl_yaml demo 0.0.0.0 80 443 true 8081 60
check_fails "redirect-http is true or false" render_pibl_yaml demo 0.0.0.0 80 443 yes 8081 60 10.0.0.1:1
check_fails "a certificate without its key is refused" \
  render_user_data_pibl demo file:///j 0.0.0.0 80 443 true 8081 60 "$T/site.crt" "" a:1
check_fails "a key that is not PEM is refused" \
  render_user_data_pibl demo file:///j 0.0.0.0 80 443 true 8081 60 "$T/site.crt" "$T/site.crt" a:1
check_fails "a template placeholder without a value is an error" render_template "$DEPLOY/templates/pibl.yaml.tmpl" PORT=1
check_fails "a value for a placeholder the template lacks is an error" \
  render_template "$DEPLOY/templates/pibl.yaml.tmpl" NOPE=1
check_fails "an env key the default file lacks is an error" render_env "$DEPLOY/systemd/pibl.env" NOPE=1

# --- the user-data, run under a prefix as deploy/local does --------------------------------------------------

# fake_imds NAME ARGS... : deploy/test/fake-imds.py on a free loopback port; sets IMDS_URL.
fake_imds() {
  local name=$1 i
  shift
  python3 "$HERE/fake-imds.py" "$@" >"$T/imds-$name.out" 2>"$T/imds-$name.log" &
  IMDS_PIDS+=("$!")
  for ((i = 0; i < 50; i++)); do
    grep -q '^port ' "$T/imds-$name.out" 2>/dev/null && break
    sleep 0.1
  done
  IMDS_URL="http://127.0.0.1:$(sed -n 's/^port //p' "$T/imds-$name.out")"
}
san() { openssl x509 -in "$1" -noout -ext subjectAltName | sed -n '2p' | tr -d ' '; }
same_key() { [ "$(openssl x509 -in "$1" -noout -pubkey)" = "$(openssl pkey -in "$2" -pubout)" ]; }

printf 'pibl jar\n' >"$T/pibl.jar"
printf 'backend jar\n' >"$T/backend.jar"
render_user_data_pibl demo "file://$T/pibl.jar" 0.0.0.0 8080 8443 false 8081 45 "" "" "${BACKENDS[@]}" >"$T/run-pibl.sh"
render_user_data_backend demo "file://$T/backend.jar" backend-2 0.0.0.0 9002 >"$T/run-backend.sh"
ROOT="$T/root"
fake_imds ec2 --public-hostname ec2-203-0-113-9.eu-west-1.compute.amazonaws.com --public-ipv4 203.0.113.9
check "PIBL user-data runs under PIBL_ROOT" env PIBL_ROOT="$ROOT" PIBL_IMDS="$IMDS_URL" bash "$T/run-pibl.sh"
check "  it made a certificate for the public DNS name and IP the metadata service gave (IMDSv2 token)" test \
  "$(san "$ROOT/etc/pibl/tls.crt")" = "DNS:ec2-203-0-113-9.eu-west-1.compute.amazonaws.com,IPAddress:203.0.113.9"
check "  with its key, readable by root only" \
  eval 'same_key "$ROOT/etc/pibl/tls.crt" "$ROOT/etc/pibl/tls.key" && test "$(mode "$ROOT/etc/pibl/tls.key")" = 600'
check "  asking for a token first: a GET without one was never made" lacks "$T/imds-ec2.log" '" 401 '
fake_imds noname --public-ipv4 203.0.113.10
check "without a public DNS name (EC2 answers 404) the certificate is for the public IP" \
  env PIBL_ROOT="$T/root-noname" PIBL_IMDS="$IMDS_URL" bash "$T/run-pibl.sh"
check "  only" test "$(san "$T/root-noname/etc/pibl/tls.crt")" = "IPAddress:203.0.113.10"
render_user_data_pibl demo "file://$T/pibl.jar" 0.0.0.0 80 443 true 8081 45 "$T/site.crt" "$T/site.key" \
  "${BACKENDS[@]}" >"$T/run-pibl-cert.sh"
check "PIBL user-data with a certificate runs under PIBL_ROOT, with no metadata service" \
  env PIBL_ROOT="$T/root-cert" PIBL_IMDS=http://127.0.0.1:9 bash "$T/run-pibl-cert.sh"
check "  the certificate is installed as given, 0644" \
  eval 'cmp "$T/site.crt" "$T/root-cert/etc/pibl/tls.crt" && test "$(mode "$T/root-cert/etc/pibl/tls.crt")" = 644'
check "  the key is installed as given, 0600" \
  eval 'cmp "$T/site.key" "$T/root-cert/etc/pibl/tls.key" && test "$(mode "$T/root-cert/etc/pibl/tls.key")" = 600'
check "backend user-data runs under PIBL_ROOT" env PIBL_ROOT="$ROOT" bash "$T/run-backend.sh"
check "the jar is fetched from its URL" cmp "$T/pibl.jar" "$ROOT/opt/pibl/pibl.jar"
check "the backend jar is fetched from its URL" cmp "$T/backend.jar" "$ROOT/opt/pibl/pibl-backend-demo.jar"
check "pibl.service is installed verbatim" cmp "$DEPLOY/systemd/pibl.service" "$ROOT/etc/systemd/system/pibl.service"
check "pibl-backend@.service is installed verbatim" \
  cmp "$DEPLOY/systemd/pibl-backend@.service" "$ROOT/etc/systemd/system/pibl-backend@.service"
check "pibl.yaml is the rendered one" diff <(render_pibl_yaml demo 0.0.0.0 8080 8443 false 8081 45 "${BACKENDS[@]}") \
  "$ROOT/etc/pibl/pibl.yaml"
check "pibl.env carries the TTL" contains "$ROOT/etc/pibl/pibl.env" "PIBL_TTL=45"
check "backend-2.env carries the port" contains "$ROOT/etc/pibl/backend-2.env" "BACKEND_PORT=9002"

# --- the unit's ExecStart, as deploy/local and postman/run-newman.sh run it ------------------------------------

unit_exec "$ROOT/etc/systemd/system/pibl.service" "" "$ROOT"
CREDS="$ROOT/run/credentials/pibl.service"
check "pibl ExecStart: JVM flags from pibl.env, jar, config, --ttl and the TLS credentials" test "${UNIT_ARGV[*]}" = \
  "/bin/sh $ROOT/opt/pibl/pibl-jvm $ROOT/var/lib/pibl/pibl.jsa -Xms256m -Xmx256m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled -jar $ROOT/opt/pibl/pibl.jar --config $ROOT/etc/pibl/pibl.yaml --ttl 45 --tls-cert $CREDS/tls.crt --tls-key $CREDS/tls.key"
check "LoadCredential=: the certificate and key copied into the unit's credentials directory" \
  eval 'test "$UNIT_CREDENTIALS" = "$CREDS" && cmp "$ROOT/etc/pibl/tls.crt" "$CREDS/tls.crt" && cmp "$ROOT/etc/pibl/tls.key" "$CREDS/tls.key"'
check "  the directory 0700, the copies 0400" \
  test "$(mode "$CREDS") $(mode "$CREDS/tls.crt") $(mode "$CREDS/tls.key")" = "700 400 400"
check "the unit may bind ports 80 and 443 as its transient user, and nothing more" eval \
  'contains "$ROOT/etc/systemd/system/pibl.service" AmbientCapabilities=CAP_NET_BIND_SERVICE &&
   contains "$ROOT/etc/systemd/system/pibl.service" CapabilityBoundingSet=CAP_NET_BIND_SERVICE'
mkdir -p "$T/credroot/etc/pibl" "$T/credroot/unit"
echo secret >"$T/credroot/etc/pibl/token"
printf '[Service]\nLoadCredential=token:/etc/pibl/token\nWorkingDirectory=/var/lib/pibl-t\nExecStart=/usr/bin/env\n' \
  >"$T/credroot/unit/t.service"
check "the command started for a unit with credentials finds CREDENTIALS_DIRECTORY in its environment" eval \
  'unit_exec "$T/credroot/unit/t.service" "" "$T/credroot" && svc_start t "" "$T/t.out" && wait "$(svc_pid t)" &&
   grep -qx "CREDENTIALS_DIRECTORY=$T/credroot/run/credentials/t.service" "$T/t.out"'
SVC_NAMES=() SVC_PIDS=()
rm "$T/credroot/etc/pibl/token"
check_fails "a credential that cannot be read stops the start, as systemd's does" \
  unit_exec "$T/credroot/unit/t.service" "" "$T/credroot"
check "the PIBL user-data installs pibl-jvm as the repository has it" cmp "$ROOT/opt/pibl/pibl-jvm" "$DEPLOY/systemd/pibl-jvm"

# --- pibl-jvm: the class-data archive is recorded when missing or stale, used when fresh ---------------------------
mkdir -p "$T/cds"
printf '#!/bin/sh\necho "$@"\n' >"$T/cds/java" && chmod +x "$T/cds/java"
: >"$T/cds/app.jar"
touch -d '2024-01-01 00:00' "$T/cds/java" "$T/cds/app.jar"
jvm() { JAVA="$T/cds/java" /bin/sh "$DEPLOY/systemd/pibl-jvm" "$T/cds/app.jsa" -Xmx64m -jar "$T/cds/app.jar" --x; }
check "pibl-jvm records the archive when there is none" test "$(jvm)" = \
  "-XX:ArchiveClassesAtExit=$T/cds/app.jsa -Xlog:cds=off -Xmx64m -jar $T/cds/app.jar --x"
echo archive >"$T/cds/app.jsa" && touch -d '2024-01-02 00:00' "$T/cds/app.jsa"
check "pibl-jvm uses an archive newer than the jar and the JVM" test "$(jvm)" = \
  "-XX:SharedArchiveFile=$T/cds/app.jsa -Xmx64m -jar $T/cds/app.jar --x"
touch -d '2024-01-03 00:00' "$T/cds/app.jar"
check "pibl-jvm records again after the jar changed, and drops the stale archive" \
  test "$(jvm)" = "-XX:ArchiveClassesAtExit=$T/cds/app.jsa -Xlog:cds=off -Xmx64m -jar $T/cds/app.jar --x" -a ! -e "$T/cds/app.jsa"
echo archive >"$T/cds/app.jsa" && touch -d '2024-01-04 00:00' "$T/cds/app.jsa" && touch -d '2024-01-05 00:00' "$T/cds/java"
check "pibl-jvm records again after a JVM update" test "$(jvm | cut -d= -f1)" = "-XX:ArchiveClassesAtExit"
check "pibl runs in its state directory" test "$UNIT_WORKDIR" = "$ROOT/var/lib/pibl" -a -d "$UNIT_WORKDIR"
unit_exec "$ROOT/etc/systemd/system/pibl-backend@.service" backend-2 "$ROOT"
check "backend ExecStart: %i is the name, port and bind from the env file" test "${UNIT_ARGV[*]}" = \
  "/usr/bin/java -Xms64m -Xmx128m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -jar $ROOT/opt/pibl/pibl-backend-demo.jar --port 9002 --name backend-2 --bind 0.0.0.0"
check_fails "an instance without an env file is an error" \
  unit_exec "$ROOT/etc/systemd/system/pibl-backend@.service" backend-9 "$ROOT"

if command -v systemd-analyze >/dev/null; then
  cp "$DEPLOY/systemd/pibl-backend@.service" "$T/pibl-backend@backend-1.service"
  check "systemd-analyze verify accepts the units" \
    systemd-analyze verify "$DEPLOY/systemd/pibl.service" "$T/pibl-backend@backend-1.service"
fi

# --- deploy/aws/pibl-aws.sh --dry-run ---------------------------------------------------------------------------

# An `aws` first on PATH that records any call: a dry run must make none.
mkdir -p "$T/bin"
printf '#!/bin/sh\necho "$@" >>"%s/aws-called"\nexit 1\n' "$T" >"$T/bin/aws"
chmod +x "$T/bin/aws"
dry() { # ARGS... : the dry run with no credentials, no region in the environment and the recording aws
  env -i PATH="$T/bin:/usr/bin:/bin" HOME="$T" "$AWS_SCRIPT" "$@" --dry-run
}

dry up --region eu-west-1 --ssh-cidr 203.0.113.7/32 --key-name demo-key --out "$T/out" >"$T/up.txt" 2>"$T/up.err"
golden "dry-run up prints every AWS call, with placeholders" dry-run-up.txt "$T/up.txt"
dry teardown --region eu-west-1 >"$T/teardown.txt" 2>&1
golden "dry-run teardown prints every AWS call, with placeholders" dry-run-teardown.txt "$T/teardown.txt"
check "the dry runs called no aws and needed no credentials" test ! -e "$T/aws-called"
dry up --region eu-west-1 --ssh-cidr 203.0.113.7/32 --key-name demo-key >"$T/up2.txt" 2>&1
check "dry-run output is the same from run to run" cmp "$T/up.txt" "$T/up2.txt"
check "the PIBL host's pibl.yaml lists the backends' private IPs" \
  contains "$T/out/user-data-pibl.sh" '  - "<private-ip-backend-3>:9001"'
check "the hosts get the jars by presigned URL" contains "$T/out/user-data-backend-1.sh" "'<presigned-url-pibl-backend-demo.jar>'"
check "the backends' group admits only PIBL's group" \
  contains "$T/up.txt" "UserIdGroupPairs=[{GroupId=<sg-pibl>,Description=from-PIBL}]"
check "SSH is open only to the given CIDR" contains "$T/up.txt" "FromPort=22,ToPort=22,IpRanges=[{CidrIp=203.0.113.7/32"
check "PIBL's group opens 443 and 80 to the HTTP CIDR" eval \
  'contains "$T/up.txt" "FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0,Description=HTTPS}]" &&
   contains "$T/up.txt" "FromPort=80,ToPort=80,IpRanges=[{CidrIp=0.0.0.0/0,Description=HTTP-redirect}]"'
check "  and nothing else but SSH: 3 ingress rules on PIBL's group" \
  test "$(grep -c 'authorize-security-group-ingress .*--group-id <sg-pibl>' "$T/up.txt")" = 3
check "without --cert, PIBL's user-data makes a self-signed certificate at boot" eval \
  'contains "$T/out/user-data-pibl.sh" "self_signed_cert \"\$ROOT/etc/pibl/tls.crt\"" && lacks "$T/out/user-data-pibl.sh" "PRIVATE KEY"'
check "the user-data in --out is for the user only (presigned URLs, maybe a key)" \
  test "$(mode "$T/out/user-data-pibl.sh")" = 600
check "the URL printed is https on the instance's public DNS name" contains "$T/up.txt" "# PIBL: https://<public-dns-pibl>/"

dry up --region eu-west-1 --ssh-cidr 203.0.113.7/32 --key-name demo-key --cert "$T/site.crt" --key "$T/site.key" \
  --out "$T/out-cert" >"$T/up-cert.txt" 2>&1
check "--cert/--key: the same AWS calls; only what the run says of the certificate differs" \
  diff <(grep -v '^# https with' "$T/up.txt" | grep -v 'self-signed') <(grep -v '^# https with' "$T/up-cert.txt")
check "  it names the certificate's subjectAltName" \
  contains "$T/up-cert.txt" "# https with the certificate in --cert (DNS:pibl.example.test)"
check "  PIBL's user-data holds the certificate and the key, and makes none" eval \
  'contains "$T/out-cert/user-data-pibl.sh" "$(sed -n 2p "$T/site.crt")" &&
   contains "$T/out-cert/user-data-pibl.sh" "$(sed -n 2p "$T/site.key")" && lacks "$T/out-cert/user-data-pibl.sh" self_signed_cert'
check_fails "--cert without --key is an error" dry up --region eu-west-1 --cert "$T/site.crt"
check_fails "a key that is not the certificate's is an error, before any call" \
  dry up --region eu-west-1 --cert "$T/site.crt" --key "$T/other.key"
for ((i = 0; i < 24; i++)); do cat "$T/site.crt"; done >"$T/long-chain.crt"
dry up --region eu-west-1 --cert "$T/long-chain.crt" --key "$T/site.key" >"$T/up-long.txt" 2>&1 || true
check "user-data over EC2's 16 KiB is refused before run-instances" eval \
  'contains "$T/up-long.txt" "over EC2'"'"'s 16384" && lacks "$T/up-long.txt" "run-instances --region eu-west-1 --image-id <ami-id> --instance-type t3.micro --count 1 --security-group-ids <sg-pibl>"'
check "the default AMI comes from the public SSM parameter" \
  contains "$T/up.txt" "--name /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

dry up --region us-east-1 --name team7 --bucket my-jars --ami ami-0abc --instance-type t3.small \
  --backend-instance-type t3.nano --http-cidr 198.51.100.0/24 >"$T/up3.txt" 2>&1
check "us-east-1 creates no bucket LocationConstraint" lacks "$T/up3.txt" "LocationConstraint"
check "a named bucket is used, not created" lacks "$T/up3.txt" "create-bucket"
check "no --ssh-cidr, no SSH rule" lacks "$T/up3.txt" "FromPort=22"
check "--ami skips the SSM lookup" lacks "$T/up3.txt" "ssm get-parameter"
check "--http-cidr is the HTTPS and HTTP rule" eval \
  'contains "$T/up3.txt" "CidrIp=198.51.100.0/24,Description=HTTPS" && contains "$T/up3.txt" "CidrIp=198.51.100.0/24,Description=HTTP-redirect"'
check "--backend-instance-type applies to the backends" contains "$T/up3.txt" \
  "--image-id ami-0abc --instance-type t3.nano --count 1 --security-group-ids <sg-backend>"
check "--instance-type applies to PIBL" contains "$T/up3.txt" \
  "--image-id ami-0abc --instance-type t3.small --count 1 --security-group-ids <sg-pibl>"
check "--name tags every resource" contains "$T/up3.txt" "Key=pibl:deployment,Value=team7"
check_fails "no region is an error" env -i PATH="$T/bin:/usr/bin:/bin" "$AWS_SCRIPT" up --dry-run
check_fails "an unknown flag is an error" dry up --region eu-west-1 --frobnicate
check_fails "a bad CIDR is an error" dry up --region eu-west-1 --ssh-cidr 10.0.0.0

# --- deploy/aws/pibl-aws.sh --nodes 3 --dry-run: a fleet behind a network load balancer -----------------------

dry up --region eu-west-1 --ssh-cidr 203.0.113.7/32 --key-name demo-key --nodes 3 --out "$T/out-fleet" \
  >"$T/up-fleet.txt" 2>&1
golden "dry-run up --nodes 3: interfaces first, then the nodes on them, the NLB, its target groups and listeners" \
  dry-run-up-nodes3.txt "$T/up-fleet.txt"
dry teardown --region eu-west-1 --nodes 3 >"$T/teardown-fleet.txt" 2>&1
golden "dry-run teardown --nodes 3: listeners, NLB, target groups, instances, interfaces, groups, bucket" \
  dry-run-teardown-nodes3.txt "$T/teardown-fleet.txt"
yaml_of() { awk '/^cat >"\$ROOT\/etc\/pibl\/pibl.yaml"/ { on = 1; next } on && /^PIBL_FILE$/ { exit } on' "$1"; }
yaml_of "$T/out-fleet/user-data-pibl-2.sh" >"$T/pibl-node-2.yaml"
golden "a fleet node's pibl.yaml: the cluster block (every node's private IP, the secret's credential copy)" \
  pibl-node-2.yaml "$T/pibl-node-2.yaml"
check "the dry runs of a fleet called no aws either" test ! -e "$T/aws-called"
dry up --region eu-west-1 --ssh-cidr 203.0.113.7/32 --key-name demo-key --nodes 1 >"$T/up-nodes1.txt" 2>&1
check "--nodes 1 is today's layout, call for call" cmp "$T/up.txt" "$T/up-nodes1.txt"
check "the nodes' pibl.yaml differ only in self" diff <(yaml_of "$T/out-fleet/user-data-pibl-3.sh") \
  <(yaml_of "$T/out-fleet/user-data-pibl-1.sh" | sed 's/^  self: <private-ip-pibl-1>:80$/  self: <private-ip-pibl-3>:80/')
key_of() { sed -n '/^cat >"\$ROOT\/etc\/pibl\/cluster.key"/,/^PIBL_FILE$/p' "$1"; }
check "every node gets the one secret, in cluster.key created 0600 first" eval \
  'test "$(key_of "$T/out-fleet/user-data-pibl-1.sh")" = "$(key_of "$T/out-fleet/user-data-pibl-3.sh")" &&
   contains "$T/out-fleet/user-data-pibl-1.sh" "install -m 0600 /dev/null \"\$ROOT/etc/pibl/cluster.key\"" &&
   test "$(key_of "$T/out-fleet/user-data-pibl-1.sh" | sed -n 2p)" = "<cluster-secret>"'
check "the nodes' group admits the group itself on 80, and keeps the 443 and 80 rules of --http-cidr" eval \
  'contains "$T/up-fleet.txt" "FromPort=80,ToPort=80,UserIdGroupPairs=[{GroupId=<sg-pibl>,Description=PIBL-peers}]" &&
   contains "$T/up-fleet.txt" "FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0,Description=HTTPS}]" &&
   contains "$T/up-fleet.txt" "FromPort=80,ToPort=80,IpRanges=[{CidrIp=0.0.0.0/0,Description=HTTP-redirect}]"'
check "  and the VPC's addresses (the NLB's health checks) on 443 and 80" test \
  "$(grep -c 'IpRanges=\[{CidrIp=<vpc-cidr>,Description=NLB-health-checks}\]' "$T/up-fleet.txt")" = 2
check "each node is launched on its own interface, which carries the group" test \
  "$(grep -c 'run-instances .*--network-interfaces DeviceIndex=0,NetworkInterfaceId=<eni-pibl-[123]> ' "$T/up-fleet.txt")" = 3
check "an internet-facing network load balancer in the default subnets" \
  contains "$T/up-fleet.txt" "--type network --scheme internet-facing --subnets <subnet-1> <subnet-2> <subnet-3>"
check "TCP target groups for 80 and 443, instance targets, TCP health checks" test "$(grep -c \
  'create-target-group .*--protocol TCP --port \(80\|443\) .*--target-type instance --health-check-protocol TCP' \
  "$T/up-fleet.txt")" = 2
check "the instances are registered once running, in both target groups" eval \
  'test "$(grep -c "register-targets .*--targets Id=<i-pibl-1> Id=<i-pibl-2> Id=<i-pibl-3>$" "$T/up-fleet.txt")" = 2 &&
   test "$(grep -n "wait instance-running" "$T/up-fleet.txt" | cut -d: -f1)" -lt "$(grep -n register-targets "$T/up-fleet.txt" | head -n 1 | cut -d: -f1)"'
check "up ends with the NLB's DNS name" test "$(tail -n 1 "$T/up-fleet.txt")" = "NLB: <nlb-dns>"
line_of() { grep -n -- "$1" "$T/teardown-fleet.txt" | head -n 1 | cut -d: -f1; }
check "teardown: listeners, then the NLB (waited for), target groups, instances, interfaces, then the groups" test \
  "$(line_of delete-listener) $(line_of delete-load-balancer) $(line_of load-balancers-deleted) $(line_of delete-target-group) $(line_of terminate-instances) $(line_of delete-network-interface) $(line_of delete-security-group)" \
  = "$(for w in delete-listener delete-load-balancer load-balancers-deleted delete-target-group terminate-instances delete-network-interface delete-security-group; do line_of "$w"; done | sort -n | paste -sd ' ' -)"
# A fleet node's user-data is render_user_data_pibl's (redirect-http on, as one host's) plus the cluster parts.
strip_cluster() {
  awk 'NR == 2 { next }
    /^# One of a fleet of/ { skip = "yaml" } skip == "yaml" { if (/^  secret-file:/) skip = ""; next }
    /^install -m 0600 \/dev\/null "\$ROOT\/etc\/pibl\/cluster.key"$/ { next }
    /^cat >"\$ROOT\/etc\/pibl\/cluster.key"/ || /^cat >"\$ROOT\/etc\/systemd\/system\/pibl.service.d\/cluster.conf"/ { skip = "file" }
    skip == "file" { if (/^PIBL_FILE$/) skip = ""; next }
    /^mkdir -p "\$ROOT\/etc\/systemd\/system\/pibl.service.d"$/ { next } { print }' "$1"
}
render_user_data_pibl demo "<presigned-url-pibl.jar>" 0.0.0.0 80 443 true 8081 60 "" "" \
  "<private-ip-backend-1>:9001" "<private-ip-backend-2>:9001" "<private-ip-backend-3>:9001" >"$T/ud-alone.sh"
check "a fleet node's user-data is the PIBL host's (redirect-http: true) plus the cluster parts" \
  diff <(sed 2d "$T/ud-alone.sh") <(strip_cluster "$T/out-fleet/user-data-pibl-1.sh")
sed "s#'<presigned-url-pibl.jar>'#'file://$T/pibl.jar'#" "$T/out-fleet/user-data-pibl-1.sh" >"$T/run-node.sh"
fake_imds node --public-hostname ec2-203-0-113-11.eu-west-1.compute.amazonaws.com --public-ipv4 203.0.113.11
check "a fleet node's user-data runs under PIBL_ROOT" env PIBL_ROOT="$T/root-node" PIBL_IMDS="$IMDS_URL" bash "$T/run-node.sh"
check "  cluster.key holds the secret, 0600" \
  test "$(cat "$T/root-node/etc/pibl/cluster.key") $(mode "$T/root-node/etc/pibl/cluster.key")" = "<cluster-secret> 600"
check "  the drop-in hands it to the service's transient user where pibl.yaml looks for it" eval \
  'contains "$T/root-node/etc/systemd/system/pibl.service.d/cluster.conf" "LoadCredential=cluster.key:/etc/pibl/cluster.key" &&
   contains "$T/root-node/etc/pibl/pibl.yaml" "  secret-file: /run/credentials/pibl.service/cluster.key"'
check "  the cache the cluster needs is on (the template's cache: block)" contains "$T/root-node/etc/pibl/pibl.yaml" "  directory: cache"
check "a fleet node's user-data is valid bash" bash -n "$T/out-fleet/user-data-pibl-1.sh"
if command -v shellcheck >/dev/null; then
  check "a fleet node's user-data is shellcheck-clean" shellcheck "$T/out-fleet/user-data-pibl-1.sh"
fi
check_fails "--nodes 0 is an error" dry up --region eu-west-1 --nodes 0
check_fails "--nodes over 20 is an error" dry up --region eu-west-1 --nodes 21
check_fails "--nodes with a --name that no ELB may carry is an error" dry up --region eu-west-1 --nodes 2 --name a-

# Every call of the dry runs, with the placeholders filled in, must get past the installed AWS CLI's argument
# parsing; pointed at a closed loopback port, a well-formed call then fails only to connect.
# --- deploy/aws/pibl-aws.sh for real, against deploy/test/fake-aws --------------------------------------------------

mkdir -p "$T/fakebin"
ln -s "$HERE/fake-aws" "$T/fakebin/aws"
FAKE="$T/fake-state"
real() { # ARGS... : the script with the fake aws; never waits on HTTP (the fake's addresses are not ours)
  env PATH="$T/fakebin:$PATH" FAKE_AWS_STATE="$FAKE" PIBL_AWS_RETRY_SECONDS=0 "$AWS_SCRIPT" "$@" \
    --region eu-west-1 --pibl-jar "$T/pibl.jar" --backend-jar "$T/backend.jar"
}
live() { awk '$3 == "running"' "$FAKE/instances" | wc -l; }
calls() { grep -c -- "$1" "$FAKE/calls" || true; }

check "up makes two groups, four instances and a tagged bucket holding the jars" \
  eval 'real up --no-wait --ssh-cidr 203.0.113.7/32 --out "$T/real" >"$T/real-up.txt" 2>&1 || { cat "$T/real-up.txt"; false; }'
check "  two security groups" test "$(wc -l <"$FAKE/groups")" = 2
check "  four running instances" test "$(live)" = 4
check "  the bucket is tagged with the deployment" grep -q '^pibl-123456789012-eu-west-1-demo demo$' "$FAKE/buckets"
check "  both jars uploaded" test "$(wc -l <"$FAKE/objects")" = 2
pibl_sg=$(awk '$3 == "pibl" { print $1 }' "$FAKE/groups")
check "  the backend group admits the PIBL group's id" grep -q "UserIdGroupPairs=\[{GroupId=$pibl_sg," "$FAKE/rules"
check "  PIBL's pibl.yaml lists the private IPs AWS gave the backends" \
  contains "$T/real/user-data-pibl.sh" '  - "198.18.1.22:9001"'
check "  it says PIBL's https URL, on the public DNS name AWS gave" \
  contains "$T/real-up.txt" "PIBL will answer at https://ec2-198-18-1-250.eu-west-1.compute.amazonaws.com/"
check "  the PIBL host is the one in PIBL's group" test "$(awk '$5 == "'"$pibl_sg"'"' "$FAKE/instances" | wc -l)" = 1
check_fails "a second up of the same deployment is refused" real up --no-wait
check "  and makes nothing" test "$(live)" = 4
export FAKE_AWS_BUSY_GROUP=2
check "teardown removes everything, retrying a group still in use" real teardown
unset FAKE_AWS_BUSY_GROUP
check "  the group in use was retried" test "$(calls delete-security-group)" = 4
check "  no instance left running" test "$(live)" = 0
check "  no group left" test ! -s "$FAKE/groups"
check "  no bucket, no object left" test ! -s "$FAKE/buckets" -a ! -s "$FAKE/objects"
before=$(calls terminate-instances)
check "a second teardown succeeds and deletes nothing" real teardown
check "  (no terminate, no delete)" test "$(calls terminate-instances)" = "$before" -a "$(calls delete-bucket)" = 1
echo "shared-jars -" >>"$FAKE/buckets"
echo "s3://shared-jars/other/keep.jar" >>"$FAKE/objects"
check "up with --bucket uses a bucket it did not make" real up --no-wait --bucket shared-jars --name team7
check "teardown of it removes only its own objects and keeps the bucket" real teardown --bucket shared-jars --name team7
check "  the bucket and the other objects stay" \
  test "$(grep -c '^shared-jars ' "$FAKE/buckets")" = 1 -a "$(cat "$FAKE/objects")" = "s3://shared-jars/other/keep.jar"
FAKE="$T/fake-novpc"
export FAKE_AWS_NO_VPC=1
check_fails "no default VPC stops up before it creates anything" real up --no-wait --bucket b
unset FAKE_AWS_NO_VPC
check "  nothing was created" test ! -s "$FAKE/groups" -a ! -s "$FAKE/instances"
FAKE="$T/fake-fleet"
check "up --nodes 3 makes 3 interfaces and 3 nodes on them, an NLB, 2 target groups and 2 listeners" \
  eval 'real up --no-wait --nodes 3 --out "$T/real-fleet" >"$T/real-fleet.txt" 2>&1 || { cat "$T/real-fleet.txt"; false; }'
check "  6 running instances, 3 interfaces in use" \
  test "$(live) $(grep -c ' in-use$' "$FAKE/enis")" = "6 3"
check "  one NLB, two target groups, two listeners, every node registered in both" \
  test "$(wc -l <"$FAKE/lbs") $(wc -l <"$FAKE/tgs") $(wc -l <"$FAKE/listeners") $(wc -l <"$FAKE/targets")" = "1 2 2 6"
self_ok() {
  local i ip
  for i in 1 2 3; do
    ip=$(sed -n "${i}p" "$FAKE/enis" | awk '{ print $3 }')
    grep -qx "  self: $ip:80" "$T/real-fleet/user-data-pibl-$i.sh" || return 1
  done
}
check "  each node's self is its interface's private IP" self_ok
check "  its peers are all three" \
  contains "$T/real-fleet/user-data-pibl-2.sh" "  peers: [198.18.1.100:80, 198.18.1.101:80, 198.18.1.102:80]"
check "  one secret for the fleet, 32 random bytes in hex" eval \
  'test "$(sed -n "/cluster.key\" <</{n;p}" "$T"/real-fleet/user-data-pibl-[123].sh | sort -u | grep -cE "^[0-9a-f]{64}$")" = 1'
check "  the NLB's DNS name is the last line" \
  test "$(tail -n 1 "$T/real-fleet.txt")" = "NLB: pibl-demo-0123456789.elb.eu-west-1.amazonaws.com"
check "status shows the NLB's DNS name and the targets' health" eval \
  'real status >"$T/real-status.txt" 2>&1 && contains "$T/real-status.txt" "NLB pibl-demo: pibl-demo-0123456789.elb.eu-west-1.amazonaws.com" &&
   test "$(grep -c healthy "$T/real-status.txt")" = 6'
check "teardown removes the listeners, the NLB, the target groups, the instances and the interfaces" real teardown
check "  nothing left" eval \
  'test "$(live)" = 0 && test ! -s "$FAKE/enis" -a ! -s "$FAKE/lbs" -a ! -s "$FAKE/tgs" -a ! -s "$FAKE/listeners" -a ! -s "$FAKE/groups"'
check "a second teardown of the fleet succeeds and deletes nothing" real teardown
echo "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/pibl-demo/x-0 other pibl-demo x" >"$FAKE/lbs"
check "an NLB named like ours but not tagged with the deployment is kept" eval \
  'real teardown >"$T/foreign.txt" 2>&1 && test "$(wc -l <"$FAKE/lbs")" = 1 && contains "$T/foreign.txt" "kept it"'


if python3 -c 'import awscli.clidriver' 2>/dev/null; then
  dry status --region eu-west-1 >"$T/status.txt" 2>&1
  dry status --region eu-west-1 --nodes 3 >"$T/status-fleet.txt" 2>&1
  mkdir -p "$T/jars" && printf x >"$T/jars/j" && printf '#!/bin/bash\n' >"$T/ud.sh"
  sed -e "s#<repo>/[^ ]*\.jar#$T/jars/j#g" -e "s#file://<workdir>/[^ ]*#file://$T/ud.sh#g" \
    -e 's/<sg-[a-z]*>/sg-0123456789abcdef0/g; s/<i-[a-z0-9-]*>/i-0123456789abcdef0/g' \
    -e 's/<instance-ids>/i-0123456789abcdef0/g; s/<vpc-id>/vpc-0123/g; s/<ami-id>/ami-0123/g' \
    -e 's/<account-id>/123456789012/g; s/<eni-[a-z0-9-]*>/eni-0123456789abcdef0/g; s/<subnet-[0-9]>/subnet-0123/g' \
    -e 's/<vpc-cidr>/172.31.0.0\/16/g; s/<az-\([0-9]\)>/eu-west-1\1/g' \
    -e 's#<\(nlb\|tg\|listener\)-arn[a-z0-9-]*>#arn:aws:elasticloadbalancing:eu-west-1:123456789012:x/y#g' \
    "$T/up.txt" "$T/up3.txt" "$T/teardown.txt" "$T/status.txt" "$T/up-fleet.txt" "$T/teardown-fleet.txt" \
    "$T/status-fleet.txt" >"$T/calls.txt"
  n=$(grep -c '^aws ' "$T/calls.txt")
  check "all $n dry-run calls pass the AWS CLI's own argument parsing" \
    env -i PATH="$PATH" HOME="$T" AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=x \
    AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_MAX_ATTEMPTS=1 timeout 120 python3 "$HERE/aws_cli_parse.py" <"$T/calls.txt"
else
  echo "# skipped: the AWS CLI parse check (no Python awscli module: pip install awscli)"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
