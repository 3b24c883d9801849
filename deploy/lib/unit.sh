# shellcheck shell=bash
# Run a systemd unit's ExecStart= outside systemd, for deploy/local/rehearse.sh and postman/run-newman.sh,
# so that what they start is exactly what the hosts start. Source it.
#
#   unit_exec ROOT/etc/systemd/system/pibl.service "" ROOT   # fills UNIT_ARGV and UNIT_WORKDIR
#   svc_start pibl "$netns" "$logfile"                          # runs UNIT_ARGV in UNIT_WORKDIR; pid kept
#   svc_wait_http pibl "$netns" http://198.18.0.10/ 60          # bounded wait until it answers
#   svc_stop_all                                                # TERM, then KILL after 10 s, by pid
#
# What it understands of the unit: ExecStart=, EnvironmentFile= (one), WorkingDirectory=, LoadCredential=, the
# %i specifier, $VAR (split on whitespace) and ${VAR} (one word). Paths under /etc/pibl, /opt/pibl and
# /var/lib/pibl* get the ROOT prefix, which stands for the host's file system; the working directory is created
# as StateDirectory= would. LoadCredential=ID:PATH is done as systemd does it: PATH is copied to ID in a
# directory of the unit's own (ROOT/run/credentials/UNIT, 0700, the copies 0400), which the command finds as
# ${CREDENTIALS_DIRECTORY} in ExecStart= and in its environment.

SVC_NAMES=()
SVC_PIDS=()
UNIT_CREDENTIALS=""

unit_die() { echo "unit: $*" >&2; return 1; }

unit_prefix_path() { # ROOT PATH
  case $2 in
    /etc/pibl | /etc/pibl/* | /opt/pibl | /opt/pibl/* | /var/lib/pibl*) printf '%s%s' "$1" "$2" ;;
    *) printf '%s' "$2" ;;
  esac
}

unit_value() { # UNIT KEY : the last KEY= value
  sed -n "s/^$2=//p" "$1" | tail -n 1
}

# unit_credentials UNIT INSTANCE ROOT : the LoadCredential= copies; sets UNIT_CREDENTIALS (empty when none).
unit_credentials() {
  local unit=$1 instance=$2 root=$3 spec id path dir
  UNIT_CREDENTIALS=""
  grep -q '^LoadCredential=' "$unit" || return 0
  dir="$root/run/credentials/$(basename "${unit/@./@$instance.}")"
  rm -rf "$dir"
  mkdir -p "$dir"
  chmod 0700 "$dir"
  while IFS= read -r spec; do
    id=${spec%%:*} path=${spec#*:}
    [[ $id =~ ^[A-Za-z0-9._-]+$ && $path == /* ]] || { unit_die "$unit: LoadCredential=$spec is not ID:/PATH"; return 1; }
    path=$(unit_prefix_path "$root" "${path//%i/$instance}")
    # systemd refuses to start the unit when a credential cannot be read; so does this.
    cp "$path" "$dir/$id" || { unit_die "$unit: cannot load credential $id from $path"; return 1; }
    chmod 0400 "$dir/$id"
  done < <(sed -n 's/^LoadCredential=//p' "$unit")
  UNIT_CREDENTIALS=$dir
}

# unit_exec UNIT INSTANCE ROOT : sets UNIT_ARGV (the command), UNIT_WORKDIR (created) and UNIT_CREDENTIALS.
unit_exec() {
  local unit=$1 instance=$2 root=$3 line envfile name word part l
  local -a words parts
  local -A env=()
  [ -r "$unit" ] || { unit_die "cannot read $unit"; return 1; }
  line=$(unit_value "$unit" ExecStart)
  [ -n "$line" ] || { unit_die "$unit has no ExecStart="; return 1; }
  [[ $line != *[\"\'\\]* ]] || { unit_die "$unit: quotes in ExecStart= are not supported here"; return 1; }
  envfile=$(unit_value "$unit" EnvironmentFile)
  envfile=${envfile#-}
  if [ -n "$envfile" ]; then
    envfile=$(unit_prefix_path "$root" "${envfile//%i/$instance}")
    [ -r "$envfile" ] || { unit_die "cannot read $envfile"; return 1; }
    while IFS= read -r l; do
      [[ $l =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] && env[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
    done <"$envfile"
  fi
  unit_credentials "$unit" "$instance" "$root" || return 1
  [ -z "$UNIT_CREDENTIALS" ] || env[CREDENTIALS_DIRECTORY]=$UNIT_CREDENTIALS
  UNIT_ARGV=()
  read -ra words <<<"${line//%i/$instance}"
  for word in "${words[@]}"; do
    if [[ $word =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
      name=${BASH_REMATCH[1]}
      [ -n "${env[$name]+set}" ] || { unit_die "$unit: \$$name is not set in $envfile"; return 1; }
      read -ra parts <<<"${env[$name]}"
      for part in "${parts[@]}"; do UNIT_ARGV+=("$(unit_prefix_path "$root" "$part")"); done
      continue
    fi
    while [[ $word =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
      name=${BASH_REMATCH[1]}
      [ -n "${env[$name]+set}" ] || { unit_die "$unit: \${$name} is not set in $envfile nor by systemd"; return 1; }
      word=${word//"\${$name}"/"${env[$name]}"}
    done
    UNIT_ARGV+=("$(unit_prefix_path "$root" "$word")")
  done
  UNIT_WORKDIR=$(unit_value "$unit" WorkingDirectory)
  UNIT_WORKDIR=$(unit_prefix_path "$root" "${UNIT_WORKDIR//%i/$instance}")
  [ -n "$UNIT_WORKDIR" ] || { unit_die "$unit has no WorkingDirectory="; return 1; }
  mkdir -p "$UNIT_WORKDIR"
}

# svc_start NAME NETNS LOG : start UNIT_ARGV in UNIT_WORKDIR (inside NETNS unless empty), output to LOG, with
# CREDENTIALS_DIRECTORY in its environment when the unit loads credentials.
svc_start() {
  local name=$1 ns=$2 log=$3 netns=()
  [ -z "$ns" ] || netns=(ip netns exec "$ns")
  (
    cd "$UNIT_WORKDIR" || exit 1
    if [ -n "$UNIT_CREDENTIALS" ]; then export CREDENTIALS_DIRECTORY=$UNIT_CREDENTIALS; fi
    exec "${netns[@]}" "${UNIT_ARGV[@]}"
  ) >"$log" 2>&1 </dev/null &
  SVC_NAMES+=("$name")
  SVC_PIDS+=("$!")
}

svc_pid() { # NAME
  local i
  for i in "${!SVC_NAMES[@]}"; do
    [ "${SVC_NAMES[$i]}" = "$1" ] && { echo "${SVC_PIDS[$i]}"; return 0; }
  done
  return 1
}

# svc_wait_http NAME NETNS URL SECONDS [CURL_ARG...] : until URL answers with any HTTP status (curl with the
# extra arguments, such as --cacert FILE); fails early if NAME exited.
svc_wait_http() {
  local name=$1 ns=$2 url=$3 seconds=$4 pid deadline code
  shift 4
  pid=$(svc_pid "$name") || { unit_die "no service $name"; return 1; }
  deadline=$((SECONDS + seconds))
  while [ "$SECONDS" -lt "$deadline" ]; do
    kill -0 "$pid" 2>/dev/null || { unit_die "$name (pid $pid) exited before $url answered"; return 1; }
    if [ -n "$ns" ]; then
      code=$(ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" || true)
    else
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" || true)
    fi
    [ "${code:-000}" != 000 ] && return 0
    sleep 0.3
  done
  unit_die "$name did not answer $url within ${seconds}s"
  return 1
}

svc_any_alive() {
  local pid
  for pid in "${SVC_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}

# svc_stop_all : TERM every started service, wait up to 10 s, then KILL the rest. Never fails.
svc_stop_all() {
  local pid i
  [ "${#SVC_PIDS[@]}" -gt 0 ] || return 0
  for pid in "${SVC_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 100; i++)); do
    svc_any_alive || break
    sleep 0.1
  done
  for pid in "${SVC_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "unit: pid $pid ignored SIGTERM for 10 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  SVC_NAMES=()
  SVC_PIDS=()
}
