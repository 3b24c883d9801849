#!/usr/bin/env bash
# Provision PIBL on AWS EC2 with the AWS CLI v2: one PIBL host and three demo backends in the default VPC, or
# (--nodes N) a fleet of N PIBL nodes in cluster mode behind a Network Load Balancer, with the same backends.
#
#   deploy/aws/pibl-aws.sh up       --region eu-west-1 --ssh-cidr 203.0.113.7/32 [--key-name KEY]
#   deploy/aws/pibl-aws.sh up       --region eu-west-1 --cert site.crt --key site.key    # your certificate
#   deploy/aws/pibl-aws.sh up       --region eu-west-1 --nodes 3                         # a fleet behind an NLB
#   deploy/aws/pibl-aws.sh status   --region eu-west-1
#   deploy/aws/pibl-aws.sh teardown --region eu-west-1
#   deploy/aws/pibl-aws.sh up --dry-run --region eu-west-1     # prints every AWS call; no AWS access at all
#
# Every resource carries the tag pibl:deployment=<name>; teardown finds them by that tag, so it needs no state
# file and may be run again at any time. The jars reach the hosts through presigned S3 URLs written into the
# cloud-init user-data, so the instances need neither SSH nor an IAM role. PIBL serves https on 443 (HTTP/2 and
# HTTP/1.1) and answers 308 to https on 80, with --cert/--key or a self-signed certificate the instance makes
# for its public DNS name at boot. Run --help for the flags.
#
# --nodes N (N > 1): one network interface per node first (so that every node's private IP is known before any
# user-data is written), each node's pibl.yaml with a cluster: block naming them all and a secret made here
# once per up, a TCP target group per port (80, 443) with TCP health checks, and an internet-facing NLB in the
# default subnets with a listener per port; up prints the NLB's DNS name. teardown also removes, by the tag,
# the NLB's listeners, the NLB (and waits for it to go), the target groups and, after the instances, the
# network interfaces.
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
NODES=1
MAX_NODES=20
# Fleet mode: the peers speak cleartext HTTP to each other on PIBL's port; PIBL lets a request with a good peer
# mark past tls.redirect-http (its peer segment comes first), so the nodes redirect clients as one host does.
FLEET_REDIRECT_HTTP=true
# Where systemd puts the copy of /etc/pibl/cluster.key it makes for pibl.service's transient user
# (LoadCredential= in the drop-in deploy/templates/pibl-cluster.conf).
CLUSTER_SECRET_FILE=/run/credentials/pibl.service/cluster.key
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
  --nodes N                  PIBL nodes (default: 1). N > 1 (at most $MAX_NODES): a fleet in cluster mode behind a
                             Network Load Balancer (ports $PIBL_PORT and $TLS_PORT, TCP); up prints its DNS name
  --ttl SECONDS              cache TTL given to PIBL (default: $TTL)
  --url-ttl SECONDS          lifetime of the presigned jar URLs (default: $URL_TTL)
  --wait-timeout SECONDS     how long up waits for PIBL to answer (default: $WAIT_TIMEOUT)
  --no-wait                  print PIBL's URL and return without waiting for it to answer
  --out DIR                  keep the rendered user-data in DIR, mode 0600 (presigned URLs, the --key)
  --dry-run                  print the AWS calls, with <placeholders> for what AWS would return; no AWS access
                             (teardown --dry-run shows the NLB and network-interface calls with --nodes N > 1 only;
                             a real teardown always looks for them)
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
    --nodes) NODES=${2:?}; shift ;;
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
if ! [[ $NODES =~ ^[1-9][0-9]*$ ]] || [ "$NODES" -gt "$MAX_NODES" ]; then die "--nodes must be 1 to $MAX_NODES"; fi
# The load balancer is pibl-NAME and its target groups pibl-NAME-PORT: ELB names may not end with a hyphen.
[ "$NODES" = 1 ] || [[ $NAME != *- ]] || die "--name must not end with - for --nodes (ELB names)"
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

# run_instance ROLE HOST INSTANCE_TYPE GROUP USER_DATA_FILE -> instance id
# GROUP is a security group id, or eni:ID for an existing network interface (which carries the group) as eth0.
run_instance() {
  local key=() network=(--security-group-ids "$4")
  [ -z "$KEY_NAME" ] || key=(--key-name "$KEY_NAME")
  [[ $4 != eni:* ]] || network=(--network-interfaces "DeviceIndex=0,NetworkInterfaceId=${4#eni:}")
  aws_call "<i-$2>" ec2 run-instances --region "$REGION" --image-id "$AMI" --instance-type "$3" --count 1 \
    "${network[@]}" "${key[@]}" --user-data "file://$5" \
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
  local http_rule=HTTP-redirect
  [ "$NODES" = 1 ] || [ "$FLEET_REDIRECT_HTTP" = true ] || http_rule=HTTP
  allow "$sg_pibl" "IpProtocol=tcp,FromPort=$PIBL_PORT,ToPort=$PIBL_PORT,IpRanges=[{CidrIp=$HTTP_CIDR,Description=$http_rule}]"
  if [ -n "$SSH_CIDR" ]; then
    allow "$sg_pibl" "IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=$SSH_CIDR,Description=SSH}]"
  fi
  [ "$NODES" = 1 ] || allow_fleet "$sg_pibl" "$vpc"
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

  if [ "$NODES" -gt 1 ]; then
    up_fleet
    return
  fi
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

# --- up --nodes N: a fleet behind a Network Load Balancer ------------------------------------------------------

lb_name() { echo "pibl-$NAME"; }
tg_name() { echo "pibl-$NAME-$1"; } # PORT

elb_tags() { # WHAT : ELB_TAGS, the --tags of an ELB resource
  ELB_TAGS=("Key=pibl:deployment,Value=$NAME" "Key=Name,Value=$NAME-$1")
}

# allow_fleet GROUP VPC : the nodes reach each other on PIBL's port (a rule whose source is the group itself); the
# NLB's health checks come from its own addresses in the VPC, which --http-cidr need not cover. Clients keep
# today's 443 and 80 rules: an NLB with instance targets hands the nodes the client's own address.
allow_fleet() {
  local cidr port
  comment "fleet: the nodes reach each other on $PIBL_PORT (PIBL's group); the NLB's health checks come from the VPC's addresses"
  cidr=$(aws_call "<vpc-cidr>" ec2 describe-vpcs --region "$REGION" --vpc-ids "$2" --query 'Vpcs[0].CidrBlock' \
    --output text)
  allow "$1" "IpProtocol=tcp,FromPort=$PIBL_PORT,ToPort=$PIBL_PORT,UserIdGroupPairs=[{GroupId=$1,Description=PIBL-peers}]"
  for port in "$TLS_PORT" "$PIBL_PORT"; do
    allow "$1" "IpProtocol=tcp,FromPort=$port,ToPort=$port,IpRanges=[{CidrIp=$cidr,Description=NLB-health-checks}]"
  done
}

# render_user_data_node HOST SELF PEERS SECRET BACKEND... : a fleet node's user-data. The same files as
# render_user_data_pibl's (deploy/lib/render.sh; test-render.sh checks that they stay the same), and
# pibl.yaml's cluster: block, /etc/pibl/cluster.key (root's, 0600) and the drop-in that hands a copy of it to
# the service's transient user. There is no pibl user to chown it to: DynamicUser= makes one only while the
# service runs, as for tls.key.
render_user_data_node() {
  local host=$1 self=$2 peers=$3 secret=$4 p yaml cluster env files
  shift 4
  # shellcheck disable=SC2086 # PEERS split at its commas
  for p in "$self" ${peers//,/ }; do render_check_word "cluster node" "$p" '[A-Za-z0-9.<>-]+:[0-9]+' || return 1; done
  render_check_word "cluster secret" "$secret" '[A-Za-z0-9<>-]{16,}' || return 1
  yaml=$(render_pibl_yaml "$NAME" 0.0.0.0 "$PIBL_PORT" "$TLS_PORT" "$FLEET_REDIRECT_HTTP" 8081 "$TTL" "$@") &&
    cluster=$(render_template "$TEMPLATE_DIR/cluster.yaml.tmpl" NODES="$NODES" SELF="$self" PEERS="$peers" \
      SECRET_FILE="$CLUSTER_SECRET_FILE") &&
    env=$(render_env "$SYSTEMD_DIR/pibl.env" PIBL_TTL="$TTL") || return 1
  # shellcheck disable=SC2016 # $ROOT is expanded by the user-data
  files=$(render_file_block /etc/pibl/pibl.yaml "$yaml"$'\n'"$cluster" &&
    render_file_block /etc/pibl/cluster.key "$secret" 0600 &&
    render_file_block /etc/pibl/pibl.env "$env" &&
    render_tls_files "$CERT" "$CERT_KEY" &&
    render_file_block /opt/pibl/pibl-jvm "$(<"$SYSTEMD_DIR/pibl-jvm")" &&
    render_file_block /etc/systemd/system/pibl.service "$(<"$SYSTEMD_DIR/pibl.service")" &&
    printf 'mkdir -p "$ROOT/etc/systemd/system/pibl.service.d"\n' &&
    render_file_block /etc/systemd/system/pibl.service.d/cluster.conf "$(<"$TEMPLATE_DIR/pibl-cluster.conf")") ||
    return 1
  render_user_data pibl "$host" "$NAME" "java-17-amazon-corretto-headless openssl" pibl.jar "$pibl_url" \
    pibl.service "$files"
}

cluster_secret() { # 32 random bytes as hex, made here so that every node gets the same
  if [ "$DRY_RUN" = 1 ]; then echo "<cluster-secret>"; return; fi
  od -An -vtx1 -N32 /dev/urandom | tr -d ' \n'
}

# up_fleet : the rest of cmd_up for --nodes N > 1 (it reads cmd_up's vpc, sg_pibl, pibl_url, backends, ids).
up_fleet() {
  local out azs subnets=() enis=() ips=() nodes=() tgs=() targets=() i name eni ip peers="" secret lb lb_dns tg
  local port host
  comment "fleet: $NODES PIBL nodes in cluster mode behind the network load balancer $(lb_name), backends ${backends[*]}"
  # Every node in a default subnet of its own where possible (one per zone), in zones that offer the type.
  out=$(aws_call "<az-1> <az-2> <az-3>" ec2 describe-instance-type-offerings --region "$REGION" \
    --location-type availability-zone --filters "Name=instance-type,Values=$INSTANCE_TYPE" \
    --query 'InstanceTypeOfferings[].Location' --output text)
  azs=$(words "$out" | sort | paste -sd, -)
  [ -n "$azs" ] || die "no availability zone of $REGION offers $INSTANCE_TYPE"
  out=$(aws_call "<subnet-1> <subnet-2> <subnet-3>" ec2 describe-subnets --region "$REGION" \
    --filters "Name=vpc-id,Values=$vpc" Name=default-for-az,Values=true "Name=availability-zone,Values=$azs" \
    --query 'sort_by(Subnets,&AvailabilityZone)[].SubnetId' --output text)
  mapfile -t subnets < <(words "$out" | head -n "$NODES")
  [ "${#subnets[@]}" -gt 0 ] || die "the default VPC has no default subnet in a zone that offers $INSTANCE_TYPE"

  # The load balancer first: it takes minutes to become active, while the nodes boot.
  elb_tags nlb
  out=$(aws_call "<nlb-arn> <nlb-dns>" elbv2 create-load-balancer --region "$REGION" --name "$(lb_name)" \
    --type network --scheme internet-facing --subnets "${subnets[@]}" --tags "${ELB_TAGS[@]}" \
    --query 'LoadBalancers[0].[LoadBalancerArn,DNSName]' --output text)
  read -r lb lb_dns <<<"$out"
  # The nodes need not be spread evenly over the zones (3 nodes, 2 zones): each NLB node sends to all of them.
  aws_call "" elbv2 modify-load-balancer-attributes --region "$REGION" --load-balancer-arn "$lb" \
    --attributes Key=load_balancing.cross_zone.enabled,Value=true >/dev/null
  for port in "$PIBL_PORT" "$TLS_PORT"; do
    # TCP health checks: the cleartext port has no answer of PIBL's own (it forwards every request), and the
    # admin listener stays on 127.0.0.1.
    elb_tags "tg-$port"
    tg=$(aws_call "<tg-arn-$port>" elbv2 create-target-group --region "$REGION" --name "$(tg_name "$port")" \
      --protocol TCP --port "$port" --vpc-id "$vpc" --target-type instance --health-check-protocol TCP \
      --health-check-port traffic-port --health-check-interval-seconds 10 --healthy-threshold-count 2 \
      --unhealthy-threshold-count 2 --tags "${ELB_TAGS[@]}" \
      --query 'TargetGroups[0].TargetGroupArn' --output text)
    tgs+=("$tg")
    elb_tags "listener-$port"
    aws_call "" elbv2 create-listener --region "$REGION" --load-balancer-arn "$lb" --protocol TCP --port "$port" \
      --default-actions "Type=forward,TargetGroupArn=$tg" --tags "${ELB_TAGS[@]}" \
      --query 'Listeners[0].ListenerArn' --output text >/dev/null
  done

  # One network interface per node, so that its private IP is known before any user-data is written. A node
  # launched on an existing interface gets no public IP from the subnet; it needs one to fetch packages and
  # the jar (the default VPC has no NAT), so the interface asks for one itself.
  for ((i = 1; i <= NODES; i++)); do
    name=pibl-$i
    out=$(aws_call "<eni-$name> <private-ip-$name>" ec2 create-network-interface --region "$REGION" \
      --subnet-id "${subnets[$(((i - 1) % ${#subnets[@]}))]}" --groups "$sg_pibl" \
      --description "PIBL node $name ($NAME)" \
      --tag-specifications "ResourceType=network-interface,Tags=[$(tags pibl "$name")]" \
      --query 'NetworkInterface.[NetworkInterfaceId,PrivateIpAddress]' --output text)
    read -r eni ip <<<"$out"
    [ -n "$(words "$ip")" ] || die "the network interface $eni of $name has no private IP"
    aws_call "" ec2 modify-network-interface-attribute --region "$REGION" --network-interface-id "$eni" \
      --associate-public-ip-address
    enis+=("$eni")
    ips+=("$ip")
    peers+="${peers:+, }$ip:$PIBL_PORT"
  done

  secret=$(cluster_secret)
  for ((i = 1; i <= NODES; i++)); do
    name=pibl-$i
    comment "$name: user-data <workdir>/user-data-$name.sh, cluster self ${ips[$((i - 1))]}:$PIBL_PORT"
    render_user_data_node "$name" "${ips[$((i - 1))]}:$PIBL_PORT" "$peers" "$secret" "${backends[@]}" \
      >"$WORK/user-data-$name.sh"
    check_user_data "$WORK/user-data-$name.sh"
    nodes+=("$(run_instance pibl "$name" "$INSTANCE_TYPE" "eni:${enis[$((i - 1))]}" "$WORK/user-data-$name.sh")")
  done
  ids+=("${nodes[@]}")

  aws_call "" ec2 wait instance-running --region "$REGION" --instance-ids "${ids[@]}"
  for ((i = 1; i <= NODES; i++)); do
    out=$(instance_field "<public-ip-pibl-$i>" "${nodes[$((i - 1))]}" PublicIpAddress)
    [ -n "$(words "$out")" ] ||
      die "node pibl-$i got no public IP: it cannot fetch packages or the jar (the default VPC has no NAT)"
    targets+=("Id=${nodes[$((i - 1))]}")
  done
  for tg in "${tgs[@]}"; do
    aws_call "" elbv2 register-targets --region "$REGION" --target-group-arn "$tg" --targets "${targets[@]}"
  done
  aws_call "" elbv2 wait load-balancer-available --region "$REGION" --load-balancer-arns "$lb"

  host=$(words "$lb_dns")
  comment "PIBL: https://$host/ (HTTP/2 and HTTP/1.1), the NLB over $NODES nodes; http://$host/ serves too (no redirect in a fleet)"
  if [ -z "$CERT" ]; then
    comment "each node's certificate is self-signed for its own public name, not the NLB's: curl needs -k"
  fi
  if [ "$WAIT" = 0 ]; then
    echo "PIBL will answer at https://$host/ once the nodes have booted and passed the NLB's health checks (3-5 minutes)"
  elif [ "$DRY_RUN" = 1 ]; then
    comment "then: poll https://$host/ every 10 s until it answers 200, for at most ${WAIT_TIMEOUT}s"
  else
    wait_for_pibl "$host" "${nodes[0]}"
  fi
  echo "NLB: $host"
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
  local out lb dns port tg
  # shellcheck disable=SC2016 # the backquotes are JMESPath literals
  aws_call "" ec2 describe-instances --region "$REGION" --filters "$tag_filter" "$live_states" \
    --query 'Reservations[].Instances[].[Tags[?Key==`Name`]|[0].Value,InstanceId,State.Name,PrivateIpAddress,PublicIpAddress]' \
    --output table
  out=$(find_elb "<nlb-arn> <nlb-dns>" load-balancer "$(lb_name)" 'LoadBalancers[0].[LoadBalancerArn,DNSName]')
  read -r lb dns <<<"$out"
  [ -n "$lb" ] || return 0
  echo "NLB $(lb_name): $dns"
  for port in "$PIBL_PORT" "$TLS_PORT"; do
    tg=$(find_elb "<tg-arn-$port>" target-group "$(tg_name "$port")" 'TargetGroups[0].TargetGroupArn')
    [ -n "$tg" ] || continue
    echo "targets of port $port:"
    aws_call "" elbv2 describe-target-health --region "$REGION" --target-group-arn "$tg" \
      --query 'TargetHealthDescriptions[].[Target.Id,TargetHealth.State,TargetHealth.Reason]' --output table
  done
}

# find_elb PLACEHOLDER WHAT NAME QUERY : `elbv2 describe-WHATs --names NAME --query QUERY`, empty when there is
# no such WHAT (with --dry-run: PLACEHOLDER for a fleet, empty for one node). ELB resources are found by the
# name up gave them (pibl-NAME, pibl-NAME-PORT), then is_ours checks their tag.
find_elb() {
  local placeholder=$1 what=$2 name=$3 query=$4 code
  [ "$NODES" -gt 1 ] || placeholder=""
  # A name ending with - cannot be an ELB's: up --nodes refuses it, so there is nothing to find.
  [[ $name != *- ]] || return 0
  if aws_try "$placeholder" elbv2 "describe-${what}s" --region "$REGION" --names "$name" --query "$query" \
    --output text; then
    return 0
  fi
  case $what in load-balancer) code=LoadBalancerNotFound ;; *) code=TargetGroupNotFound ;; esac
  grep -q "$code" "$WORK/aws-error" || { cat "$WORK/aws-error" >&2; exit 1; }
  say "no $what $name"
}

is_ours() { # ARN : whether the ELB resource ARN carries pibl:deployment=NAME
  local owner
  # shellcheck disable=SC2016 # the backquotes are JMESPath literals
  owner=$(aws_call "$NAME" elbv2 describe-tags --region "$REGION" --resource-arns "$1" \
    --query 'TagDescriptions[0].Tags[?Key==`pibl:deployment`].Value' --output text)
  [ "$owner" = "$NAME" ] || { say "$1 is not tagged pibl:deployment=$NAME: kept it"; return 1; }
}

# retry_in_use CODE WHAT ARG... : `aws ARG...`, again every RETRY_SECONDS for a while as long as it fails with
# CODE (a resource still held by one being removed); any other failure stops the script.
retry_in_use() {
  local code=$1 what=$2 attempt
  shift 2
  for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
    aws_try "" "$@" >/dev/null && return 0
    grep -q "$code" "$WORK/aws-error" || { cat "$WORK/aws-error" >&2; exit 1; }
    [ "$attempt" -lt 12 ] || die "$what is still in use after 12 tries"
    say "$what still in use; retrying in ${RETRY_SECONDS}s"
    sleep "$RETRY_SECONDS"
  done
}

# delete_load_balancer : the NLB's listeners, the NLB (waiting until it is gone), then its target groups.
delete_load_balancer() {
  local out lb listener port tg
  out=$(find_elb "<nlb-arn>" load-balancer "$(lb_name)" 'LoadBalancers[0].LoadBalancerArn')
  lb=$(words "$out")
  if [ -n "$lb" ] && is_ours "$lb"; then
    out=$(aws_call "<listener-arn-$PIBL_PORT> <listener-arn-$TLS_PORT>" elbv2 describe-listeners --region "$REGION" \
      --load-balancer-arn "$lb" --query 'Listeners[].ListenerArn' --output text)
    for listener in $(words "$out"); do
      aws_call "" elbv2 delete-listener --region "$REGION" --listener-arn "$listener"
    done
    aws_call "" elbv2 delete-load-balancer --region "$REGION" --load-balancer-arn "$lb"
    aws_call "" elbv2 wait load-balancers-deleted --region "$REGION" --load-balancer-arns "$lb"
  fi
  for port in "$PIBL_PORT" "$TLS_PORT"; do
    out=$(find_elb "<tg-arn-$port>" target-group "$(tg_name "$port")" 'TargetGroups[0].TargetGroupArn')
    tg=$(words "$out")
    if [ -n "$tg" ] && is_ours "$tg"; then
      retry_in_use ResourceInUse "target group $(tg_name "$port")" elbv2 delete-target-group --region "$REGION" \
        --target-group-arn "$tg"
    fi
  done
}

delete_network_interfaces() { # the fleet nodes' interfaces, once their instances are terminated
  local out eni placeholder="" i
  for ((i = 1; i <= NODES; i++)); do placeholder+="${placeholder:+ }<eni-pibl-$i>"; done
  [ "$NODES" -gt 1 ] || placeholder=""
  out=$(aws_call "$placeholder" ec2 describe-network-interfaces --region "$REGION" --filters "$tag_filter" \
    --query 'NetworkInterfaces[].NetworkInterfaceId' --output text)
  for eni in $(words "$out"); do
    # The interface of a just-terminated instance is detached a little later.
    retry_in_use InvalidNetworkInterface.InUse "network interface $eni" ec2 delete-network-interface \
      --region "$REGION" --network-interface-id "$eni"
  done
}

delete_security_groups() { # ROLE
  local out group
  out=$(aws_call "<sg-$1>" ec2 describe-security-groups --region "$REGION" --filters "$tag_filter" \
    "Name=tag:pibl:role,Values=$1" --query 'SecurityGroups[].GroupId' --output text)
  for group in $(words "$out"); do
    # The network interfaces of just-terminated instances can hold a group for a little while.
    retry_in_use DependencyViolation "security group $group" ec2 delete-security-group --region "$REGION" \
      --group-id "$group"
  done
}

cmd_teardown() {
  local out ids owner
  [ "$DRY_RUN" = 1 ] || command -v aws >/dev/null || die "the AWS CLI v2 is not installed"
  comment "teardown of deployment $NAME in $REGION (everything tagged pibl:deployment=$NAME)"
  # A real teardown always looks for a fleet's load balancer and interfaces; a dry run shows those calls only
  # with --nodes N > 1, so that its output for one node stays today's.
  local fleet=1
  [ "$DRY_RUN" = 0 ] || [ "$NODES" -gt 1 ] || fleet=0
  [ "$fleet" = 0 ] || delete_load_balancer
  out=$(aws_call "<instance-ids>" ec2 describe-instances --region "$REGION" --filters "$tag_filter" "$live_states" \
    --query 'Reservations[].Instances[].InstanceId' --output text)
  mapfile -t ids < <(words "$out")
  if [ "${#ids[@]}" -gt 0 ]; then
    aws_call "" ec2 terminate-instances --region "$REGION" --instance-ids "${ids[@]}" \
      --query 'TerminatingInstances[].InstanceId' --output text >/dev/null
    aws_call "" ec2 wait instance-terminated --region "$REGION" --instance-ids "${ids[@]}"
  fi
  [ "$fleet" = 0 ] || delete_network_interfaces
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
