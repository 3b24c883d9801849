#!/usr/bin/env bash
# Provision PIBL on AWS EC2 with the AWS CLI v2: one PIBL host and three demo backends in the default VPC.
#
#   deploy/aws/pibl-aws.sh up       --region eu-west-1 --ssh-cidr 203.0.113.7/32 [--key-name KEY]
#   deploy/aws/pibl-aws.sh up       --region eu-west-1 --cert site.crt --key site.key    # your certificate
#   deploy/aws/pibl-aws.sh status   --region eu-west-1
#   deploy/aws/pibl-aws.sh teardown --region eu-west-1
#   deploy/aws/pibl-aws.sh up --dry-run --region eu-west-1     # prints every AWS call; no AWS access at all
#
# Every resource carries the tag pibl:deployment=<name>; teardown finds them by that tag, so it needs no state
# file and may be run again at any time. The jars reach the hosts through presigned S3 URLs written into the
# cloud-init user-data, so the instances need neither SSH nor an IAM role. PIBL serves https on 443 (HTTP/2 and
# HTTP/1.1) and answers 308 to https on 80, with --cert/--key or a self-signed certificate the instance makes
# for its public DNS name at boot. Run --help for the flags.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/render.sh
source "$HERE/../lib/render.sh"

AMI_PARAMETER=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
BACKEND_NAMES=(backend-1 backend-2 backend-3)

COMMAND=""
REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
NAME=demo
INSTANCE_TYPE=t3.micro
BACKEND_INSTANCE_TYPE=""
AMI=""
HTTP_CIDR=0.0.0.0/0
SSH_CIDR=""
KEY_NAME=""
BUCKET=""
PIBL_JAR="$REPO_ROOT/pibl-app/target/pibl.jar"
BACKEND_JAR="$REPO_ROOT/pibl-backend-demo/target/pibl-backend-demo.jar"
PIBL_PORT=80
TLS_PORT=443
CERT=""
CERT_KEY=""
BACKEND_PORT=9001
# EC2's limit on user-data, before the base64 encoding the CLI adds.
USER_DATA_LIMIT=16384
TTL=60
URL_TTL=7200
WAIT_TIMEOUT=900
WAIT=1
RETRY_SECONDS=${PIBL_AWS_RETRY_SECONDS:-10}
OUT_DIR=""
DRY_RUN=0

usage() {
  cat <<EOF
usage: $0 up|status|teardown [flags]

  --region REGION            AWS region (default: \$AWS_REGION, then \$AWS_DEFAULT_REGION)
  --name NAME                deployment name, tag pibl:deployment=NAME (default: $NAME)
  --instance-type TYPE       PIBL instance type (default: $INSTANCE_TYPE)
  --backend-instance-type T  backend instance type (default: the PIBL one)
  --ami AMI_ID               AMI for all hosts (default: SSM parameter $AMI_PARAMETER)
  --http-cidr CIDR           who may reach PIBL on ports $TLS_PORT and $PIBL_PORT (default: $HTTP_CIDR)
  --cert FILE --key FILE     PEM certificate chain (leaf first) and its key for PIBL's https, shipped in the
                             user-data (default: the instance makes a self-signed one for its public DNS name)
  --ssh-cidr CIDR            who may reach port 22 of the PIBL host (default: nobody)
  --key-name KEY             EC2 key pair for SSH, not the TLS --key (default: none)
  --bucket NAME              existing S3 bucket for the jars (default: create pibl-<account>-<region>-NAME)
  --pibl-jar PATH            (default: pibl-app/target/pibl.jar)
  --backend-jar PATH         (default: pibl-backend-demo/target/pibl-backend-demo.jar)
  --ttl SECONDS              cache TTL given to PIBL (default: $TTL)
  --url-ttl SECONDS          lifetime of the presigned jar URLs (default: $URL_TTL)
  --wait-timeout SECONDS     how long up waits for PIBL to answer (default: $WAIT_TIMEOUT)
  --no-wait                  print PIBL's URL and return without waiting for it to answer
  --out DIR                  keep the rendered user-data in DIR, mode 0600 (presigned URLs, the --key)
  --dry-run                  print the AWS calls, with <placeholders> for what AWS would return; no AWS access
EOF
}

die() { echo "pibl-aws: $*" >&2; exit 1; }
say() { echo "pibl-aws: $*" >&2; }

while [ "$#" -gt 0 ]; do
  case $1 in
    up | status | teardown) COMMAND=$1 ;;
    --region) REGION=${2:?}; shift ;;
    --name) NAME=${2:?}; shift ;;
    --instance-type) INSTANCE_TYPE=${2:?}; shift ;;
    --backend-instance-type) BACKEND_INSTANCE_TYPE=${2:?}; shift ;;
    --ami) AMI=${2:?}; shift ;;
    --http-cidr) HTTP_CIDR=${2:?}; shift ;;
    --ssh-cidr) SSH_CIDR=${2:?}; shift ;;
    --key-name) KEY_NAME=${2:?}; shift ;;
    --cert) CERT=${2:?}; shift ;;
    --key) CERT_KEY=${2:?}; shift ;;
    --bucket) BUCKET=${2:?}; shift ;;
    --pibl-jar) PIBL_JAR=${2:?}; shift ;;
    --backend-jar) BACKEND_JAR=${2:?}; shift ;;
    --ttl) TTL=${2:?}; shift ;;
    --url-ttl) URL_TTL=${2:?}; shift ;;
    --wait-timeout) WAIT_TIMEOUT=${2:?}; shift ;;
    --out) OUT_DIR=${2:?}; shift ;;
    --no-wait) WAIT=0 ;;
    --dry-run) DRY_RUN=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done

[ -n "$COMMAND" ] || { usage >&2; die "say up, status or teardown"; }
[ -n "$REGION" ] || die "no region: pass --region or set AWS_REGION"
[[ $REGION =~ ^[a-z]{2}(-[a-z]+)+-[0-9]$ ]] || die "bad region: $REGION"
[[ $NAME =~ ^[a-z][a-z0-9-]{0,19}$ ]] || die "--name must be 1-20 of a-z 0-9 -, starting with a letter"
BACKEND_INSTANCE_TYPE=${BACKEND_INSTANCE_TYPE:-$INSTANCE_TYPE}
for cidr in "$HTTP_CIDR" ${SSH_CIDR:+"$SSH_CIDR"}; do
  [[ $cidr =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]] || die "bad CIDR: $cidr"
done
for n in "$TTL" "$URL_TTL" "$WAIT_TIMEOUT"; do [[ $n =~ ^[0-9]+$ ]] || die "not a number: $n"; done
if [ -n "$CERT" ] || [ -n "$CERT_KEY" ]; then
  if [ -z "$CERT" ] || [ -z "$CERT_KEY" ]; then die "--cert and --key go together"; fi
  [ -r "$CERT" ] || die "cannot read --cert $CERT"
  [ -r "$CERT_KEY" ] || die "cannot read --key $CERT_KEY"
fi
export AWS_PAGER=""
# What this script writes (the user-data: presigned URLs, a private key from --key) is for its user only.
umask 077

if [ -n "$OUT_DIR" ]; then
  mkdir -p "$OUT_DIR"
  WORK=$(cd "$OUT_DIR" && pwd)
else
  WORK=$(mktemp -d /tmp/pibl-aws.XXXXXX)
fi

on_exit() {
  local status=$?
  [ -n "$OUT_DIR" ] || rm -rf "$WORK"
  if [ "$status" != 0 ] && [ "$COMMAND" = up ] && [ "$DRY_RUN" = 0 ]; then
    say "up failed; what it made so far is tagged pibl:deployment=$NAME. Remove it with:"
    say "  $0 teardown --region $REGION --name $NAME${BUCKET:+ --bucket $BUCKET}"
  fi
}
trap on_exit EXIT

# --- the one place that talks to AWS -------------------------------------------------------------------

# show_call ARG... : the call as one line; local paths shown as <repo>/... and <workdir>/... so it is stable.
show_call() {
  local a out="aws"
  for a in "$@"; do
    a=${a//"$WORK"/<workdir>}
    a=${a//"$REPO_ROOT"/<repo>}
    if [[ $a =~ ^[A-Za-z0-9_./:=,@+%\<\>-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
  done
  printf '%s\n' "$out"
}

# aws_call PLACEHOLDER ARG... : run `aws ARG...` and print its output; with --dry-run print the call on
# stdout of the script (fd 3) and PLACEHOLDER as the output. Fails the script when the call fails.
aws_call() {
  local placeholder=$1
  shift
  if [ "$DRY_RUN" = 1 ]; then
    show_call "$@" >&3
    [ -z "$placeholder" ] || printf '%s\n' "$placeholder"
  else
    show_call "$@" | sed 's/^/+ /' >&2
    aws "$@"
  fi
}

# aws_try PLACEHOLDER ARG... : like aws_call, but a failing call only returns non-zero (its error on stderr).
aws_try() {
  [ "$DRY_RUN" = 0 ] || { aws_call "$@"; return 0; }
  shift
  show_call "$@" | sed 's/^/+ /' >&2
  aws "$@" 2>"$WORK/aws-error"
}

exec 3>&1

comment() {
  if [ "$DRY_RUN" = 1 ]; then echo "# $*" >&3; else say "$*"; fi
}

# bucket_exists DRY_RUN_ANSWER : head-bucket; with --dry-run the call is shown and DRY_RUN_ANSWER returned.
bucket_exists() {
  if [ "$DRY_RUN" = 1 ]; then
    show_call s3api head-bucket --region "$REGION" --bucket "$BUCKET" >&3
    return "$1"
  fi
  aws_try "" s3api head-bucket --region "$REGION" --bucket "$BUCKET" >/dev/null
}

words() { # OUTPUT -> non-empty, non-None words, one per line
  local w
  for w in $1; do [ "$w" = None ] || printf '%s\n' "$w"; done
}

tags() { # ROLE HOST : a tag specification list
  printf '{Key=pibl:deployment,Value=%s},{Key=pibl:role,Value=%s},{Key=Name,Value=%s-%s}' "$NAME" "$1" "$NAME" "$2"
}

tag_filter="Name=tag:pibl:deployment,Values=$NAME"
live_states="Name=instance-state-name,Values=pending,running,stopping,stopped"

default_bucket() {
  local account
  account=$(aws_call "<account-id>" sts get-caller-identity --region "$REGION" --query Account --output text)
  echo "pibl-$account-$REGION-$NAME"
}

# --- up ---------------------------------------------------------------------------------------------------

create_security_group() { # ROLE DESCRIPTION VPC -> group id
  aws_call "<sg-$1>" ec2 create-security-group --region "$REGION" --vpc-id "$3" \
    --group-name "$NAME-$1" --description "$2" \
    --tag-specifications "ResourceType=security-group,Tags=[$(tags "$1" "$1")]" \
    --query GroupId --output text
}

allow() { # GROUP PERMISSION
  aws_call "" ec2 authorize-security-group-ingress --region "$REGION" --group-id "$1" \
    --ip-permissions "$2" --query Return --output text >/dev/null
}

run_instance() { # ROLE HOST INSTANCE_TYPE GROUP USER_DATA_FILE -> instance id
  local key=()
  [ -z "$KEY_NAME" ] || key=(--key-name "$KEY_NAME")
  aws_call "<i-$2>" ec2 run-instances --region "$REGION" --image-id "$AMI" --instance-type "$3" --count 1 \
    --security-group-ids "$4" "${key[@]}" --user-data "file://$5" \
    --metadata-options HttpTokens=required,HttpEndpoint=enabled \
    --tag-specifications "ResourceType=instance,Tags=[$(tags "$1" "$2")]" \
    --query 'Instances[0].InstanceId' --output text
}

instance_field() { # PLACEHOLDER INSTANCE FIELD
  aws_call "$1" ec2 describe-instances --region "$REGION" --instance-ids "$2" \
    --query "Reservations[0].Instances[0].$3" --output text
}

# certificate_names : the subjectAltName of --cert (say what the hosts will serve); fails, before anything is
# made, when the files are not a PEM certificate and the private key of that certificate. PIBL would refuse
# them too, but only on the instance, minutes later, in a log nobody is looking at.
certificate_names() {
  local cert_pub key_pub
  command -v openssl >/dev/null || die "--cert/--key are checked with openssl, which is not installed"
  cert_pub=$(openssl x509 -in "$CERT" -noout -pubkey 2>/dev/null) || die "--cert $CERT: not a PEM certificate"
  key_pub=$(openssl pkey -in "$CERT_KEY" -pubout 2>/dev/null) || die "--key $CERT_KEY: not a PEM private key without a passphrase"
  [ "$cert_pub" = "$key_pub" ] || die "--key $CERT_KEY is not the key of the certificate in $CERT"
  openssl x509 -in "$CERT" -noout -ext subjectAltName 2>/dev/null | sed -n '2,$p' | sed 's/IP Address:/IP:/g' | tr -d ' '
}

# check_user_data FILE : EC2 refuses user-data over 16 KiB; say so before run-instances does.
check_user_data() {
  local size
  size=$(wc -c <"$1")
  [ "$size" -le "$USER_DATA_LIMIT" ] ||
    die "${1##*/} is $size bytes, over EC2's $USER_DATA_LIMIT (a long certificate chain in --cert?)"
}

upload_jar() { # FILE KEY -> presigned URL
  aws_call "" s3 cp --region "$REGION" --only-show-errors "$1" "s3://$BUCKET/$NAME/$2" >/dev/null
  aws_call "<presigned-url-$2>" s3 presign --region "$REGION" "s3://$BUCKET/$NAME/$2" --expires-in "$URL_TTL"
}

cmd_up() {
  local vpc existing sg_pibl sg_backend pibl_url backend_url i name id ip ids=() backends=() public_ip public_dns
  local host names
  if [ "$DRY_RUN" = 0 ]; then
    command -v aws >/dev/null || die "the AWS CLI v2 is not installed (https://docs.aws.amazon.com/cli/)"
    [ -r "$PIBL_JAR" ] || die "no $PIBL_JAR: run mvn -B -q package -DskipTests first"
    [ -r "$BACKEND_JAR" ] || die "no $BACKEND_JAR: run mvn -B -q package -DskipTests first"
  fi
  [ -z "$CERT" ] || names=$(certificate_names)

  comment "deployment $NAME in $REGION"
  if [ -n "$CERT" ]; then
    comment "https with the certificate in --cert (${names:-no subjectAltName}), shipped with its key in PIBL's user-data"
  else
    comment "https with a self-signed certificate the PIBL instance makes at boot for its public DNS name and IP"
  fi
  local dry_bucket_exists=0
  [ -n "$BUCKET" ] || { BUCKET=$(default_bucket); dry_bucket_exists=1; }
  existing=$(aws_call "" ec2 describe-security-groups --region "$REGION" --filters "$tag_filter" \
    --query 'SecurityGroups[].GroupId' --output text)
  [ -z "$(words "$existing")" ] || die "deployment $NAME already exists in $REGION; run teardown first"
  vpc=$(aws_call "<vpc-id>" ec2 describe-vpcs --region "$REGION" --filters Name=is-default,Values=true \
    --query 'Vpcs[0].VpcId' --output text)
  [ -n "$(words "$vpc")" ] || die "no default VPC in $REGION (create one: aws ec2 create-default-vpc)"
  if [ -z "$AMI" ]; then
    AMI=$(aws_call "<ami-id>" ssm get-parameter --region "$REGION" --name "$AMI_PARAMETER" \
      --query Parameter.Value --output text)
  fi

  comment "jars: s3://$BUCKET/$NAME/, handed to the hosts as presigned URLs valid ${URL_TTL}s"
  if ! bucket_exists "$dry_bucket_exists"; then
    local location=()
    [ "$REGION" = us-east-1 ] || location=(--create-bucket-configuration "LocationConstraint=$REGION")
    aws_call "" s3api create-bucket --region "$REGION" --bucket "$BUCKET" "${location[@]}" >/dev/null
    aws_call "" s3api put-public-access-block --region "$REGION" --bucket "$BUCKET" \
      --public-access-block-configuration \
      BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
    aws_call "" s3api put-bucket-tagging --region "$REGION" --bucket "$BUCKET" \
      --tagging "TagSet=[{Key=pibl:deployment,Value=$NAME}]"
  fi
  pibl_url=$(upload_jar "$PIBL_JAR" pibl.jar)
  backend_url=$(upload_jar "$BACKEND_JAR" pibl-backend-demo.jar)

  comment "security groups: PIBL gets $TLS_PORT and $PIBL_PORT from $HTTP_CIDR${SSH_CIDR:+ and 22 from $SSH_CIDR}; backends get $BACKEND_PORT from PIBL's group only"
  sg_pibl=$(create_security_group pibl "PIBL load balancer ($NAME)" "$vpc")
  allow "$sg_pibl" "IpProtocol=tcp,FromPort=$TLS_PORT,ToPort=$TLS_PORT,IpRanges=[{CidrIp=$HTTP_CIDR,Description=HTTPS}]"
  allow "$sg_pibl" "IpProtocol=tcp,FromPort=$PIBL_PORT,ToPort=$PIBL_PORT,IpRanges=[{CidrIp=$HTTP_CIDR,Description=HTTP-redirect}]"
  if [ -n "$SSH_CIDR" ]; then
    allow "$sg_pibl" "IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=$SSH_CIDR,Description=SSH}]"
  fi
  sg_backend=$(create_security_group backend "PIBL demo backends ($NAME)" "$vpc")
  allow "$sg_backend" "IpProtocol=tcp,FromPort=$BACKEND_PORT,ToPort=$BACKEND_PORT,UserIdGroupPairs=[{GroupId=$sg_pibl,Description=from-PIBL}]"

  for i in "${!BACKEND_NAMES[@]}"; do
    name=${BACKEND_NAMES[$i]}
    comment "$name: user-data <workdir>/user-data-$name.sh"
    render_user_data_backend "$NAME" "$backend_url" "$name" 0.0.0.0 "$BACKEND_PORT" >"$WORK/user-data-$name.sh"
    check_user_data "$WORK/user-data-$name.sh"
    id=$(run_instance backend "$name" "$BACKEND_INSTANCE_TYPE" "$sg_backend" "$WORK/user-data-$name.sh")
    ip=$(instance_field "<private-ip-$name>" "$id" PrivateIpAddress)
    ids+=("$id")
    backends+=("$ip:$BACKEND_PORT")
  done

  comment "pibl: user-data <workdir>/user-data-pibl.sh, backends ${backends[*]}"
  render_user_data_pibl "$NAME" "$pibl_url" 0.0.0.0 "$PIBL_PORT" "$TLS_PORT" true 8081 "$TTL" "$CERT" "$CERT_KEY" \
    "${backends[@]}" >"$WORK/user-data-pibl.sh"
  check_user_data "$WORK/user-data-pibl.sh"
  id=$(run_instance pibl pibl "$INSTANCE_TYPE" "$sg_pibl" "$WORK/user-data-pibl.sh")
  ids+=("$id")

  aws_call "" ec2 wait instance-running --region "$REGION" --instance-ids "${ids[@]}"
  public_ip=$(instance_field "<public-ip-pibl>" "$id" PublicIpAddress)
  [ -n "$(words "$public_ip")" ] || die "the PIBL instance got no public IP (does the default subnet map one?)"
  # The name the self-signed certificate is made for; a VPC without DNS hostnames gives none, then the IP.
  public_dns=$(instance_field "<public-dns-pibl>" "$id" PublicDnsName)
  host=$(words "$public_dns")
  host=${host:-$public_ip}

  comment "PIBL: https://$host/ (HTTP/2 and HTTP/1.1); http://$host/ answers 308 to it"
  [ -n "$CERT" ] || comment "the certificate is self-signed: browsers warn once, curl needs -k (or --cacert with the host's /etc/pibl/tls.crt)"
  if [ "$WAIT" = 0 ]; then
    echo "PIBL will answer at https://$host/ once the hosts have booted (2-4 minutes)"
  elif [ "$DRY_RUN" = 1 ]; then
    comment "then: poll https://$host/ every 10 s until it answers 200, for at most ${WAIT_TIMEOUT}s"
  else
    wait_for_pibl "$host" "$id"
  fi
}

wait_for_pibl() { # HOST INSTANCE
  local url="https://$1/" deadline code i backend redirect
  # -k: the certificate may be self-signed, or made for a name other than the instance's; this only waits.
  local curl=(curl -s -k --max-time 5)
  say "waiting up to ${WAIT_TIMEOUT}s for $url (dnf, the jars and four JVMs take 2-4 minutes)"
  deadline=$((SECONDS + WAIT_TIMEOUT))
  while :; do
    code=$("${curl[@]}" -o /dev/null -w '%{http_code}' "$url" || true)
    [ "$code" = 200 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "no 200 from $url after ${WAIT_TIMEOUT}s (last status: ${code:-none})."
      say "look at the boot log: aws ec2 get-console-output --region $REGION --instance-id $2 --output text"
      exit 1
    fi
    sleep 10
  done
  for i in 1 2 3; do
    backend=$("${curl[@]}" -o /dev/null -D - "$url" | tr -d '\r' | sed -n 's/^[Xx]-[Bb]ackend: //p')
    say "request $i answered by ${backend:-?}"
  done
  redirect=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 5 "http://$1/" || true)
  say "http://$1/ answers ${redirect:-nothing}"
  echo "PIBL is up: $url"
}

# --- status and teardown ----------------------------------------------------------------------------------

cmd_status() {
  # shellcheck disable=SC2016 # the backquotes are JMESPath literals
  aws_call "" ec2 describe-instances --region "$REGION" --filters "$tag_filter" "$live_states" \
    --query 'Reservations[].Instances[].[Tags[?Key==`Name`]|[0].Value,InstanceId,State.Name,PrivateIpAddress,PublicIpAddress]' \
    --output table
}

delete_security_groups() { # ROLE
  local out group attempt
  out=$(aws_call "<sg-$1>" ec2 describe-security-groups --region "$REGION" --filters "$tag_filter" \
    "Name=tag:pibl:role,Values=$1" --query 'SecurityGroups[].GroupId' --output text)
  for group in $(words "$out"); do
    # The network interfaces of just-terminated instances can hold a group for a little while.
    for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
      aws_try "" ec2 delete-security-group --region "$REGION" --group-id "$group" >/dev/null && break
      grep -q DependencyViolation "$WORK/aws-error" || { cat "$WORK/aws-error" >&2; exit 1; }
      [ "$attempt" -lt 12 ] || die "security group $group is still in use after 12 tries"
      say "security group $group still in use; retrying in ${RETRY_SECONDS}s"
      sleep "$RETRY_SECONDS"
    done
  done
}

cmd_teardown() {
  local out ids owner
  [ "$DRY_RUN" = 1 ] || command -v aws >/dev/null || die "the AWS CLI v2 is not installed"
  comment "teardown of deployment $NAME in $REGION (everything tagged pibl:deployment=$NAME)"
  out=$(aws_call "<instance-ids>" ec2 describe-instances --region "$REGION" --filters "$tag_filter" "$live_states" \
    --query 'Reservations[].Instances[].InstanceId' --output text)
  mapfile -t ids < <(words "$out")
  if [ "${#ids[@]}" -gt 0 ]; then
    aws_call "" ec2 terminate-instances --region "$REGION" --instance-ids "${ids[@]}" \
      --query 'TerminatingInstances[].InstanceId' --output text >/dev/null
    aws_call "" ec2 wait instance-terminated --region "$REGION" --instance-ids "${ids[@]}"
  fi
  delete_security_groups backend
  delete_security_groups pibl

  [ -n "$BUCKET" ] || BUCKET=$(default_bucket)
  if bucket_exists 0; then
    aws_call "" s3 rm --region "$REGION" --only-show-errors --recursive "s3://$BUCKET/$NAME/" >/dev/null
    # shellcheck disable=SC2016 # the backquotes are JMESPath literals
    owner=$(aws_try "$NAME" s3api get-bucket-tagging --region "$REGION" --bucket "$BUCKET" \
      --query 'TagSet[?Key==`pibl:deployment`].Value' --output text || true)
    if [ "$owner" = "$NAME" ]; then
      aws_call "" s3api delete-bucket --region "$REGION" --bucket "$BUCKET" >/dev/null
    else
      say "bucket $BUCKET was not made by this script: kept it, removed only s3://$BUCKET/$NAME/"
    fi
  fi
  comment "teardown of $NAME done"
}

case $COMMAND in
  up) cmd_up ;;
  status) cmd_status ;;
  teardown) cmd_teardown ;;
esac
