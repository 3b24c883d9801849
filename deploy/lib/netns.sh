# shellcheck shell=bash
# Network namespaces on one bridge, for the local rehearsals (deploy/local/rehearse.sh, rehearse-cluster.sh).
# The caller sets TAG (a prefix unique to the run) and NAMESPACES=() before using these; netns_remove_all, called
# from its exit trap, kills what still runs in them and deletes them.
#
#   netns_switch              namespace "switch" holding bridge br0
#   add_host HOST IP          namespace HOST with eth0 (IP/24) on br0
#   in_ns HOST COMMAND...     runs COMMAND inside HOST

ns_name() { echo "$TAG-$1"; }

in_ns() { # HOST COMMAND...
  local host=$1
  shift
  ip netns exec "$(ns_name "$host")" "$@"
}

add_ns() {
  ip netns add "$(ns_name "$1")"
  NAMESPACES+=("$(ns_name "$1")")
  ip -n "$(ns_name "$1")" link set lo up
}

netns_switch() {
  add_ns switch
  ip -n "$(ns_name switch)" link add br0 type bridge ||
    { echo "cannot create a bridge inside a namespace (is the bridge module available? modprobe bridge)" >&2; return 1; }
  ip -n "$(ns_name switch)" link set br0 up
}

add_host() { # HOST IP : a namespace with eth0 on the switch's bridge
  local host=$1 ip=$2 sw
  sw=$(ns_name switch)
  add_ns "$host"
  ip -n "$sw" link add "v-$host" type veth peer name eth0 netns "$(ns_name "$host")"
  ip -n "$sw" link set "v-$host" master br0 up
  ip -n "$(ns_name "$host")" addr add "$ip/24" dev eth0
  ip -n "$(ns_name "$host")" link set eth0 up
}

netns_remove_all() { # kills anything left inside our namespaces (started by the script), then deletes them
  local ns pid
  for ns in "${NAMESPACES[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}
