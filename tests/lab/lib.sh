# shellcheck shell=bash
# Helpers for the shortcut-lab tests. A test sources this file with the bin
# directory (holding shortcut-lab and shortcutctl) as its first argument:
#   source "$(dirname "$0")/lib.sh" "$1" TESTNAME
# It gets LAB (the script), LAB_NAME and LAB_DIR (its own lab, removed by an
# EXIT trap whatever happens) and the checks below.
set -euo pipefail

BIN=${1:?usage: $0 BIN_DIR}
BIN=$(cd "$BIN" && pwd)
LAB=$BIN/shortcut-lab
export SHORTCUTCTL=$BIN/shortcutctl
TEST=${2:?test name}
LAB_NAME=t${TEST}$$
LAB_DIR=$(mktemp -d "/tmp/sclab-test-$TEST.XXXXXX")

fail() { echo "FAIL [$TEST]: $*" >&2; exit 1; }
ok() { echo "ok [$TEST]: $*"; }

[ "$(id -u)" -eq 0 ] || fail "must run as root"
[ -x "$LAB" ] || fail "no executable $LAB"
[ -x "$SHORTCUTCTL" ] || fail "no executable $SHORTCUTCTL"

lab() { "$LAB" "$1" --name "$LAB_NAME" --dir "$LAB_DIR" "${@:2}"; }

# Labs of this test left by a run that died without its EXIT trap (kill -9,
# a machine reset): namespaces t${TEST}PID-*, PID no longer running. `down`
# kills what runs in them and deletes them.
for stale in $(ip netns list | sed -n "s/^\(t${TEST}[0-9][0-9]*\)-.*/\1/p" | sort -u); do
  pid=${stale#t"$TEST"}
  if [ "$pid" != $$ ] && ! kill -0 "$pid" 2> /dev/null; then
    "$LAB" down --name "$stale" --dir "/tmp/sclab-stale-$stale" > /dev/null 2>&1 || true
  fi
done

lab_cleanup() {
  local rc=$?
  "$LAB" down --name "$LAB_NAME" --dir "$LAB_DIR" > /dev/null 2>&1 || true
  rm -rf "$LAB_DIR"
  exit "$rc"
}
trap lab_cleanup EXIT

lab_ns() { echo "$LAB_NAME-$1"; }

# ---- Helpers shared by the tests of a started lab. ----
OF="ovs-ofctl -O OpenFlow13"
# br NODE: the OpenFlow target of NODE's integration bridge.
br() { echo "unix:$LAB_DIR/$1/br-int.mgmt"; }
# mgr ARGS...: shortcutctl against the lab's managerd (a test may redefine it).
mgr() { SHORTCUT_MANAGER="unix:$LAB_DIR/mgr/managerd.sock" "$SHORTCUTCTL" "$@"; }
# gwctl GW ARGS...: shortcutctl gateway against GW's shortcut-gatewayd.
gwctl() { "$SHORTCUTCTL" gateway --server "unix:$LAB_DIR/$1/gatewayd.sock" "${@:2}"; }
# vm NAME FIELD: a field of a VM in the lab's plan (vpc, ip, mac, ...).
vm() {
  python3 -c 'import json, sys
for v in json.load(open(sys.argv[1]))["vms"]:
    if v["name"] == sys.argv[2]: print(v[sys.argv[3]])' "$LAB_DIR/lab.json" "$1" "$2"
}
# wait_for SECONDS COMMAND...: until COMMAND succeeds (run again on every
# try), at most SECONDS.
wait_for() {
  local end=$((SECONDS + $1))
  while ! "${@:2}"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.1
  done
}

# Links of the root namespace, to check that the lab configures nothing there.
root_links() { ip -o link show | awk -F': ' '{ print $2 }' | sed 's/@.*//' | sort; }

# lab_pids NAME DIR: live processes of the lab: inside its namespaces, with
# DIR on their command line, or marked by its `up`.
lab_pids() {
  local name=$1 dir=$2 ns p pid a
  local -a cmd env
  for ns in $(ip netns list | awk -v p="$name-" 'index($1, p) == 1 { print $1 }'); do
    ip netns pids "$ns" 2>/dev/null || true
  done
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" != $$ ] || continue
    grep -q '^State:.*Z' "$p/status" 2>/dev/null && continue
    { mapfile -d '' -t cmd < "$p/cmdline"; } 2>/dev/null || continue
    { mapfile -d '' -t env < "$p/environ"; } 2>/dev/null || continue
    for a in "${cmd[@]}" "${env[@]}"; do
      if [[ $a == *"$dir/"* ]] || [ "$a" = "SHORTCUT_LAB_UP=$name" ]; then
        echo "$pid"
        break
      fi
    done
  done
}

# check_gone NAME DIR: no namespace, process or directory of the lab is left.
check_gone() {
  local name=$1 dir=$2 left
  left=$(ip netns list | awk -v p="$name-" 'index($1, p) == 1 { print $1 }')
  [ -z "$left" ] || fail "namespaces left: $left"
  left=$(lab_pids "$name" "$dir" | sort -u | tr '\n' ' ')
  [ -z "$left" ] || fail "processes left: $left ($(ps -o pid=,args= -p "${left// /,}" 2>/dev/null | head -5))"
  [ ! -e "$dir" ] || fail "directory left: $dir"
}

# json EXPR: evaluates a python expression over `status --json` (as `s`).
json() {
  lab status --json | python3 -c "import json, sys; s = json.load(sys.stdin); print($1)"
}
