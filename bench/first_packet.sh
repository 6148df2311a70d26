#!/usr/bin/env bash
# First packets in a real lab: every VM pings every VM of its VPC on the
# other hosts once (the first packet of each flow crosses a gateway, which
# sets up the direct path both ways); then the gateways' setup times
# (packet-in to both hosts' barriers, `shortcutctl gateway paths`) and the
# round-trip time of first pings against later ones.
#   bench/first_packet.sh [HOSTS=3] [VMS_PER_HOST=8]
# Run as root after a build; uses its own lab (removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=${1:-3}
VMS=${2:-8}
BIN=$PWD/build/bin
export SHORTCUTCTL=$BIN/shortcutctl SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd
NAME=scbenchfp
DIR=/tmp/shortcut-lab-$NAME
lab() { "$BIN/shortcut-lab" "$1" --name "$NAME" --dir "$DIR" "${@:2}"; }
trap 'lab down > /dev/null 2>&1 || true' EXIT
lab up --hosts "$HOSTS" --gateways 2 --vpcs 1 --vms-per-host "$VMS" > /dev/null 2>&1
lab start > /dev/null 2>&1
python3 -c '
import json, sys
lab = json.load(open(sys.argv[1]))
for a in lab["vms"]:
    for b in lab["vms"]:
        if a["host"] != b["host"]:
            print(a["name"], b["ip"])' "$DIR/lab.json" > "$DIR/pairs.txt"
: > "$DIR/rtt.txt"
while read -r vm ip; do
  # Three pings 50 ms apart: the first crosses a gateway unless its reverse
  # flow already set the path up.
  lab exec "$vm" -- ping -c 3 -i 0.05 -W 2 "$ip" | sed -n 's/.*icmp_seq=\([0-9]*\).*time=\([0-9.]*\) ms/\1 \2/p' >> "$DIR/rtt.txt"
done < "$DIR/pairs.txt"
for g in gw1 gw2; do
  "$SHORTCUTCTL" gateway --server "unix:$DIR/$g/gatewayd.sock" --json paths
  "$SHORTCUTCTL" gateway --server "unix:$DIR/$g/gatewayd.sock" --json stats
done > "$DIR/gw.json"
python3 - "$DIR/rtt.txt" "$DIR/gw.json" "$(wc -l < "$DIR/pairs.txt")" <<'PY'
import json, statistics, sys
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))]
rtt = {}
for line in open(sys.argv[1]):
    seq, ms = line.split()
    rtt.setdefault(int(seq), []).append(float(ms) * 1000)
setups, merged, failures = [], 0, 0
for line in open(sys.argv[2]):
    o = json.loads(line)
    if "paths" in o:
        setups += [int(p["setup_us"]) for p in o["paths"] if not p.get("error")]
        failures += sum(1 for p in o["paths"] if p.get("error"))
    else:
        merged += int(o.get("direct_paths_merged", 0))
print("flows: %s (ordered VM pairs on different hosts), 3 pings each" % sys.argv[3])
print("direct-path setups: %d (failed %d), merged packet-ins %d" % (len(setups), failures, merged))
if setups:
    print("setup time, packet-in to both barriers: median %d us, p99 %d us, max %d us"
          % (statistics.median(setups), pct(setups, 99), max(setups)))
for seq in sorted(rtt):
    v = rtt[seq]
    print("ping %d RTT over %d flows: median %.0f us, p99 %.0f us, lost %d"
          % (seq, len(v), statistics.median(v), pct(v, 99), int(sys.argv[3]) - len(v)))
PY
