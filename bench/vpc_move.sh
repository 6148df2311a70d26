#!/usr/bin/env bash
# VPC move between gateway clusters, make-before-break: how long a move
# takes (MoveVpc to done, as `shortcutctl vpc move --wait` measures it),
# how many packets of the VPC are lost, and how many OpenFlow changes each
# host receives.
#
# Lab: 3 hosts, gw1+gw2 in cluster 1, gw3 in cluster 2; vpc1 has VMs on
# host1 and host3 only (host2's are deleted: it is outside the move). Each
# run moves vpc1 to the other cluster while host1-vm1 pings host3-vm1 100
# times a second and both hosts' direct paths are deleted every 100 ms, so
# that packets keep crossing the gateways (the old cluster's, then the new
# one's) throughout. Changes per host are counted in each ovs-vswitchd's own
# log of the messages it received (vconn debug log), leaving out direct
# paths (the deletes above and the setups they cause).
#   bench/vpc_move.sh [RUNS=6]
# Run as root after a build; uses its own lab (removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-6}
BIN=$PWD/build/bin
export SHORTCUTCTL=$BIN/shortcutctl SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd
export SHORTCUT_MANAGERD=$BIN/shortcut-managerd
NAME=scbenchmv
DIR=/tmp/shortcut-lab-$NAME
OF="ovs-ofctl -O OpenFlow13"
lab() { "$BIN/shortcut-lab" "$1" --name "$NAME" --dir "$DIR" "${@:2}"; }
mgr() { SHORTCUT_MANAGER="unix:$DIR/mgr/managerd.sock" "$SHORTCUTCTL" "$@"; }
br() { echo "unix:$DIR/$1/br-int.mgmt"; }
trap 'lab down > /dev/null 2>&1 || true' EXIT
vm() {
  python3 -c 'import json, sys
for v in json.load(open(sys.argv[1]))["vms"]:
    if v["name"] == sys.argv[2]: print(v[sys.argv[3]])' "$DIR/lab.json" "$1" "$2"
}
commits() { # commits HOST: bundles it committed since its mark
  tail -n +"$(($(< "$DIR/$1/log.mark") + 1))" "$DIR/$1/ovs-vswitchd.log" |
    grep -A1 'received: .*BUNDLE_CONTROL' | grep -c 'type=COMMIT' || true
}
changes() { # changes HOST: OpenFlow changes it logged since its mark, direct paths aside
  tail -n +"$(($(< "$DIR/$1/log.mark") + 1))" "$DIR/$1/ovs-vswitchd.log" |
    grep 'received: [A-Z]*_\(FLOW_MOD\|GROUP_MOD\|BUNDLE\)' | grep -vc 'cookie:0x5c0002' || true
}

lab down > /dev/null 2>&1 || true
lab up --hosts 3 --gateways 3 --clusters 2 --vpcs 2 --vms-per-host 2 > /dev/null 2>&1
lab start > /dev/null 2>&1
ovsdb-client transact "unix:$DIR/mgr/nb.sock" \
  '["Shortcut_Northbound", {"op": "update", "table": "NB_Global", "where": [],
    "row": {"min_cluster_members": 1}}]' > /dev/null
for k in $(mgr --json endpoint list --host host2 | python3 -c 'import json, sys
for e in json.load(sys.stdin).get("endpoints", []):
    if e["vpc"] == "vpc1": print(e["key"])'); do
  mgr endpoint delete "$k" > /dev/null
done
a=host1-vm1 b=host3-vm1
[ "$(vm "$a" vpc)" = 1 ] && [ "$(vm "$b" vpc)" = 1 ] || { echo "unexpected VM plan" >&2; exit 1; }
lab exec "$a" -- ping -c 3 -W 2 -q "$(vm "$b" ip)" > /dev/null
vni=$(mgr --json vpc show vpc1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["vni"])')
for h in host1 host2 host3; do
  ovs-appctl -t "$DIR/$h/ovs-vswitchd.ctl" vlog/set vconn:file:dbg > /dev/null
  # Every message logged: the rate limit (600 a minute) would hide some.
  ovs-appctl -t "$DIR/$h/ovs-vswitchd.ctl" vlog/disable-rate-limit vconn > /dev/null
done

echo "run  from->to  move_ms  pings_sent  pings_lost  changes(h1,h2,h3)  bundles(h1,h2,h3)"
to=2
for run in $(seq "$RUNS"); do
  from=$((3 - to))
  for h in host1 host2 host3; do wc -l < "$DIR/$h/ovs-vswitchd.log" > "$DIR/$h/log.mark"; done
  out=$DIR/ping-$run.txt
  lab exec "$a" -- ping -D -O -i 0.01 -c 1000 -W 1 "$(vm "$b" ip)" > "$out" 2>&1 &
  pinger=$!
  (for _ in $(seq 100); do
    for h in host1 host3; do
      $OF del-flows "$(br "$h")" "cookie=0x5c00020000000000/0xffffff0000000000,metadata=$vni" \
        2> /dev/null || true
    done
    sleep 0.1
  done) &
  flapper=$!
  sleep 2
  moved=$(mgr vpc move vpc1 --to "$to" --wait --timeout 30)
  wait "$pinger" || true
  wait "$flapper" || true
  ms=$(echo "$moved" | grep -o 'in [0-9]* ms' | grep -o '[0-9]*')
  read -r sent lost < <(python3 - "$out" << 'PY'
import re, sys
seen, last = set(), 0
for line in open(sys.argv[1]):
    m = re.search(r"icmp_seq=(\d+)", line)
    if not m: continue
    s = int(m.group(1)); last = max(last, s)
    if "bytes from" in line: seen.add(s)
print(last, sum(1 for s in range(1, last + 1) if s not in seen))
PY
  )
  sleep 1
  printf '%3d  %d->%d       %7s  %10s  %10s  %-17s  %s,%s,%s\n' "$run" "$from" "$to" "$ms" "$sent" \
    "$lost" "$(changes host1),$(changes host2),$(changes host3)" \
    "$(commits host1)" "$(commits host2)" "$(commits host3)"
  to=$from
done
for h in host1 host2 host3 gw1 gw2 gw3; do
  if grep -qi 'OFPERR' "$DIR/$h/ovs-vswitchd.log"; then
    echo "$h's ovs-vswitchd logged an OpenFlow error:" >&2
    grep -i 'OFPERR' "$DIR/$h/ovs-vswitchd.log" | head -3 >&2
  fi
done
