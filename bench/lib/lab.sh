# Shared by the lab benchmarks: sourced after `cd` to the checkout with NAME
# set; gives the lab's directory and the helpers every benchmark uses, and
# takes the lab down when the script exits (even after a failure).
BIN=$PWD/build/bin
export SHORTCUTCTL=$BIN/shortcutctl SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd
export SHORTCUT_MANAGERD=$BIN/shortcut-managerd NB_SCHEMA=$PWD/schema/shortcut_nb.ovsschema
DIR=/tmp/shortcut-lab-$NAME
OF="ovs-ofctl -O OpenFlow13"
LAB=$PWD/apps/shortcut-lab/shortcut-lab
lab() { "$LAB" "$1" --name "$NAME" --dir "$DIR" "${@:2}"; }
mgr() { SHORTCUT_MANAGER="unix:$DIR/mgr/managerd.sock" "$SHORTCUTCTL" "$@"; }
gw() { "$SHORTCUTCTL" gateway --server "unix:$DIR/$1/gatewayd.sock" "${@:2}"; }
br() { echo "unix:$DIR/$1/br-int.mgmt"; }
vm() { # vm NAME FIELD: a field of a lab VM from lab.json (ip, mac, ...)
  python3 -c 'import json, sys
for v in json.load(open(sys.argv[1]))["vms"]:
    if v["name"] == sys.argv[2]: print(v[sys.argv[3]])' "$DIR/lab.json" "$1" "$2"
}
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
trap 'lab down > /dev/null 2>&1 || true' EXIT
