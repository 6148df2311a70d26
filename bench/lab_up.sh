#!/usr/bin/env bash
# shortcut-lab bring-up benchmark: times `shortcut-lab up --hosts 4
# --gateways 2 --vms-per-host 4` (6 nodes, 16 VMs), sums the resident memory
# (VmRSS) of the lab's processes once it is up, times `down`, ROUNDS times.
# Prints one line per round and the medians.
# Usage: bench/lab_up.sh [ROUNDS] (default 3). Needs root and a built tree
# (build/bin/shortcut-lab and shortcutctl; BIN=DIR to use another).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
bin=${BIN:-$PWD/build/bin}
lab=$bin/shortcut-lab
[ -x "$lab" ] || { echo "no $lab: build first (scripts/build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "must run as root" >&2; exit 1; }
export SHORTCUTCTL=${SHORTCUTCTL:-$bin/shortcutctl}

name=bench$$
dir=/tmp/shortcut-lab-bench$$
trap '"$lab" down --name "$name" --dir "$dir" > /dev/null 2>&1 || true' EXIT
now_ms() { date +%s%3N; }

# rss_kb: sum of VmRSS over the processes inside the lab's namespaces (the
# ovsdb-server and ovs-vswitchd of every node), and their count.
rss_kb() {
  local ns pid kb total=0 n=0
  for ns in $(ip netns list | awk -v p="$name-" 'index($1, p) == 1 { print $1 }'); do
    for pid in $(ip netns pids "$ns"); do
      kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$kb" ] || continue
      total=$((total + kb))
      n=$((n + 1))
    done
  done
  echo "$total $n"
}

results=$(mktemp)
for r in $(seq "$rounds"); do
  t0=$(now_ms)
  "$lab" up --name "$name" --dir "$dir" --hosts 4 --gateways 2 --vms-per-host 4 2> /dev/null
  t1=$(now_ms)
  "$lab" status --name "$name" --dir "$dir" > /dev/null  # every VM has its ofport
  read -r kb procs <<< "$(rss_kb)"
  t2=$(now_ms)
  "$lab" down --name "$name" --dir "$dir" 2> /dev/null
  t3=$(now_ms)
  echo "round $r: up $((t1 - t0)) ms, down $((t3 - t2)) ms, $procs processes, RSS $((kb / 1024)) MiB" >&2
  echo "$((t1 - t0)) $((t3 - t2)) $kb $procs" >> "$results"
done
python3 - "$results" <<'PY'
import statistics, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
up, down, kb, procs = (statistics.median(c) for c in zip(*rows))
print(f"shortcut-lab up --hosts 4 --gateways 2 --vms-per-host 4 (16 VMs), {len(rows)} rounds:")
print(f"  up   median {up:.0f} ms (min {min(r[0] for r in rows)}, max {max(r[0] for r in rows)})")
print(f"  down median {down:.0f} ms")
print(f"  memory: {kb / 1024:.1f} MiB RSS over {procs:.0f} processes "
      f"({kb / 1024 / max(procs, 1):.1f} MiB each)")
PY
rm -f "$results"
