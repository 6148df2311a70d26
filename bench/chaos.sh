#!/usr/bin/env bash
# Chaos under traffic, ROUNDS rounds of every fault (tests/chaos/chaos.sh
# is one round, in CI): the figures of BENCHMARKS.md's "Chaos under
# traffic". Usage: bench/chaos.sh [ROUNDS] [BIN_DIR] [--ha]   (root; default 3)
# With --ha the lab runs `start --ha` and the faults include the active and
# the standby managerd, the Raft leader and a follower (with the time from
# each of these kills until a write through the managers is answered).
set -euo pipefail
cd "$(dirname "$0")/.."
ha=()
args=()
for arg in "$@"; do
  if [ "$arg" = --ha ]; then ha=(--ha); else args+=("$arg"); fi
done
rounds=${args[0]:-3}
bin=${args[1]:-build/bin}
report=$(mktemp /tmp/shortcut-chaos.XXXXXX)
trap 'rm -f "$report"' EXIT
bash tests/chaos/chaos.sh "$bin" "$rounds" "$report" "${ha[@]}" > /dev/null
python3 - "$report" <<'PY'
import statistics, sys
lines = open(sys.argv[1]).read().splitlines()
notes = [l for l in lines if l.startswith("#")]
rows = [l.split() for l in lines if l and not l.startswith(("fault", "#"))]
ha = any(len(r) > 9 for r in rows)
faults = []
for r in rows:
    if r[0] not in faults:
        faults.append(r[0])
print("%-22s %6s %10s %10s %10s %12s %10s" % ("fault", "rounds", "lost e1+e2", "gap ms max",
                                              "new ms max", "converge ms", "online")
      + (" %12s" % "write ms" if ha else ""))
for f in faults:
    rs = [r for r in rows if r[0] == f]
    lost = [int(r[2]) + int(r[4]) for r in rs]
    gap = max(max(int(r[3]), int(r[5])) for r in rs)
    new = max(int(r[6]) for r in rs)
    conv = sorted(int(r[7]) for r in rs)
    line = "%-22s %6d %10s %10d %10d %5d..%-6d %10s" % (
        f, len(rs), "/".join(map(str, lost)), gap, new, conv[0], conv[-1],
        ",".join(sorted({r[8] for r in rs})))
    if ha:
        w = sorted(int(r[9]) for r in rs if r[9].isdigit())
        line += " %12s" % ("%d..%d" % (w[0], w[-1]) if w else "-")
    print(line)
for n in notes:
    print(n)
PY
