#!/usr/bin/env bash
# shortcutctl trace in a lab: 2 hosts, 2 gateways (one cluster), 1 VPC,
# 2 VMs per host, real Open vSwitch. Open vSwitch's own ofproto/trace and
# dump-flows are the oracles. Usage: trace.sh BIN_DIR
#   - a VM to another on its host: delivered locally, table 0 -> 20 -> 30;
#   - a VM to one on the other host before any traffic: host1's group with
#     a bucket per gateway, each gateway forwarding to host2, host2
#     delivering; --live --appctl: both hosts' hops agree with
#     ofproto/trace, which the test also runs itself;
#   - after a ping (the gateway installs the direct path): --live says
#     direct, as dump-flows and ofproto/trace do;
#   - an address no endpoint holds: dropped at the gateways;
#   - an unknown endpoint: NOT_FOUND, exit 1; a bad address: exit 2.
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/lib.sh" "$1" trace
export SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd SHORTCUT_MANAGERD=$BIN/shortcut-managerd

lab up --hosts 2 --gateways 2 --vpcs 1 --vms-per-host 2 > /dev/null 2>&1 || fail "up failed"
lab start || fail "start failed"
ok "lab started"

a=host1-vm1 b=host1-vm2 c=host2-vm1
ipb=$(vm "$b" ip) ipc=$(vm "$c" ip)
appctl=(--appctl "host1=$LAB_DIR/host1/ovs-vswitchd.ctl" --appctl "host2=$LAB_DIR/host2/ovs-vswitchd.ctl")
json() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
# ofproto NODE FLOW: Open vSwitch's own trace on NODE's br-int.
ofproto() { ovs-appctl -t "$LAB_DIR/$1/ovs-vswitchd.ctl" ofproto/trace br-int "$2"; }

# ---- Same host.
out=$(mgr trace "$a" "$ipb") || fail "trace $a $ipb: $out"
[[ $out == *"delivered: out port"*" to $b"* ]] || fail "same host: $out"
[ "$(mgr --json trace "$a" "$ipb" | json '[s["table"] for s in d["hops"][0]["steps"]]')" = "[0, 20, 30]" ] ||
  fail "same host: tables"
ok "same host: delivered locally (tables 0, 20, 30)"

# ---- Through the gateways, checked on the switches.
j=$(mgr --json trace "$a" "$ipc" --live "${appctl[@]}") || fail "trace --live: $j"
nodes=$(json '",".join(h["node"] for h in d["hops"])' <<< "$j")
[ "$nodes" = "host1,gw1,gw2,host2" ] || fail "hops: $nodes"
for i in 0 3; do
  v=$(json "d['hops'][$i]['ofproto_trace']" <<< "$j")
  [[ $v == agrees:* ]] || fail "hop $i: $v"
done
[[ $(json 'd["hops"][0]["then"][0]' <<< "$j") == "group 1 (select, 2 buckets"* ]] || fail "host1: $j"
[[ $(json 'd["hops"][3]["then"][0]' <<< "$j") == "delivered: out port"*" to $c" ]] || fail "host2: $j"
# The oracle itself: host1's switch sends it to group 1; host2's delivers
# it on the port whose iface-id is host2-vm1.
flow1=$(json 'd["hops"][0]["packet"]' <<< "$j")
ofproto host1 "$flow1" | grep -qx '    group:1' || fail "ofproto/trace on host1 does not reach group 1"
port_c=$(ovs-vsctl --db="unix:$LAB_DIR/host2/db.sock" --bare --columns=ofport find Interface "external_ids:iface-id=$c")
flow2=$(json 'd["hops"][3]["packet"]' <<< "$j")
ofproto host2 "$flow2" | grep -qx "    output:$port_c" || fail "ofproto/trace on host2 does not output to $c's port $port_c"
ok "host1 -> group 1 (gw1, gw2) -> host2 -> $c: both hosts agree with ofproto/trace"

# ---- After traffic: the direct path.
lab exec "$a" -- ping -c 3 -i 0.2 -W 2 -q "$ipc" > /dev/null || fail "ping $a -> $c"
ovs-ofctl -O OpenFlow13 dump-flows "$(br host1)" "table=20,ip,nw_dst=$ipc" | grep -q 'output:60000' ||
  fail "no direct path on host1 after the ping"
j=$(mgr --json trace "$a" "$ipc" --live "${appctl[@]}") || fail "trace --live: $j"
[[ $(json 'd["summary"]' <<< "$j") == *": direct, host1 -> host2" ]] || fail "after ping: $(json 'd["summary"]' <<< "$j")"
v=$(json 'd["hops"][0]["ofproto_trace"]' <<< "$j")
[[ $v == agrees:*"-> output:60000" ]] || fail "host1 after ping: $v"
ofproto host1 "$(json 'd["hops"][0]["packet"]' <<< "$j")" | grep -qx '    output:60000' ||
  fail "ofproto/trace on host1 does not take the direct path"
ok "after a ping: direct host1 -> host2, as dump-flows and ofproto/trace say"

# ---- Nobody there.
out=$(mgr trace "$a" 10.0.0.99) || fail "trace to 10.0.0.99: $out"
[[ $out == *"dropped: no endpoint 10.0.0.99 in VPC vpc1"* && $out == *"not delivered"* ]] ||
  fail "no endpoint: $out"
ok "an address no endpoint holds: dropped at the gateways"

# ---- Errors.
if out=$(mgr trace nosuch "$ipc" 2>&1); then fail "unknown endpoint traced"; fi
[[ $out == *"NOT_FOUND"* ]] || fail "unknown endpoint: $out"
set +e
mgr trace "$a" 10.0.0 > /dev/null 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || fail "a bad address exits $rc"
ok "unknown endpoint: NOT_FOUND; bad address: exit 2"
