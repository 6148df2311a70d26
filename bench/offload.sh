#!/usr/bin/env bash
# Offload policies under a mix of many short flows and a few long ones:
# the host's table size, the gateways' load and first-packet latency.
#
# Lab: 2 hosts, gw1+gw2 (one cluster), 1 VPC with 21 VMs per host. Each
# run: two long flows (host1-vm4 -> host2-vm2 and host1-vm5 -> host2-vm3,
# 50 packets/s for 6 s) and, while they run, 60 short flows (host1-vm1..3
# each ping every one of 20 VMs on host2 once). Measured per policy:
#   - direct paths on host1 and host2 at the end (dump-flows);
#   - packets the gateways carried (their bridges' classify flow of the
#     VPC, n_packets before and after, both gateways);
#   - the short flows' first-packet round trips (ping's RTT), median and max;
#   - the long flows' lost packets.
# Policies: first-packet; threshold (20 packets in 1000 ms); first-packet
# with a budget of 4 direct paths per host (gatewayd's default).
# Every run starts with no direct path on either host.
#   bench/offload.sh [RUNS=1]
# Run as root after a build; uses its own lab (removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-1}
BIN=$PWD/build/bin
export SHORTCUTCTL=$BIN/shortcutctl SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd
export SHORTCUT_MANAGERD=$BIN/shortcut-managerd NB_SCHEMA=$PWD/schema/shortcut_nb.ovsschema
NAME=scbenchoff
DIR=/tmp/shortcut-lab-$NAME
OF="ovs-ofctl -O OpenFlow13"
LAB=$PWD/apps/shortcut-lab/shortcut-lab
lab() { "$LAB" "$1" --name "$NAME" --dir "$DIR" "${@:2}"; }
mgr() { SHORTCUT_MANAGER="unix:$DIR/mgr/managerd.sock" "$SHORTCUTCTL" "$@"; }
br() { echo "unix:$DIR/$1/br-int.mgmt"; }
trap 'lab down > /dev/null 2>&1 || true' EXIT
vm() {
  python3 -c 'import json, sys
for v in json.load(open(sys.argv[1]))["vms"]:
    if v["name"] == sys.argv[2]: print(v[sys.argv[3]])' "$DIR/lab.json" "$1" "$2"
}
direct() { $OF dump-flows "$(br "$1")" "table=20,cookie=0x5c00020000000000/0xffffff0000000000" | grep -c nw_dst || true; }
carried() { # packets the gateways' bridges classified for the VPC (VNI 101)
  local n=0 g
  for g in gw1 gw2; do
    n=$((n + $($OF dump-flows "$(br "$g")" "table=0,tun_id=0x65" | sed -n 's/.*n_packets=\([0-9]*\),.*/\1/p' | head -1)))
  done
  echo "$n"
}

up() { # up [start options]
  lab down > /dev/null 2>&1 || true
  lab up --hosts 2 --gateways 2 --vpcs 1 --vms-per-host 21 > /dev/null 2>&1
  lab start "$@" > /dev/null 2>&1
}

run() { # run LABEL
  local label=$1 before after long1 long2
  for h in host1 host2; do $OF del-flows "$(br "$h")" "table=20,cookie=0x5c00020000000000/0xffffff0000000000"; done
  sleep 2  # Counting flows and merge windows of the previous run idle out of the way.
  before=$(carried)
  lab exec host1-vm4 -- ping -c 300 -i 0.02 -W 2 -q "$(vm host2-vm2 ip)" > "$DIR/long1" 2>&1 &
  long1=$!
  lab exec host1-vm5 -- ping -c 300 -i 0.02 -W 2 -q "$(vm host2-vm3 ip)" > "$DIR/long2" 2>&1 &
  long2=$!
  : > "$DIR/rtts"
  for s in 1 2 3; do
    for j in $(seq 2 21); do
      lab exec "host1-vm$s" -- ping -c 1 -W 2 "$(vm "host2-vm$j" ip)" |
        sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' >> "$DIR/rtts"
    done
  done
  wait "$long1" "$long2"
  after=$(carried)
  local lost1 lost2
  lost1=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$DIR/long1")
  lost2=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$DIR/long2")
  python3 - "$label" "$(direct host1)" "$(direct host2)" "$((after - before))" \
    "$((600 - lost1 - lost2))" "$DIR/rtts" <<'PY'
import statistics, sys
label, d1, d2, carried, lost, path = sys.argv[1:7]
rtts = sorted(float(x) for x in open(path).read().split())
print(f"| {label} | {d1} | {d2} | {carried} | {len(rtts)}/60 | "
      f"{statistics.median(rtts):.2f} / {max(rtts):.2f} ms | {lost} of 600 |")
PY
}

echo "| policy | direct paths host1 | host2 | packets via gateways | short flows answered | first-packet RTT median / max | long flows lost |"
echo "|---|---|---|---|---|---|---|"
up
for _ in $(seq "$RUNS"); do
  mgr vpc update vpc1 --offload first-packet > /dev/null
  run first-packet
  mgr vpc update vpc1 --offload threshold --offload-packets 20 --offload-window-ms 1000 > /dev/null
  run "threshold 20 pkts / 1 s"
done
up --path-budget 4
for _ in $(seq "$RUNS"); do
  run "first-packet, budget 4"
done
