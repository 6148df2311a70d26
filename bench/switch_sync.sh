#!/usr/bin/env bash
# Switch sync benchmark: N flows into an empty bridge, then a change of 10% of
# them, by `shortcutctl switch sync` and by `ovs-ofctl --bundle replace-flows`
# on the same files, the same private Open vSwitch bridge, in the same run,
# alternating, ROUNDS times each. Prints one line per measurement and the
# medians. Usage: bench/switch_sync.sh [FLOWS [ROUNDS]] (defaults 100000 5).
# Needs a built tree (scripts/build) and root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
flows=${1:-100000}
rounds=${2:-5}
# shellcheck source=scripts/lib/ovs.sh
source scripts/lib/ovs.sh
ctl=$root/build/bin/shortcutctl
[ -x "$ctl" ] || { echo "build first: scripts/build" >&2; exit 1; }

ovs_sweep shortcut-bench
dir=$(mktemp -d /tmp/shortcut-bench.XXXXXX)
echo $$ > "$dir/owner.pid"
trap 'ovs_stop "$dir"; rm -rf "$dir"' EXIT
ovs_start "$dir" br0
target=unix:$dir/br0.mgmt

# Direct-path-like flows: VNI + destination IP -> tunnel to a host.
python3 - "$flows" "$dir" <<'PY'
import sys
n, d = int(sys.argv[1]), sys.argv[2]
def flow(i, port):
    a = 10 << 24 | i
    vni = i % 50 + 1
    return (f"table=20,priority=100,cookie=0x5c00000000000003,tun_id={vni:#x},ip,"
            f"nw_dst={a>>24&255}.{a>>16&255}.{a>>8&255}.{a&255},"
            f"actions=set_field:192.168.{i>>8&255}.{i&255}->tun_dst,"
            f"set_field:{vni:#x}->tun_id,output:{port}")
base = [flow(i, 10) for i in range(n)]
changed = [flow(i, 11) if i % 10 == 0 else base[i] for i in range(n)]
for name, lines in (("a", base), ("b", changed)):
    open(f"{d}/{name}.ofctl", "w").write("\n".join(lines) + "\n")
    open(f"{d}/{name}.sw", "w").write("".join("flow " + l + "\n" for l in lines))
PY

now_ms() { date +%s%3N; }
timed() {  # timed LABEL CMD...: prints "LABEL ms"
  local label=$1 t0 t1
  shift
  t0=$(now_ms)
  "$@" > "$dir/last.out"
  t1=$(now_ms)
  echo "$label $((t1 - t0))"
}
count() { ovs-ofctl -O OpenFlow13 dump-aggregate "$target" | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p'; }
check() {  # check EXPECTED: the bridge holds EXPECTED flows
  local c
  c=$(count)
  [ "$c" = "$1" ] || { echo "expected $1 flows, switch has $c" >&2; exit 1; }
}

results=$dir/results
: > "$results"
for r in $(seq "$rounds"); do
  ovs-ofctl -O OpenFlow13 del-flows "$target"
  timed ovs-ofctl.initial ovs-ofctl -O OpenFlow13 --bundle replace-flows "$target" "$dir/a.ofctl" >> "$results"
  check "$flows"
  timed ovs-ofctl.change ovs-ofctl -O OpenFlow13 --bundle replace-flows "$target" "$dir/b.ofctl" >> "$results"
  check "$flows"
  ovs-ofctl -O OpenFlow13 del-flows "$target"
  timed shortcutctl.initial "$ctl" switch sync "$target" "$dir/a.sw" --timeout 60000 >> "$results"
  check "$flows"
  timed shortcutctl.change "$ctl" switch sync "$target" "$dir/b.sw" --timeout 60000 >> "$results"
  check "$flows"
  cat "$dir/last.out" >&2
  echo "round $r done" >&2
done
cat "$results"
python3 - "$results" "$flows" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
med = {}
for k in sorted({r[0] for r in rows}):
    v = [int(r[1]) for r in rows if r[0] == k]
    med[k] = statistics.median(v)
    changes = n if k.endswith("initial") else n // 10
    print(f"median {k}: {med[k]:.0f} ms over {len(v)} runs ({changes / med[k] * 1000:,.0f} flow changes/s)")
for phase in ("initial", "change"):
    a, b = med.get(f"ovs-ofctl.{phase}"), med.get(f"shortcutctl.{phase}")
    if a and b:
        print(f"ratio {phase}: ovs-ofctl / shortcutctl = {a / b:.2f}")
PY
