#!/usr/bin/env bash
# OVSDB benchmarks, Shortcut's client beside Open vSwitch's own tools on the
# same private ovsdb-server in the same run:
#   1. host init latency: `shortcutctl host init` (then reset) against the
#      same change made by one `ovs-vsctl` command; both wait for
#      ovs-vswitchd to apply it. ROUNDS rounds each.
#   2. with ovs-vswitchd stopped, 10,000 Interface rows (each on a Port of
#      one bridge), then bench/ovsdb_client_bench.cc: initial monitor time
#      and replica memory, per-change latency, small-insert throughput;
#      beside `ovsdb-client dump` of the same table and one-process-per-
#      insert `ovsdb-client transact`.
# Usage: bench/ovsdb.sh [ROUNDS [INTERFACES]] (defaults 10 10000). Needs a
# built tree (scripts/build) and root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=${1:-10}
ifaces=${2:-10000}
# shellcheck source=scripts/lib/ovs.sh
source scripts/lib/ovs.sh
ctl=$root/build/bin/shortcutctl
bench=$root/build/bin/ovsdb_client_bench
if [ ! -x "$ctl" ] || [ ! -x "$bench" ]; then
  echo "build first: scripts/build" >&2
  exit 1
fi

ovs_sweep shortcut-bench
dir=$(mktemp -d /tmp/shortcut-bench.XXXXXX)
echo $$ > "$dir/owner.pid"
trap 'ovs_stop "$dir"; rm -rf "$dir"' EXIT
ovs_start "$dir"
db=unix:$dir/db.sock
vsctl() { ovs-vsctl --db="$db" --timeout=30 "$@"; }
now_us() { echo $(($(date +%s%N) / 1000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== host init: $rounds rounds each (ms, process start to exit)"
for _ in $(seq "$rounds"); do
  t0=$(now_us)
  "$ctl" host init --db "$db" --tunnel-ip 192.0.2.1 --datapath-type netdev >/dev/null
  t1=$(now_us)
  "$ctl" host reset --db "$db" >/dev/null
  t2=$(now_us)
  vsctl add-br br-int -- set Bridge br-int fail_mode=secure protocols=OpenFlow13,OpenFlow15 \
    datapath_type=netdev other_config:disable-in-band=true \
    other_config:datapath-id=5c000000c0000201 -- add-port br-int sc-tun -- set Interface sc-tun \
    type=vxlan options:remote_ip=flow options:key=flow options:local_ip=192.0.2.1 \
    ofport_request=60000 -- set-controller br-int ptcp:6653
  t3=$(now_us)
  vsctl del-br br-int
  echo "$(((t1 - t0) / 1000)).$((((t1 - t0) % 1000) / 100)) $(((t3 - t2) / 1000)).$((((t3 - t2) % 1000) / 100))" >> "$dir/init.txt"
done
echo "shortcutctl host init: median $(cut -d' ' -f1 "$dir/init.txt" | median) ms;" \
  "ovs-vsctl: median $(cut -d' ' -f2 "$dir/init.txt" | median) ms"
echo "(per round: $(tr '\n' ',' < "$dir/init.txt" | sed 's/,$//'))"

echo "== $ifaces Interface rows (ovs-vswitchd stopped)"
kill -9 "$(cat "$dir/ovs-vswitchd.pid")"
# One bridge holding the rows (ports and interfaces are garbage-collected
# unless a bridge refers to them), filled in transactions of 200 rows: one
# argument of ovsdb-client may not exceed 128 KiB.
ovsdb-client transact "$db" '["Open_vSwitch",
  {"op": "insert", "table": "Bridge", "uuid-name": "b", "row": {"name": "br-bench"}},
  {"op": "mutate", "table": "Open_vSwitch", "where": [],
   "mutations": [["bridges", "insert", ["set", [["named-uuid", "b"]]]]]}]' > /dev/null
python3 - "$ifaces" "$dir" <<'PY'
import json, sys
n, d = int(sys.argv[1]), sys.argv[2]
for start in range(0, n, 200):
    ops, ports = ["Open_vSwitch"], []
    for i in range(start, min(n, start + 200)):
        mac = "02:00:00:%02x:%02x:%02x" % (i >> 16 & 255, i >> 8 & 255, i & 255)
        ops.append({"op": "insert", "table": "Interface", "uuid-name": f"i{i}",
                    "row": {"name": f"iface{i}", "type": "internal",
                            "external_ids": ["map", [["iface-id", f"vm-{i}"], ["attached-mac", mac]]]}})
        ops.append({"op": "insert", "table": "Port", "uuid-name": f"p{i}",
                    "row": {"name": f"iface{i}", "interfaces": ["named-uuid", f"i{i}"]}})
        ports.append(["named-uuid", f"p{i}"])
    ops.append({"op": "mutate", "table": "Bridge", "where": [["name", "==", "br-bench"]],
                "mutations": [["ports", "insert", ["set", ports]]]})
    open(f"{d}/fill.{start // 200:05d}.json", "w").write(json.dumps(ops))
PY
for f in "$dir"/fill.*.json; do
  ovsdb-client transact "$db" "$(cat "$f")" > /dev/null
done
"$bench" --db "$db" --changes 1000 --inserts 10000
t0=$(now_us)
ovsdb-client dump "$db" Open_vSwitch Interface name type ofport external_ids > /dev/null
t1=$(now_us)
echo "ovsdb-client dump of the same Interface columns: $(((t1 - t0) / 1000)) ms"
n=200
t0=$(now_us)
for i in $(seq "$n"); do
  ovsdb-client transact "$db" "[\"Open_vSwitch\",{\"op\":\"insert\",\"table\":\"QoS\",\"row\":{\"type\":\"cli$i\"}}]" > /dev/null
done
t1=$(now_us)
echo "ovsdb-client transact, one process per insert: $n in $(((t1 - t0) / 1000)) ms" \
  "($((n * 1000000 / (t1 - t0)))/s)"
