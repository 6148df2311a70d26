#!/usr/bin/env bash
# Gateway loss: how long traffic through a gateway cluster is interrupted
# when the gateway carrying it dies (kill -9 of its ovs-vswitchd), with no
# controller involved: the hosts' BFD sessions to it go down and their
# select groups' buckets toward it go dead (watch_port).
#
# Lab: 2 hosts, 2 gateways. Both shortcut-gatewayd processes are stopped
# after start (their data planes keep forwarding; no direct path is set up),
# so host1-vm1's pings to host2-vm1 every 10 ms cross the gateways. The
# gateway that forwards them is killed; the longest gap between replies is
# the interruption.
#   bench/gateway_loss.sh [RUNS=3]
# Run as root after a build; uses its own lab (removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
BIN=$PWD/build/bin
export SHORTCUTCTL=$BIN/shortcutctl SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd
NAME=scbenchgl
DIR=/tmp/shortcut-lab-$NAME
lab() { "$BIN/shortcut-lab" "$1" --name "$NAME" --dir "$DIR" "${@:2}"; }
trap 'lab down > /dev/null 2>&1 || true' EXIT
forwarded() {  # forwarded GW: packets its bridge forwarded toward 10.0.0.11
  ovs-ofctl -O OpenFlow13 dump-flows "unix:$DIR/$1/br-int.mgmt" 'table=20,ip,nw_dst=10.0.0.11' |
    sed -n 's/.*n_packets=\([0-9]*\).*/\1/p' | head -1
}
for run in $(seq "$RUNS"); do
  lab up --hosts 2 --gateways 2 --vpcs 1 --vms-per-host 1 > /dev/null 2>&1
  lab start > /dev/null 2>&1
  kill -9 "$(< "$DIR/gw1/gatewayd.pid")" "$(< "$DIR/gw2/gatewayd.pid")"
  lab exec host1-vm1 -- ping -D -i 0.01 -w 4 -W 1 10.0.0.11 > "$DIR/ping.txt" 2>&1 &
  ping_pid=$!
  sleep 1.5
  a=$(forwarded gw1) b=$(forwarded gw2)
  victim=gw1
  [ "${b:-0}" -le "${a:-0}" ] || victim=gw2
  kill -9 "$(< "$DIR/$victim/ovs-vswitchd.pid")"
  wait "$ping_pid" || true
  python3 - "$DIR/ping.txt" "$run" "$victim" <<'PY'
import re, sys
times = {}
for line in open(sys.argv[1]):
    m = re.match(r"\[([0-9.]+)\].*icmp_seq=(\d+)", line)
    if m:
        times[int(m.group(2))] = float(m.group(1))
seqs = sorted(times)
gap = max(times[b] - times[a] for a, b in zip(seqs, seqs[1:]))
sent = seqs[-1] if seqs else 0
print("run %s: killed %s; %d replies of about %d pings; longest gap between replies %.0f ms"
      % (sys.argv[2], sys.argv[3], len(seqs), sent, gap * 1000))
PY
  lab down > /dev/null 2>&1
done
