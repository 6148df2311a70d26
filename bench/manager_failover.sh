#!/usr/bin/env bash
# Management plane failover, on a lab started with `start --ha` (3-server
# Raft database, managerd m1 and m2 in active/standby):
#   1. kill -9 of the active shortcut-managerd: the time until a write
#      through the API (shortcutctl given both managers, as an orchestrator
#      would be) succeeds, i.e. the standby took the lock, became active and
#      answered. The killed one is restarted (as standby) before the next run.
#   2. kill -9 of the Raft leader of the database: the time until a write
#      through the API succeeds again (election, managers reconnecting to
#      the new leader, one of them taking the lock). The killed server is
#      restarted (it rejoins the cluster) before the next run.
# Writes are tried back to back (each a shortcutctl process with a 2 s
# timeout); the figure is from the kill to the first write answered OK.
#   bench/manager_failover.sh [RUNS=5]
# Run as root after a build; uses its own lab (removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
BIN=$PWD/build/bin
export SHORTCUTCTL=$BIN/shortcutctl SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd
export SHORTCUT_MANAGERD=$BIN/shortcut-managerd
NAME=scbenchmf
DIR=/tmp/shortcut-lab-$NAME
M=$DIR/mgr
lab() { "$BIN/shortcut-lab" "$1" --name "$NAME" --dir "$DIR" "${@:2}"; }
trap 'lab down > /dev/null 2>&1 || true' EXIT
now_ms() { date +%s%3N; }
die() { echo "manager_failover: $*" >&2; exit 1; }

lab up --hosts 2 --gateways 2 --vpcs 1 --vms-per-host 1 > /dev/null 2>&1 || die "up failed"
lab start --ha > /dev/null 2>&1 || die "start --ha failed"
MGRS=$(< "$M/managers")
mgr() { SHORTCUT_MANAGER="$MGRS" "$SHORTCUTCTL" --timeout 2 "$@"; }
# roles: "m1=ACTIVE m2=STANDBY" as the managers answer.
roles() {
  mgr --json manager status 2> /dev/null | python3 -c 'import json, sys
print(" ".join("%s=%s" % (m["status"]["name"], m["status"]["role"][len("MANAGER_ROLE_"):])
               for m in json.load(sys.stdin)["managers"] if "status" in m))'
}
active() { roles | tr ' ' '\n' | sed -n 's/=ACTIVE$//p'; }
leader() {
  local i
  for i in 1 2 3; do
    if ovs-appctl -t "$M/nb$i.ctl" cluster/status Shortcut_Northbound 2> /dev/null |
      grep -q '^Role: leader'; then
      echo "$i"
      return 0
    fi
  done
  return 1
}
n=0
write() {  # A gateway in no cluster: a row no gateway or host hears of.
  n=$((n + 1))
  mgr gw register "bench$n" --underlay-ip "172.31.9.$((n % 250 + 1))" --grpc unix:/nonexistent \
    --capacity 1 > /dev/null 2>&1
}
# until_write LIMIT_S: tries writes back to back; prints ms from T0.
until_write() {
  local end=$((SECONDS + $1))
  until write; do
    [ "$SECONDS" -lt "$end" ] || die "no write succeeded within $1 s"
  done
  echo $(($(now_ms) - T0))
}
wait_roles() {  # Both managers answer, one of them active.
  local end=$((SECONDS + 30))
  until [[ "$(roles)" =~ ^m[12]=(ACTIVE|STANDBY)\ m[12]=(ACTIVE|STANDBY)$ ]] && [ -n "$(active)" ]; do
    [ "$SECONDS" -lt "$end" ] || die "managers not both up: $(roles)"
    sleep 0.1
  done
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
mt=() lt=()
for run in $(seq "$RUNS"); do
  wait_roles
  victim=$(active)
  T0=$(now_ms)
  kill -9 "$(< "$M/managerd-$victim.pid")"
  ms=$(until_write 30)
  mt+=("$ms")
  echo "managerd run $run: killed active $victim; $(active) active, write answered after $ms ms"
  ip netns exec "$NAME-mgr" setsid "$SHORTCUT_MANAGERD" --config "$M/managerd-$victim.json" \
    >> "$M/managerd-$victim.log" 2>&1 < /dev/null &
  echo $! > "$M/managerd-$victim.pid"
  disown
done
for run in $(seq "$RUNS"); do
  wait_roles
  i=$(leader) || die "no Raft leader"
  T0=$(now_ms)
  kill -9 "$(< "$M/ovsdb-server-nb$i.pid")"
  ms=$(until_write 60)
  lt+=("$ms")
  echo "raft run $run: killed leader nb$i; nb$(leader || echo '?') leads, write answered after $ms ms"
  rm -f "$M/nb$i.sock" "$M/nb$i.ctl"
  ip netns exec "$NAME-mgr" ovsdb-server "$M/nb$i.db" --remote="punix:$M/nb$i.sock" \
    --pidfile="$M/ovsdb-server-nb$i.pid" --unixctl="$M/nb$i.ctl" \
    --log-file="$M/ovsdb-server-nb$i.log" -vconsole:off --detach --no-chdir 2> /dev/null
  timeout 30 ovsdb-client --timeout=30 wait "unix:$M/nb$i.sock" Shortcut_Northbound connected \
    > /dev/null 2>&1 || die "nb$i did not rejoin"
done
summary() {
  printf '%s\n' "${@:2}" | sort -n | awk -v what="$1" '{ v[NR] = $1 }
    END { printf "%s: min %d ms, median %d ms, max %d ms over %d runs\n", what, v[1],
          v[int((NR + 1) / 2)], v[NR], NR }'
}
summary "active managerd killed -> write answered" "${mt[@]}"
summary "Raft leader killed -> write answered" "${lt[@]}"
