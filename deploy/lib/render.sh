# shellcheck shell=bash
# Rendering shared by deploy/aws (cloud-init user-data), deploy/local (the same user-data, run under a
# prefix inside network namespaces) and postman/run-newman.sh (the same, on loopback).
# Source it; every function prints to stdout and returns non-zero on bad input.
#
# A host is described by one user-data script. It writes these files and starts one unit:
#   PIBL host:     /opt/pibl/pibl.jar, /opt/pibl/pibl-jvm, /etc/pibl/pibl.yaml, /etc/pibl/pibl.env,
#                  /etc/pibl/tls.crt, /etc/pibl/tls.key (0600; given, or self-signed at boot),
#                  /etc/systemd/system/pibl.service                        -> pibl.service
#   backend NAME:  /opt/pibl/pibl-backend-demo.jar, /etc/pibl/NAME.env,
#                  /etc/systemd/system/pibl-backend@.service               -> pibl-backend@NAME.service

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPLATE_DIR="$DEPLOY_DIR/templates"
SYSTEMD_DIR="$DEPLOY_DIR/systemd"
# How long the certificate a PIBL host makes for itself at boot is valid (no --cert given to pibl-aws.sh).
SELF_SIGNED_DAYS=365

render_die() { echo "render: $*" >&2; return 1; }

# render_template FILE KEY=VALUE... : FILE with every {{KEY}} replaced; fails if a {{...}} is left.
render_template() {
  local file=$1 text kv
  shift
  text=$(<"$file") || return 1
  for kv in "$@"; do
    [[ $text == *"{{${kv%%=*}}}"* ]] || { render_die "$file has no {{${kv%%=*}}}"; return 1; }
    text=${text//"{{${kv%%=*}}}"/"${kv#*=}"}
  done
  if [[ $text =~ \{\{[A-Za-z_]+\}\} ]]; then
    render_die "$file: no value for ${BASH_REMATCH[0]}"
    return 1
  fi
  printf '%s\n' "$text"
}

# render_env FILE KEY=VALUE... : the env file FILE with the value of each KEY replaced (KEY must be there).
render_env() {
  local file=$1 text kv key line out=""
  shift
  text=$(<"$file") || return 1
  for kv in "$@"; do
    key=${kv%%=*}
    grep -q "^$key=" "$file" || { render_die "$file has no $key="; return 1; }
  done
  while IFS= read -r line; do
    for kv in "$@"; do
      [[ $line == "${kv%%=*}="* ]] && line=$kv
    done
    out+="$line"$'\n'
  done <<<"$text"
  printf '%s' "$out"
}

render_check_word() { # NAME VALUE PATTERN
  [[ $2 =~ ^$3$ ]] || { render_die "bad $1: '$2'"; return 1; }
}

# render_pibl_yaml DEPLOYMENT BIND PORT TLS_PORT REDIRECT_HTTP ADMIN_PORT TTL BACKEND... (BACKEND is host:port)
# REDIRECT_HTTP is true (the cleartext PORT answers 308 to https, as on EC2) or false (it serves, as for newman).
render_pibl_yaml() {
  local deployment=$1 bind=$2 port=$3 tls_port=$4 redirect=$5 admin_port=$6 ttl=$7 backends="" b
  shift 7
  [ "$#" -gt 0 ] || { render_die "no backends"; return 1; }
  render_check_word port "$port" '[0-9]+' && render_check_word "TLS port" "$tls_port" '[0-9]+' &&
    render_check_word redirect-http "$redirect" '(true|false)' &&
    render_check_word "admin port" "$admin_port" '[0-9]+' &&
    render_check_word ttl "$ttl" '[0-9]+' && render_check_word bind "$bind" '[0-9.]+' || return 1
  for b in "$@"; do
    # <...> lets deploy/aws --dry-run render with placeholders such as <private-ip-backend-1>.
    render_check_word backend "$b" '[A-Za-z0-9.<>-]+:[0-9]+' || return 1
    backends+="  - \"$b\""$'\n'
  done
  render_template "$TEMPLATE_DIR/pibl.yaml.tmpl" DEPLOYMENT="$deployment" BIND="$bind" PORT="$port" \
    TLS_PORT="$tls_port" REDIRECT_HTTP="$redirect" ADMIN_PORT="$admin_port" TTL="$ttl" BACKENDS="${backends%$'\n'}"
}

# render_file_block PATH CONTENT [MODE] : shell lines that write CONTENT to $ROOT/PATH (created with MODE first,
# so that a private key is never readable by others, not even for a moment).
render_file_block() {
  local path=$1 content=$2 mode=${3:-}
  if [[ $content == *$'\n'PIBL_FILE$'\n'* || $content == PIBL_FILE$'\n'* ]]; then
    render_die "$path contains the heredoc delimiter"
    return 1
  fi
  if [ -n "$mode" ]; then
    render_check_word mode "$mode" '0[0-7]{3}' || return 1
    # shellcheck disable=SC2016 # $ROOT is expanded by the user-data, not here
    printf 'install -m %s /dev/null "$ROOT%s"\n' "$mode" "$path"
  fi
  printf "cat >\"\$ROOT%s\" <<'PIBL_FILE'\n%s\nPIBL_FILE\n" "$path" "${content%$'\n'}"
}

# render_tls_files CERT KEY : the shell lines that put PIBL's certificate in /etc/pibl/tls.crt and its key in
# /etc/pibl/tls.key (0600), where pibl.service's LoadCredential= reads them. CERT and KEY are PEM files here,
# shipped verbatim; both empty: lines that make a self-signed certificate at boot for the instance's public DNS
# name and IP (IMDSv2), with deploy/lib/self-signed.sh's function.
render_tls_files() {
  local cert=$1 key=$2 text
  if [ -z "$cert" ] && [ -z "$key" ]; then
    # The function without its header comment: the template says what it is for.
    text=$(awk 'body || !/^#/ { body = 1; print }' "$DEPLOY_DIR/lib/self-signed.sh") || return 1
    render_template "$TEMPLATE_DIR/tls-self-signed.sh.tmpl" SELF_SIGNED_CERT="$text" DAYS="$SELF_SIGNED_DAYS"
    return
  fi
  if [ -z "$cert" ] || [ -z "$key" ]; then
    render_die "a certificate needs its key, and a key its certificate"
    return 1
  fi
  [ -r "$cert" ] || { render_die "cannot read the certificate $cert"; return 1; }
  [ -r "$key" ] || { render_die "cannot read the key $key"; return 1; }
  grep -q -- '-----BEGIN CERTIFICATE-----' "$cert" || { render_die "$cert is not a PEM certificate"; return 1; }
  grep -q -- '-----BEGIN .*PRIVATE KEY-----' "$key" || { render_die "$key is not a PEM private key"; return 1; }
  render_file_block /etc/pibl/tls.crt "$(<"$cert")" 0644 && render_file_block /etc/pibl/tls.key "$(<"$key")" 0600
}

# render_user_data ROLE HOST DEPLOYMENT PACKAGES JAR JAR_URL UNIT FILES : the user-data script around FILES.
render_user_data() {
  [[ $6 != *"'"* ]] || { render_die "jar URL must not contain a single quote"; return 1; }
  render_template "$TEMPLATE_DIR/user-data.sh.tmpl" ROLE="$1" HOST="$2" DEPLOYMENT="$3" PACKAGES="$4" JAR="$5" \
    JAR_URL="$6" UNIT="$7" FILES="$8"
}

# render_user_data_pibl DEPLOYMENT JAR_URL BIND PORT TLS_PORT REDIRECT_HTTP ADMIN_PORT TTL CERT KEY BACKEND...
# CERT and KEY: PEM files to install, or both "" for a certificate the host makes at boot (render_tls_files).
render_user_data_pibl() {
  local deployment=$1 jar_url=$2 bind=$3 port=$4 tls_port=$5 redirect=$6 admin_port=$7 ttl=$8 cert=$9 key=${10}
  local yaml env files
  shift 10
  render_check_word deployment "$deployment" '[a-z0-9][a-z0-9-]*' || return 1
  yaml=$(render_pibl_yaml "$deployment" "$bind" "$port" "$tls_port" "$redirect" "$admin_port" "$ttl" "$@") ||
    return 1
  env=$(render_env "$SYSTEMD_DIR/pibl.env" PIBL_TTL="$ttl") || return 1
  files=$(render_file_block /etc/pibl/pibl.yaml "$yaml" &&
    render_file_block /etc/pibl/pibl.env "$env" &&
    render_tls_files "$cert" "$key" &&
    render_file_block /opt/pibl/pibl-jvm "$(<"$SYSTEMD_DIR/pibl-jvm")" &&
    render_file_block /etc/systemd/system/pibl.service "$(<"$SYSTEMD_DIR/pibl.service")") || return 1
  render_user_data pibl pibl "$deployment" "java-17-amazon-corretto-headless openssl" pibl.jar "$jar_url" \
    pibl.service "$files"
}

# render_user_data_backend DEPLOYMENT JAR_URL NAME BIND PORT
render_user_data_backend() {
  local deployment=$1 jar_url=$2 name=$3 bind=$4 port=$5 env files
  render_check_word deployment "$deployment" '[a-z0-9][a-z0-9-]*' &&
    render_check_word "backend name" "$name" '[a-z0-9][a-z0-9-]*' &&
    render_check_word port "$port" '[0-9]+' && render_check_word bind "$bind" '[0-9.]+' || return 1
  env=$(render_env "$SYSTEMD_DIR/backend.env" BACKEND_PORT="$port" BACKEND_BIND="$bind") || return 1
  files=$(render_file_block "/etc/pibl/$name.env" "$env" &&
    render_file_block "/etc/systemd/system/pibl-backend@.service" "$(<"$SYSTEMD_DIR/pibl-backend@.service")") ||
    return 1
  render_user_data backend "$name" "$deployment" java-17-amazon-corretto-headless pibl-backend-demo.jar "$jar_url" \
    "pibl-backend@$name.service" "$files"
}
