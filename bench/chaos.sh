#!/usr/bin/env bash
# Chaos under traffic, ROUNDS rounds of every fault (tests/chaos/chaos.sh
# is one round, in CI): the figures of BENCHMARKS.md's "Chaos under
# traffic". Usage: bench/chaos.sh [ROUNDS] [BIN_DIR]   (root; default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
bin=${2:-build/bin}
report=$(mktemp /tmp/shortcut-chaos.XXXXXX)
trap 'rm -f "$report"' EXIT
bash tests/chaos/chaos.sh "$bin" "$rounds" "$report" > /dev/null
python3 - "$report" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if not l.startswith("fault")]
faults = []
for r in rows:
    if r[0] not in faults:
        faults.append(r[0])
print("%-22s %6s %10s %10s %10s %12s %10s" % ("fault", "rounds", "lost e1+e2", "gap ms max",
                                              "new ms max", "converge ms", "online"))
for f in faults:
    rs = [r for r in rows if r[0] == f]
    lost = [int(r[2]) + int(r[4]) for r in rs]
    gap = max(max(int(r[3]), int(r[5])) for r in rs)
    new = max(int(r[6]) for r in rs)
    conv = sorted(int(r[7]) for r in rs)
    print("%-22s %6d %10s %10d %10d %5d..%-6d %10s" % (
        f, len(rs), "/".join(map(str, lost)), gap, new, conv[0], conv[-1],
        ",".join(sorted({r[8] for r in rs}))))
PY
