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

T=$(mktemp -d /tmp/pibl-test-render.XXXXXX)
trap 'rm -rf "$T"' EXIT
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

# --- templates ----------------------------------------------------------------------------------------------

render_pibl_yaml rehearsal 0.0.0.0 8080 8081 60 "${BACKENDS[@]}" >"$T/pibl.yaml"
golden "pibl.yaml lists the backends, the port, the TTL and the admin listener" pibl.yaml "$T/pibl.yaml"
render_user_data_pibl rehearsal file:///srv/pibl.jar 0.0.0.0 8080 8081 45 "${BACKENDS[@]}" >"$T/ud-pibl.sh"
golden "PIBL user-data" user-data-pibl.sh "$T/ud-pibl.sh"
render_user_data_backend rehearsal file:///srv/pibl-backend-demo.jar backend-2 0.0.0.0 9001 >"$T/ud-backend.sh"
golden "backend user-data" user-data-backend-2.sh "$T/ud-backend.sh"

check "rendered user-data is valid bash" bash -n "$T/ud-pibl.sh"
check "rendered backend user-data is valid bash" bash -n "$T/ud-backend.sh"
if command -v shellcheck >/dev/null; then
  check "rendered user-data is shellcheck-clean" shellcheck "$T/ud-pibl.sh" "$T/ud-backend.sh"
fi

url='https://b.s3.eu-west-1.amazonaws.com/demo/pibl.jar?X-Amz-Algorithm=AWS4&X-Amz-Signature=ab%2Fcd'
render_user_data_pibl demo "$url" 0.0.0.0 8080 8081 60 10.0.0.1:9001 >"$T/ud-url.sh"
check "a presigned URL with & and % is written verbatim" contains "$T/ud-url.sh" "'$url'"
check_fails "a URL with a single quote is refused" render_user_data_pibl demo "http://x/'a" 0.0.0.0 8080 8081 60 a:1
check_fails "a backend without a port is refused" render_pibl_yaml demo 0.0.0.0 8080 8081 60 10.0.0.1
check_fails "no backend at all is refused" render_pibl_yaml demo 0.0.0.0 8080 8081 60
check_fails "a template placeholder without a value is an error" render_template "$DEPLOY/templates/pibl.yaml.tmpl" PORT=1
check_fails "a value for a placeholder the template lacks is an error" \
  render_template "$DEPLOY/templates/pibl.yaml.tmpl" NOPE=1
check_fails "an env key the default file lacks is an error" render_env "$DEPLOY/systemd/pibl.env" NOPE=1

# --- the user-data, run under a prefix as deploy/local does --------------------------------------------------

printf 'pibl jar\n' >"$T/pibl.jar"
printf 'backend jar\n' >"$T/backend.jar"
render_user_data_pibl demo "file://$T/pibl.jar" 0.0.0.0 8080 8081 45 "${BACKENDS[@]}" >"$T/run-pibl.sh"
render_user_data_backend demo "file://$T/backend.jar" backend-2 0.0.0.0 9002 >"$T/run-backend.sh"
ROOT="$T/root"
check "PIBL user-data runs under PIBL_ROOT" env PIBL_ROOT="$ROOT" bash "$T/run-pibl.sh"
check "backend user-data runs under PIBL_ROOT" env PIBL_ROOT="$ROOT" bash "$T/run-backend.sh"
check "the jar is fetched from its URL" cmp "$T/pibl.jar" "$ROOT/opt/pibl/pibl.jar"
check "the backend jar is fetched from its URL" cmp "$T/backend.jar" "$ROOT/opt/pibl/pibl-backend-demo.jar"
check "pibl.service is installed verbatim" cmp "$DEPLOY/systemd/pibl.service" "$ROOT/etc/systemd/system/pibl.service"
check "pibl-backend@.service is installed verbatim" \
  cmp "$DEPLOY/systemd/pibl-backend@.service" "$ROOT/etc/systemd/system/pibl-backend@.service"
check "pibl.yaml is the rendered one" diff <(render_pibl_yaml demo 0.0.0.0 8080 8081 45 "${BACKENDS[@]}") \
  "$ROOT/etc/pibl/pibl.yaml"
check "pibl.env carries the TTL" contains "$ROOT/etc/pibl/pibl.env" "PIBL_TTL=45"
check "backend-2.env carries the port" contains "$ROOT/etc/pibl/backend-2.env" "BACKEND_PORT=9002"

# --- the unit's ExecStart, as deploy/local and postman/run-newman.sh run it ------------------------------------

unit_exec "$ROOT/etc/systemd/system/pibl.service" "" "$ROOT"
check "pibl ExecStart: JVM flags from pibl.env, jar, config and --ttl" test "${UNIT_ARGV[*]}" = \
  "/bin/sh $ROOT/opt/pibl/pibl-jvm $ROOT/var/lib/pibl/pibl.jsa -Xms256m -Xmx256m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled -jar $ROOT/opt/pibl/pibl.jar --config $ROOT/etc/pibl/pibl.yaml --ttl 45"
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
check "the default AMI comes from the public SSM parameter" \
  contains "$T/up.txt" "--name /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

dry up --region us-east-1 --name team7 --bucket my-jars --ami ami-0abc --instance-type t3.small \
  --backend-instance-type t3.nano --http-cidr 198.51.100.0/24 >"$T/up3.txt" 2>&1
check "us-east-1 creates no bucket LocationConstraint" lacks "$T/up3.txt" "LocationConstraint"
check "a named bucket is used, not created" lacks "$T/up3.txt" "create-bucket"
check "no --ssh-cidr, no SSH rule" lacks "$T/up3.txt" "FromPort=22"
check "--ami skips the SSM lookup" lacks "$T/up3.txt" "ssm get-parameter"
check "--http-cidr is the HTTP rule" contains "$T/up3.txt" "CidrIp=198.51.100.0/24,Description=HTTP"
check "--backend-instance-type applies to the backends" contains "$T/up3.txt" \
  "--image-id ami-0abc --instance-type t3.nano --count 1 --security-group-ids <sg-backend>"
check "--instance-type applies to PIBL" contains "$T/up3.txt" \
  "--image-id ami-0abc --instance-type t3.small --count 1 --security-group-ids <sg-pibl>"
check "--name tags every resource" contains "$T/up3.txt" "Key=pibl:deployment,Value=team7"
check_fails "no region is an error" env -i PATH="$T/bin:/usr/bin:/bin" "$AWS_SCRIPT" up --dry-run
check_fails "an unknown flag is an error" dry up --region eu-west-1 --frobnicate
check_fails "a bad CIDR is an error" dry up --region eu-west-1 --ssh-cidr 10.0.0.0

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
  real up --no-wait --ssh-cidr 203.0.113.7/32 --out "$T/real"
check "  two security groups" test "$(wc -l <"$FAKE/groups")" = 2
check "  four running instances" test "$(live)" = 4
check "  the bucket is tagged with the deployment" grep -q '^pibl-123456789012-eu-west-1-demo demo$' "$FAKE/buckets"
check "  both jars uploaded" test "$(wc -l <"$FAKE/objects")" = 2
pibl_sg=$(awk '$3 == "pibl" { print $1 }' "$FAKE/groups")
check "  the backend group admits the PIBL group's id" grep -q "UserIdGroupPairs=\[{GroupId=$pibl_sg," "$FAKE/rules"
check "  PIBL's pibl.yaml lists the private IPs AWS gave the backends" \
  contains "$T/real/user-data-pibl.sh" '  - "198.18.1.22:9001"'
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

if python3 -c 'import awscli.clidriver' 2>/dev/null; then
  dry status --region eu-west-1 >"$T/status.txt" 2>&1
  mkdir -p "$T/jars" && printf x >"$T/jars/j" && printf '#!/bin/bash\n' >"$T/ud.sh"
  sed -e "s#<repo>/[^ ]*\.jar#$T/jars/j#g" -e "s#file://<workdir>/[^ ]*#file://$T/ud.sh#g" \
    -e 's/<sg-[a-z]*>/sg-0123456789abcdef0/g; s/<i-[a-z0-9-]*>/i-0123456789abcdef0/g' \
    -e 's/<instance-ids>/i-0123456789abcdef0/g; s/<vpc-id>/vpc-0123/g; s/<ami-id>/ami-0123/g' \
    -e 's/<account-id>/123456789012/g' "$T/up.txt" "$T/up3.txt" "$T/teardown.txt" "$T/status.txt" >"$T/calls.txt"
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
