# shellcheck shell=bash
# Rendering shared by deploy/aws (cloud-init user-data), deploy/local (the same user-data, run under a
# prefix inside network namespaces) and postman/run-newman.sh (the same, on loopback).
# Source it; every function prints to stdout and returns non-zero on bad input.
#
# A host is described by one user-data script. It writes these files and starts one unit:
#   PIBL host:     /opt/pibl/pibl.jar, /opt/pibl/pibl-jvm, /etc/pibl/pibl.yaml, /etc/pibl/pibl.env,
#                  /etc/systemd/system/pibl.service                        -> pibl.service
#   backend NAME:  /opt/pibl/pibl-backend-demo.jar, /etc/pibl/NAME.env,
#                  /etc/systemd/system/pibl-backend@.service               -> pibl-backend@NAME.service

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPLATE_DIR="$DEPLOY_DIR/templates"
SYSTEMD_DIR="$DEPLOY_DIR/systemd"

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

# render_pibl_yaml DEPLOYMENT BIND PORT ADMIN_PORT TTL BACKEND... (BACKEND is host:port)
render_pibl_yaml() {
  local deployment=$1 bind=$2 port=$3 admin_port=$4 ttl=$5 backends="" b
  shift 5
  [ "$#" -gt 0 ] || { render_die "no backends"; return 1; }
  render_check_word port "$port" '[0-9]+' && render_check_word "admin port" "$admin_port" '[0-9]+' &&
    render_check_word ttl "$ttl" '[0-9]+' && render_check_word bind "$bind" '[0-9.]+' || return 1
  for b in "$@"; do
    # <...> lets deploy/aws --dry-run render with placeholders such as <private-ip-backend-1>.
    render_check_word backend "$b" '[A-Za-z0-9.<>-]+:[0-9]+' || return 1
    backends+="  - \"$b\""$'\n'
  done
  render_template "$TEMPLATE_DIR/pibl.yaml.tmpl" DEPLOYMENT="$deployment" BIND="$bind" PORT="$port" \
    ADMIN_PORT="$admin_port" TTL="$ttl" BACKENDS="${backends%$'\n'}"
}

# render_file_block PATH CONTENT : shell lines that write CONTENT to $ROOT/PATH.
render_file_block() {
  local path=$1 content=$2
  if [[ $content == *$'\n'PIBL_FILE$'\n'* || $content == PIBL_FILE$'\n'* ]]; then
    render_die "$path contains the heredoc delimiter"
    return 1
  fi
  printf "cat >\"\$ROOT%s\" <<'PIBL_FILE'\n%s\nPIBL_FILE\n" "$path" "${content%$'\n'}"
}

# render_user_data ROLE HOST DEPLOYMENT JAR JAR_URL UNIT FILES : the user-data script around FILES.
render_user_data() {
  [[ $5 != *"'"* ]] || { render_die "jar URL must not contain a single quote"; return 1; }
  render_template "$TEMPLATE_DIR/user-data.sh.tmpl" ROLE="$1" HOST="$2" DEPLOYMENT="$3" JAR="$4" \
    JAR_URL="$5" UNIT="$6" FILES="$7"
}

# render_user_data_pibl DEPLOYMENT JAR_URL BIND PORT ADMIN_PORT TTL BACKEND...
render_user_data_pibl() {
  local deployment=$1 jar_url=$2 bind=$3 port=$4 admin_port=$5 ttl=$6 yaml env files
  shift 6
  render_check_word deployment "$deployment" '[a-z0-9][a-z0-9-]*' || return 1
  yaml=$(render_pibl_yaml "$deployment" "$bind" "$port" "$admin_port" "$ttl" "$@") || return 1
  env=$(render_env "$SYSTEMD_DIR/pibl.env" PIBL_TTL="$ttl") || return 1
  files=$(render_file_block /etc/pibl/pibl.yaml "$yaml" &&
    render_file_block /etc/pibl/pibl.env "$env" &&
    render_file_block /opt/pibl/pibl-jvm "$(<"$SYSTEMD_DIR/pibl-jvm")" &&
    render_file_block /etc/systemd/system/pibl.service "$(<"$SYSTEMD_DIR/pibl.service")") || return 1
  render_user_data pibl pibl "$deployment" pibl.jar "$jar_url" pibl.service "$files"
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
  render_user_data backend "$name" "$deployment" pibl-backend-demo.jar "$jar_url" "pibl-backend@$name.service" "$files"
}
