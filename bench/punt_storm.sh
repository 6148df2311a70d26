#!/usr/bin/env bash
# A punt storm: one VM sends to N destinations that exist and N that do not,
# as fast as one core sends (or at PPS packets/s), while established flows
# run and new ones start.
#
# Lab: 2 hosts, gw1+gw2 (one cluster), 1 VPC with 4 VMs per host, plus a
# network 10.8.0.0/14 holding N endpoints on host2 (bulk-loaded through
# managerd; their ports never appear, so host2 drops what reaches them).
# During STORM seconds, host1-vm2 sends UDP to 10.8.0.1.. (N that exist)
# and 10.10.0.1.. (N that do not), interleaved, round after round
# (bench/lib/udp_storm.py); host1-vm1 -> host2-vm1, on its direct path,
# pings at 50/s throughout; every 3 s a new flow starts (host1-vm1/3/4 ->
# host2-vm2/3/4, its first packet through the gateways). Measured: the
# storm's packets sent; per gateway the packet-ins received, shed by the
# daemon, missed (no endpoint) and the direct paths installed, and the
# packets the bridge's meter dropped and the packet-ins its switch dropped
# because its queue toward gatewayd was full (coverage rconn_overflow);
# gatewayd's VmRSS before, highest during and 5 s after; what host1's
# switch took in and the upcalls its datapath lost; direct paths on host1;
# established pings lost; new flows answered and their first RTT.
# With PROFILE=1, host1's ovs-vswitchd is sampled with `perf record -g`
# for the middle of the storm, and its time is printed by thread and by
# function (where the packets of the established flow wait).
#   bench/punt_storm.sh [N=100000] [STORM=20] [PPS=0 (unpaced)]
# Run as root after a build; uses its own lab (removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
STORM=${2:-20}
PPS=${3:-0}
NAME=scbenchstorm
source bench/lib/lab.sh
stats() { gw "$1" --json stats > "$DIR/$1.$2.json"; }
meter_drops() { # packets dropped by the bands of the gateway bridge's meters
  $OF meter-stats "$(br "$1")" | sed -n 's/^[0-9]*: packet_count:\([0-9]*\).*/\1/p' |
    awk '{s += $1} END {print s + 0}'
}
overflow() { # packet-ins the gateway's switch dropped: its queue toward gatewayd was full
  ovs-appctl -t "$DIR/$1/ovs-vswitchd.ctl" coverage/read-counter rconn_overflow
}
drops() { # NODE: OVS's drop counters (coverage: datapath_drop_*, drop_action_*), NAME=N per line
  ovs-appctl -t "$DIR/$1/ovs-vswitchd.ctl" coverage/show |
    awk '/^(datapath_drop|drop_action)/ && /total:/ {print $1 "=" $NF}'
}
iface_stat() { # NODE CONDITION COUNTER: an interface's counter, from the node's OVSDB
  ovs-vsctl --db="unix:$DIR/$1/db.sock" --bare --columns=statistics find Interface "$2" |
    tr ' ' '\n' | sed -n "s/^$3=//p"
}
received() { # packets host1's switch took in from the storming VM's port, sent to the
  # underlay, and the gateways' switches took in from it
  echo "$(iface_stat host1 external_ids:iface-id=host1-vm2 rx_packets)" \
    "$(iface_stat host1 name=eth-ul tx_packets)" \
    "$(iface_stat host1 name=eth-ul tx_dropped)" "$(iface_stat gw1 name=eth-ul rx_packets)" \
    "$(iface_stat gw2 name=eth-ul rx_packets)"
}
lost_upcalls() { # packets host1's datapath dropped for want of an upcall handler
  ovs-appctl -t "$DIR/host1/ovs-vswitchd.ctl" dpctl/show | sed -n 's/.*lost:\([0-9]*\).*/\1/p' |
    awk '{s += $1} END {print s + 0}'
}

lab down > /dev/null 2>&1 || true
lab up --hosts 2 --gateways 2 --vpcs 1 --vms-per-host 4 > /dev/null
lab start > /dev/null
mgr network create vpc1 storm --ipv4 10.8.0.0/14 > /dev/null
python3 - "$N" > "$DIR/storm.json" <<'PY'
import ipaddress, json, sys
n = int(sys.argv[1])
base = int(ipaddress.IPv4Address("10.8.0.1"))
json.dump({"endpoints": [{"key": "storm%d" % i, "vpc": "vpc1", "network": "storm",
                          "ipv4": str(ipaddress.IPv4Address(base + i)),
                          "mac": "02:5e:%02x:%02x:%02x:%02x" % (i >> 24, (i >> 16) & 255,
                                                                (i >> 8) & 255, i & 255),
                          "host": "host2", "ifaceId": "storm%d" % i} for i in range(n)]},
          sys.stdout)
PY
mgr endpoint load "$DIR/storm.json" > /dev/null
for _ in $(seq 300); do
  n=$(gw gw1 --json stats | python3 -c 'import json, sys; print(json.load(sys.stdin).get("endpoints", 0))')
  [ "$n" -lt "$N" ] || break
  sleep 0.2
done
lab exec host1-vm1 -- ping -c 3 -W 2 -q "$(vm host2-vm1 ip)" > /dev/null  # Its direct path.
cp bench/lib/udp_storm.py "$DIR/udp_storm.py"

declare -A PID BEFORE PEAK
for g in gw1 gw2; do
  PID[$g]=$(cat "$DIR/$g/gatewayd.pid")
  BEFORE[$g]=$(rss "${PID[$g]}")
  PEAK[$g]=${BEFORE[$g]}
  stats "$g" before
  echo "$(meter_drops "$g")" > "$DIR/$g.meter.before"
  overflow "$g" > "$DIR/$g.overflow.before"
done
received > "$DIR/host1.rx.before"
ovs-appctl -t "$DIR/host1/ovs-vswitchd.ctl" dpif-netdev/pmd-stats-clear > /dev/null
for node in host1 gw1 gw2; do drops "$node" > "$DIR/$node.drops.before"; done
lost_upcalls > "$DIR/host1.lost.before"
lab exec host1-vm1 -- ping -c $((STORM * 50 + 250)) -i 0.02 -W 2 -q "$(vm host2-vm1 ip)" \
  > "$DIR/established" 2>&1 &
ping_pid=$!
sleep 1
lab exec host1-vm2 -- python3 "$DIR/udp_storm.py" --range "10.8.0.1:$N" --range "10.10.0.1:$N" \
  --seconds "$STORM" --pps "$PPS" --packets 20000000 > "$DIR/storm.out" &
storm_pid=$!
if [ "${PROFILE:-0}" = 1 ]; then
  perf record -q -F 499 -g -p "$(cat "$DIR/host1/ovs-vswitchd.pid")" -o "$DIR/host1.perf" \
    -- sleep $((STORM / 2)) > /dev/null 2>&1 &
fi
pairs=("host1-vm1 host2-vm2" "host1-vm3 host2-vm3" "host1-vm4 host2-vm4" "host1-vm3 host2-vm2"
  "host1-vm4 host2-vm3" "host1-vm1 host2-vm4")
: > "$DIR/rtts"
t0=$SECONDS
next=0
while kill -0 "$storm_pid" 2> /dev/null; do
  for g in gw1 gw2; do
    now=$(rss "${PID[$g]}")
    ((now > PEAK[$g])) && PEAK[$g]=$now
  done
  if ((SECONDS - t0 >= 3 * (next + 1) && next < ${#pairs[@]})); then
    read -r src dst <<< "${pairs[$next]}"
    rtt=$(lab exec "$src" -- ping -c 1 -W 2 "$(vm "$dst" ip)" |
      sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' || true)
    echo "${rtt:-lost}" >> "$DIR/rtts"
    next=$((next + 1))
  fi
  sleep 0.2
done
wait "$storm_pid"
wait "$ping_pid" || true
sleep 5
for g in gw1 gw2; do
  stats "$g" after
  echo "$(meter_drops "$g")" > "$DIR/$g.meter.after"
  overflow "$g" > "$DIR/$g.overflow.after"
  echo "$(rss "${PID[$g]}")" > "$DIR/$g.rss.after"
done
received > "$DIR/host1.rx.after"
# What host1's datapath threads read and how many of those were upcalls.
ovs-appctl -t "$DIR/host1/ovs-vswitchd.ctl" dpif-netdev/pmd-stats-show |
  awk -F: '/packets received/ {r += $2} /miss with success upcall/ {u += $2}
    END {print r + 0, u + 0}' > "$DIR/host1.pmd"
for node in host1 gw1 gw2; do drops "$node" > "$DIR/$node.drops.after"; done
lost_upcalls > "$DIR/host1.lost.after"
direct1=$($OF dump-flows "$(br host1)" "table=20,cookie=0x5c00020000000000/0xffffff0000000000" | grep -c nw_dst || true)
python3 - "$DIR" "$N" "$STORM" "${BEFORE[gw1]}" "${PEAK[gw1]}" "${BEFORE[gw2]}" "${PEAK[gw2]}" \
  "$direct1" <<'PY'
import json, re, sys
d, n, storm, b1, p1, b2, p2, direct1 = sys.argv[1:9]
s = json.loads(open(d + "/storm.out").read())
num = lambda name: int(open(f"{d}/{name}").read() or 0)
rx = [int(z) - int(a) for a, z in zip(open(f"{d}/host1.rx.before").read().split(),
                                       open(f"{d}/host1.rx.after").read().split())]
pmd = open(f"{d}/host1.pmd").read().split()
print(f"storm: {s['sent']} packets sent in {s['seconds']} s ({s['pps']}/s, {s['errors']} send "
      f"errors) to {n} existing + {n} absent destinations; {rx[0]} arrived at host1's port, "
      f"its datapath read {pmd[0]} packets in all ({pmd[1]} of them upcalls) "
      f"and sent {rx[1]} to the underlay ({rx[2]} dropped on sending; its datapath lost "
      f"{num('host1.lost.after') - num('host1.lost.before')} upcalls); the gateways' switches "
      f"took in {rx[3]} + {rx[4]}")
print("| gateway | packet-ins | shed by gatewayd | lookup misses | direct paths installed | "
      "meter drops | dropped by OVS, queue full | gatewayd RSS before / peak / after |")
print("|---|---|---|---|---|---|---|---|")
for g, before, peak in (("gw1", b1, p1), ("gw2", b2, p2)):
    a = json.load(open(f"{d}/{g}.before.json"))
    z = json.load(open(f"{d}/{g}.after.json"))
    delta = lambda k: int(z.get(k, 0)) - int(a.get(k, 0))
    m = int(open(f"{d}/{g}.meter.after").read()) - int(open(f"{d}/{g}.meter.before").read())
    after = int(open(f"{d}/{g}.rss.after").read())
    print(f"| {g} | {delta('packet_ins')} | {delta('packet_ins_shed')} | {delta('lookup_misses')} | "
          f"{delta('direct_paths_installed')} | {m} | "
          f"{num(g + '.overflow.after') - num(g + '.overflow.before')} | "
          f"{int(before)//1024} / {int(peak)//1024} / {after//1024} MiB |")
m = re.search(r"(\d+) packets transmitted, (\d+) received", open(d + "/established").read())
print(f"established flow: {int(m.group(1)) - int(m.group(2))} of {m.group(1)} pings lost")
tries = open(d + "/rtts").read().split()
r = [float(x) for x in tries if x != "lost"]
print(f"new flows during the storm: {len(r)}/{len(tries)} answered, first RTTs "
      + ", ".join(f"{x:.2f}" for x in r) + " ms")
print(f"direct paths on host1 after: {direct1}")
def counters(path):
    return {k: int(v) for k, v in (line.split("=") for line in open(path).read().split())}
for node in ("host1", "gw1", "gw2"):
    a, z = counters(f"{d}/{node}.drops.before"), counters(f"{d}/{node}.drops.after")
    moved = {k: z[k] - a.get(k, 0) for k in z if z[k] != a.get(k, 0)}
    print(f"OVS drop counters on {node} during the storm: "
          + (", ".join(f"{k} {v}" for k, v in sorted(moved.items())) or "none"))
PY
if [ "${PROFILE:-0}" = 1 ] && [ -s "$DIR/host1.perf" ]; then
  # awk, not head: head's early exit would fail the pipe (pipefail).
  echo "host1's ovs-vswitchd during the storm, by thread (share of samples):"
  perf report -i "$DIR/host1.perf" --no-children --sort comm --stdio -g none 2> /dev/null |
    awk '/^ +[0-9]/ && n++ < 8'
  echo "by thread and library (top 12):"
  perf report -i "$DIR/host1.perf" --no-children --sort comm,dso --stdio -g none 2> /dev/null |
    awk '/^ +[0-9]/ && n++ < 12'
  echo "by function (top 15):"
  perf report -i "$DIR/host1.perf" --no-children --sort comm,sym --stdio -g none 2> /dev/null |
    awk '/^ +[0-9]/ && n++ < 15'
fi
