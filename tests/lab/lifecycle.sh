#!/usr/bin/env bash
# shortcut-lab lifecycle: up -> status -> down leaves nothing; up twice in a
# row; down after `up` was killed with SIGKILL half-way; nothing configured in
# the root namespace. Usage: lifecycle.sh BIN_DIR
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/lib.sh" "$1" lifecycle

before=$(root_links)

# --- up, status, down.
lab up --hosts 2 --gateways 1 --vpcs 2 --vms-per-host 2 || fail "up failed"
[ -f "$LAB_DIR/lab.json" ] || fail "no lab.json"
out=$(lab status) || fail "status failed"
for w in host1 host2 gw1 host1-vm1 host2-vm2 "unix:$LAB_DIR/host1/br-int.mgmt"; do
  grep -qF -- "$w" <<< "$out" || fail "status table lacks $w"
done
python3 - "$LAB_DIR" <<PY || fail "status --json is wrong"
import json, subprocess, sys
d = sys.argv[1]
s = json.loads(subprocess.run(["$LAB", "status", "--json", "--name", "$LAB_NAME", "--dir", d],
                              check=True, capture_output=True, text=True).stdout)
assert [h["name"] for h in s["hosts"]] == ["host1", "host2"], s["hosts"]
assert [g["name"] for g in s["gateways"]] == ["gw1"], s["gateways"]
assert len(s["vms"]) == 4, s["vms"]
for n in s["hosts"] + s["gateways"]:
    for k in ("name", "underlay_ip", "openflow", "ovsdb", "netns", "underlay_mac", "ovs_appctl"):
        assert n.get(k), (n, k)
    assert n["openflow"] == f"unix:{d}/{n['name']}/br-int.mgmt", n
    assert n["ovsdb"] == f"unix:{d}/{n['name']}/db.sock", n
for v in s["vms"]:
    for k in ("name", "vpc", "ip", "mac", "host", "iface_id", "ofport", "netns"):
        assert v.get(k) is not None, (v, k)
    assert isinstance(v["ofport"], int) and 0 < v["ofport"] < 60000, v
assert len({v["mac"] for v in s["vms"]}) == 4, "MACs not unique"
assert {v["vpc"] for v in s["vms"]} == {1, 2}, "VMs not spread over the VPCs"
assert len({(v["vpc"], v["ip"]) for v in s["vms"]}) == 4, "IP not unique in its VPC"
assert len({v["ip"] for v in s["vms"]}) < 4, "VPCs do not reuse the same range"
PY
ok "up + status"

pids1=$(cat "$LAB_DIR"/*/*.pid | sort)
[ "$(wc -l <<< "$pids1")" -eq 6 ] || fail "expected 6 daemons, got: $pids1"

# --- up again over a running lab: replaces it.
lab up --hosts 2 --gateways 1 --vpcs 2 --vms-per-host 2 || fail "second up failed"
lab status > /dev/null || fail "status after second up failed"
for p in $pids1; do
  if kill -0 "$p" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$p/status"; then
    fail "daemon $p of the first up still runs"
  fi
done
ok "up twice in a row"

lab down || fail "down failed"
check_gone "$LAB_NAME" "$LAB_DIR"
lab down || fail "second down failed"
lab status > /dev/null 2>&1 && fail "status succeeded on a lab that is down"
[ "$(root_links)" = "$before" ] || fail "root namespace links changed: $(diff <(echo "$before") <(root_links))"
ok "down leaves nothing, is idempotent"

# --- SIGKILL in the middle of up, then down.
"$LAB" up --name "$LAB_NAME" --dir "$LAB_DIR" --hosts 4 --gateways 2 --vms-per-host 4 \
  > "$LAB_DIR.killed.log" 2>&1 &
up_pid=$!
# Wait (bounded) until the first daemons run: the middle of up.
for _ in $(seq 500); do
  compgen -G "$LAB_DIR/*/ovsdb-server.pid" > /dev/null && break
  sleep 0.01
done
compgen -G "$LAB_DIR/*/ovsdb-server.pid" > /dev/null || fail "up never started a daemon"
kill -9 "$up_pid"
wait "$up_pid" 2>/dev/null && fail "up finished before it was killed"
rm -f "$LAB_DIR.killed.log"
[ -n "$(lab_pids "$LAB_NAME" "$LAB_DIR")" ] || fail "killed up left nothing to clean (test is void)"
ip netns list | grep "^$LAB_NAME-" > /dev/null || fail "killed up left no namespace (test is void)"
lab down || fail "down after kill failed"
check_gone "$LAB_NAME" "$LAB_DIR"
[ "$(root_links)" = "$before" ] || fail "root namespace links changed after the killed up"
ok "down after up was killed"

echo "PASS lifecycle"
