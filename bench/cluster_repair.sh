#!/usr/bin/env bash
# Cluster repair: how long after a gateway's death shortcut-managerd takes
# it out of its cluster's buckets and the hosts' groups are rewritten, and
# how many OpenFlow changes each host receives for it.
#
# Lab: 3 hosts, gw1+gw2 in cluster 1 (vpc1), gw3 in cluster 2 (vpc2); VMs
# of both VPCs on host1 and host2, host3 holds only vpc2's (its vpc1 VM is
# deleted), so host3 is outside cluster 1. Each run kills gw1's daemon
# (kill -9), waits until managerd says gw1 is JOINING, then restarts it and
# waits until it serves again. Times come from the daemons' own logs:
# managerd's decision line and the first bundle each host's ovs-vswitchd
# logged as received (vconn debug log), against the kill's time.
#   bench/cluster_repair.sh [RUNS=5] [DEADLINE_MS=1500]
# Run as root after a build; uses its own lab (removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
DEADLINE=${2:-1500}
BIN=$PWD/build/bin
export SHORTCUTCTL=$BIN/shortcutctl SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd
export SHORTCUT_MANAGERD=$BIN/shortcut-managerd
NAME=scbenchcr
DIR=/tmp/shortcut-lab-$NAME
lab() { "$BIN/shortcut-lab" "$1" --name "$NAME" --dir "$DIR" "${@:2}"; }
mgr() { SHORTCUT_MANAGER="unix:$DIR/mgr/managerd.sock" "$SHORTCUTCTL" "$@"; }
trap 'lab down > /dev/null 2>&1 || true' EXIT
wait_for() { # wait_for SECONDS COMMAND...
  local end=$((SECONDS + $1))
  while ! "${@:2}"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.05
  done
}
role_is() {
  [ "$(mgr --json gw show "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["role"])')" = "GATEWAY_ROLE_$2" ]
}

lab down > /dev/null 2>&1 || true
lab up --hosts 3 --gateways 3 --clusters 2 --vpcs 2 --vms-per-host 2 > /dev/null 2>&1
lab start > /dev/null 2>&1
ovsdb-client transact "unix:$DIR/mgr/nb.sock" \
  "[\"Shortcut_Northbound\", {\"op\": \"update\", \"table\": \"NB_Global\", \"where\": [],
    \"row\": {\"min_cluster_members\": 1, \"health_deadline_ms\": $DEADLINE}}]" > /dev/null
for k in $(mgr --json endpoint list --host host3 | python3 -c 'import json, sys
for e in json.load(sys.stdin).get("endpoints", []):
    if e["vpc"] == "vpc1": print(e["key"])'); do
  mgr endpoint delete "$k" > /dev/null
done
sleep 2
for h in host1 host2 host3; do
  ovs-appctl -t "$DIR/$h/ovs-vswitchd.ctl" vlog/set vconn:file:dbg > /dev/null
  # Every message logged: the rate limit (600 a minute) would hide some.
  ovs-appctl -t "$DIR/$h/ovs-vswitchd.ctl" vlog/disable-rate-limit vconn > /dev/null
done

echo "run  decision_ms  after_deadline_ms  hosts_rewritten_ms(h1,h2)  changes(h1,h2,h3)"
for run in $(seq "$RUNS"); do
  t0=$(date +%s%3N)
  kill -9 "$(< "$DIR/gw1/gatewayd.pid")"
  wait_for 20 role_is gw1 JOINING
  sleep 2
  python3 - "$DIR" "$t0" "$run" "$DEADLINE" << 'PY'
import datetime, re, sys
d, t0, run, deadline = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def ms(stamp, fmt):
    t = datetime.datetime.strptime(stamp, fmt).replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp() * 1000)
decision = None
for line in open(d + "/mgr/managerd.log"):
    m = re.match(r"\[(\S+ \S+)\].*take gateway gw1 out of cluster 1's buckets", line)
    if m and ms(m.group(1), "%Y-%m-%d %H:%M:%S.%f") >= t0:
        decision = ms(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
        break
first, changes = {}, {}
for h in ("host1", "host2", "host3"):
    n = 0
    for line in open("%s/%s/ovs-vswitchd.log" % (d, h)):
        m = re.match(r"(\S+)Z\|.*\|vconn\|DBG\|.*received: [A-Z]*_(FLOW_MOD|GROUP_MOD|BUNDLE)", line)
        if not m: continue
        t = ms(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
        if t < t0: continue
        n += 1
        first.setdefault(h, t)
    changes[h] = n
dec = decision - t0 if decision else -1
rew = ",".join(str(first[h] - t0) if h in first else "-" for h in ("host1", "host2"))
print("%-4s %-12d %-18d %-26s %d,%d,%d" % (run, dec, dec - deadline, rew,
      changes["host1"], changes["host2"], changes["host3"]))
PY
  ip netns exec "$NAME-gw1" setsid "$SHORTCUT_GATEWAYD" --config "$DIR/gw1/gatewayd.json" \
    >> "$DIR/gw1/gatewayd.log" 2>&1 < /dev/null &
  echo $! > "$DIR/gw1/gatewayd.pid"
  disown
  wait_for 60 role_is gw1 SERVING
  sleep 2
done
