#!/usr/bin/env bash
# API floods against the lab's daemons while VMs talk: what the floods get
# (calls by status code), what the daemons' memory does, and whether the
# packet path notices.
#
# Lab: 2 hosts, gw1+gw2 (one cluster), 1 VPC with 3 VMs per host. An
# established flow (host1-vm1 -> host2-vm1, on its direct path) pings at
# 50/s through every flood; during each flood host1-vm2 and host1-vm3 start
# new flows toward host2's VMs (first packets through the gateways).
# Floods (build/bin/api_flood_bench; every client a connection of its own):
#   1. gw1 GetStats        CLIENTS clients x 2 outstanding, 15 s
#   2. managerd ListEndpoints  CLIENTS clients x 2 outstanding, 15 s
#   3. gw1 UpdateEndpoint with bytes that are no protobuf, 500 clients, 10 s
#   4. managerd CreateEndpoint with an 80 MiB request (above
#      max_message_bytes), 4 clients, 12 calls
# Measured per flood: calls by gRPC code, OK latency p50/p99, the flooded
# daemon's VmRSS before, highest during (sampled every 0.2 s) and 5 s
# after, pings lost on the established flow, new flows answered and their
# first RTT.
#   bench/api_flood.sh [CLIENTS=2000]
# Run as root after a build; uses its own lab (removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-2000}
NAME=scbenchflood
source bench/lib/lab.sh
FLOOD=$BIN/api_flood_bench

# Every flood client is a file descriptor here and a connection there: the
# daemons started below inherit this limit (as high as this machine allows).
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=65536
ulimit -n "$((hard < 65536 ? hard : 65536))"
if ((CLIENTS + 1000 > $(ulimit -n))); then
  echo "api_flood: $CLIENTS clients need more than $(ulimit -n) open files" >&2
  exit 1
fi
lab down > /dev/null 2>&1 || true
lab up --hosts 2 --gateways 2 --vpcs 1 --vms-per-host 3 > /dev/null
lab start > /dev/null
GW_PID=$(cat "$DIR/gw1/gatewayd.pid")
MGR_PID=$(cat "$DIR/mgr/managerd.pid")
lab exec host1-vm1 -- ping -c 3 -W 2 -q "$(vm host2-vm1 ip)" > /dev/null  # Its direct path.

flood() { # flood LABEL PID SECONDS FLOOD-ARGS...
  local label=$1 pid=$2 seconds=$3 before peak after out ping_pid new=0 rtt=""
  shift 3
  before=$(rss "$pid")
  lab exec host1-vm1 -- ping -c $((seconds * 50 + 100)) -i 0.02 -W 2 -q "$(vm host2-vm1 ip)" \
    > "$DIR/established" 2>&1 &
  ping_pid=$!
  "$FLOOD" --seconds "$seconds" "$@" > "$DIR/flood.json" &
  local flood_pid=$! t0=$SECONDS
  peak=$before
  : > "$DIR/rtts"
  while kill -0 "$flood_pid" 2> /dev/null; do
    local now
    now=$(rss "$pid")
    ((now > peak)) && peak=$now
    if ((SECONDS - t0 >= 2 && new < 4)); then
      # A new flow: host1-vm2/vm3 toward host2-vm2/vm3, first packet via a gateway.
      local src=host1-vm$((2 + new % 2)) dst=host2-vm$((2 + new / 2))
      lab exec "$src" -- ping -c 1 -W 2 "$(vm "$dst" ip)" |
        sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' >> "$DIR/rtts" || true
      new=$((new + 1))
    fi
    sleep 0.2
  done
  wait "$flood_pid"
  wait "$ping_pid" || true
  sleep 5
  after=$(rss "$pid")
  python3 - "$label" "$before" "$peak" "$after" "$DIR/established" "$DIR/rtts" "$DIR/flood.json" <<'PY'
import json, re, sys
label, before, peak, after, established, rtts, flood = sys.argv[1:8]
f = json.load(open(flood))
names = {0: "OK", 1: "CANCELLED", 4: "DEADLINE_EXCEEDED", 8: "RESOURCE_EXHAUSTED",
         13: "INTERNAL", 14: "UNAVAILABLE"}
codes = ", ".join(f"{names.get(int(c), c)} {n}" for c, n in f["codes"].items())
m = re.search(r"(\d+) packets transmitted, (\d+) received", open(established).read())
lost = f"{int(m.group(1)) - int(m.group(2))} of {m.group(1)}" if m else "?"
r = [float(x) for x in open(rtts).read().split()]
print(f"| {label} | {f['calls']} in {f['seconds']:.1f} s | {codes} | "
      f"{f['ok_p50_ms']:.1f} / {f['ok_p99_ms']:.1f} ms | "
      f"{int(before)//1024} / {int(peak)//1024} / {int(after)//1024} MiB | {lost} | "
      f"{len(r)}/4, {max(r) if r else 0:.2f} ms |")
for c, msg in f["messages"].items():
    if msg:
        print(f"|   | {names.get(int(c), c)}: {msg[:110]} | | | | | |")
PY
  # New flows of the next flood start with no direct path.
  for h in host1 host2; do
    ovs-ofctl -O OpenFlow13 del-flows "unix:$DIR/$h/br-int.mgmt" \
      "table=20,cookie=0x5c00020000000000/0xffffff0000000000"
  done
  lab exec host1-vm1 -- ping -c 2 -W 2 -q "$(vm host2-vm1 ip)" > /dev/null || true
}

GW=unix:$DIR/gw1/gatewayd.sock
MGR=unix:$DIR/mgr/managerd.sock
echo "| flood | calls | by code | OK p50 / p99 | RSS before / peak / after | established pings lost | new flows, worst first RTT |"
echo "|---|---|---|---|---|---|---|"
flood "gw1 GetStats x$CLIENTS" "$GW_PID" 15 --target "$GW" \
  --method /shortcut.gateway.v1.Gateway/GetStats --clients "$CLIENTS" --outstanding 2 --calls 2000000
flood "managerd ListEndpoints x$CLIENTS" "$MGR_PID" 15 --target "$MGR" \
  --method /shortcut.manager.v1.Manager/ListEndpoints --clients "$CLIENTS" --outstanding 2 \
  --calls 2000000
flood "gw1 UpdateEndpoint garbage x500" "$GW_PID" 10 --target "$GW" \
  --method /shortcut.gateway.v1.Gateway/UpdateEndpoint --clients 500 --payload garbage \
  --calls 2000000
flood "managerd CreateEndpoint 80 MiB x4" "$MGR_PID" 20 --target "$MGR" \
  --method /shortcut.manager.v1.Manager/CreateEndpoint --clients 4 --outstanding 1 --calls 12 \
  --payload big --big-bytes $((80 << 20)) --deadline-ms 15000
echo
echo "gw1 gatewayd and managerd still running: $(kill -0 "$GW_PID" && kill -0 "$MGR_PID" && echo yes)"
lab exec host1-vm1 -- ping -c 3 -W 2 -q "$(vm host2-vm3 ip)" | tail -2
