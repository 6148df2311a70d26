#!/usr/bin/env bash
# Offload policy and host budgets in a lab: 2 hosts, 2 gateways (one
# cluster), 1 VPC with 21 VMs per host, real Open vSwitch and packets.
# `start --path-budget 2`: every host holds at most 2 direct paths (one per
# serving gateway). Oracles: dump-flows of the hosts and of the gateways'
# bridges. Usage: offload.sh BIN_DIR
#   - first-packet (the default): a ping leaves a direct path on its host;
#   - threshold (20 packets in 1 s): a 3-packet ping leaves no direct path,
#     its flow counted on a gateway's bridge instead; a 50/s ping gets its
#     direct path while it runs, without losing a packet; once it did, the
#     gateways have judged the short ping's flow again and still left it
#     on the gateways;
#   - back to first-packet with the budget: one VM pings 20 peers on the
#     other host (10 x the budget): every peer answers, its host holds at
#     most 2 direct paths, and the gateways say they evicted the rest.
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/lib.sh" "$1" offload
export SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd SHORTCUT_MANAGERD=$BIN/shortcut-managerd

budget=2
lab up --hosts 2 --gateways 2 --vpcs 1 --vms-per-host 21 > /dev/null 2>&1 || fail "up failed"
lab start --path-budget "$budget" || fail "start failed"
ok "lab started (42 VMs, budget $budget direct paths per host)"

a=host1-vm1
ip_of() { vm "$1" ip; }
# direct_to HOST IP: HOST holds a direct path toward IP (cookie kind 0x5c0002).
direct_paths() {
  ovs-ofctl -O OpenFlow13 dump-flows "$(br "$1")" "table=20,cookie=0x5c00020000000000/0xffffff0000000000"
}
# (Outputs captured first: `grep -q` in a pipe under pipefail can fail
# when it closes the pipe early.)
direct_to() {
  local out
  out=$(direct_paths "$1") || return 1
  [[ $out == *"nw_dst=$2 "* ]]
}
count_direct() {
  local out
  out=$(direct_paths "$1") || return 1
  grep -c "nw_dst=" <<< "$out" || true
}
# Counting flows on a gateway's bridge (cookie kind 0x5c0005).
counting() {
  ovs-ofctl -O OpenFlow13 dump-flows "$(br "$1")" "cookie=0x5c00050000000000/0xffffff0000000000"
}
stat() { gwctl "$1" --json stats | python3 -c "import json, sys; print(json.load(sys.stdin).get('$2', 0))"; }

# ---- first-packet: as before.
b=host2-vm1
lab exec "$a" -- ping -c 1 -W 2 -q "$(ip_of $b)" > /dev/null || fail "ping $a -> $b"
wait_for 5 direct_to host1 "$(ip_of $b)" || fail "first-packet: no direct path toward $b"
ok "first-packet: a single ping leaves a direct path on host1"

# ---- threshold.
mgr vpc update vpc1 --offload threshold --offload-packets 20 --offload-window-ms 1000 > /dev/null ||
  fail "vpc update"
[[ $(mgr vpc show vpc1) == *"threshold: 20 packets in 1000 ms"* ]] || fail "vpc show: $(mgr vpc show vpc1)"
has_policy() {
  local out
  out=$(gwctl "$1" stats) || return 1
  [[ $out == *"threshold: 20 packets in 1000 ms"* ]]
}
wait_for 10 has_policy gw1 || fail "gw1 did not get the policy"
wait_for 10 has_policy gw2 || fail "gw2 did not get the policy"
c=host2-vm2 d=host2-vm3
ipc=$(ip_of $c) ipd=$(ip_of $d)
# A second apart: Open vSwitch's cached datapath flows take up to about
# half a second to follow a new counting flow.
lab exec "$a" -- ping -c 3 -i 1 -W 2 -q "$ipc" > /dev/null || fail "short ping $a -> $c"
# The flow is on a gateway's bridge, counted: the oracle is that bridge.
counts_on() {
  local out
  out=$(counting "$1") || return 1
  [[ $out == *"nw_dst=$ipc "* ]]
}
counted_c() { counts_on gw1 || counts_on gw2; }
wait_for 5 counted_c || fail "no counting flow toward $c on either gateway"
carrier=gw1
counts_on gw1 || carrier=gw2
# The first packet went by the endpoint's flow (its copy made the counting
# flow); the other two by the counting flow. Open vSwitch pushes datapath
# counters to its flows every few hundred ms: wait for them.
counted_two() {
  local out
  out=$(counting "$carrier") || return 1
  out=$(grep "nw_dst=$ipc " <<< "$out") || return 1
  [[ $out == *"n_packets=2,"* ]]
}
wait_for 5 counted_two || fail "counting flow on $carrier: $(counting "$carrier")"
reads_before=$(stat "$carrier" threshold_reads)
! direct_to host1 "$ipc" || fail "threshold: a short ping got a direct path"
ok "threshold: a 3-packet ping is carried by $carrier (its counting flow: 2 packets), no direct path"

# A sustained flow: 50 packets/s for 4 s.
lab exec "$a" -- ping -c 200 -i 0.02 -W 2 -q "$ipd" > "$LAB_DIR/stream.out" 2>&1 &
stream=$!
wait_for 10 direct_to host1 "$ipd" || fail "threshold: no direct path toward $d during the stream"
kill -0 "$stream" 2> /dev/null || fail "the stream ended before its direct path came"
wait "$stream" || fail "stream ping: $(cat "$LAB_DIR/stream.out")"
grep " 0% packet loss" "$LAB_DIR/stream.out" > /dev/null || fail "stream lost packets: $(grep loss "$LAB_DIR/stream.out")"
ok "threshold: a 50/s stream got its direct path while it ran, 0 of 200 packets lost"
# The carrier has read its counters twice since: the short ping was judged
# again, and stays on the gateways.
two_more_reads() { [ "$(stat "$carrier" threshold_reads)" -ge $((reads_before + 2)) ]; }
wait_for 10 two_more_reads || fail "$carrier did not read its counting flows"
! direct_to host1 "$ipc" || fail "threshold: the short ping's flow was offloaded"
[ "$(stat "$carrier" threshold_offloads)" -ge 1 ] || fail "no threshold offload counted on $carrier"
ok "threshold: after two more reads the short ping's flow is still on the gateways"

# ---- first-packet again, with the budget: 20 peers.
mgr vpc update vpc1 --offload first-packet > /dev/null || fail "vpc update back"
no_counting() {
  local one two
  one=$(counting gw1) && two=$(counting gw2) || return 1
  [[ $one != *nw_dst* && $two != *nw_dst* ]]
}
wait_for 10 no_counting || fail "counting flows left after leaving threshold"
for j in $(seq 2 21); do
  peer=host2-vm$j
  lab exec "$a" -- ping -c 1 -W 2 -q "$(ip_of "$peer")" > /dev/null || fail "ping $a -> $peer"
  n=$(count_direct host1)
  [ "$n" -le "$budget" ] || fail "host1 holds $n direct paths after $peer (budget $budget): $(direct_paths host1)"
done
n=$(count_direct host1)
[ "$n" -ge 1 ] || fail "host1 holds no direct path at all"
evicted=$(($(stat gw1 paths_evicted) + $(stat gw2 paths_evicted)))
[ "$evicted" -ge $((20 - budget)) ] || fail "evicted $evicted paths, expected at least $((20 - budget))"
# Still reachable after all that: the first and the last peer.
for peer in host2-vm2 host2-vm21; do
  lab exec "$a" -- ping -c 1 -W 2 -q "$(ip_of "$peer")" > /dev/null || fail "ping $a -> $peer again"
done
ok "budget: 20 peers all answered, host1 holds $n direct paths (<= $budget), $evicted evicted"

for node in host1 host2 gw1 gw2; do
  if errors=$(grep -E "OFPT_ERROR|OFPBAC|OFPBMC|OFPFMFC" "$LAB_DIR/$node/ovs-vswitchd.log"); then
    fail "ovs-vswitchd on $node logged OpenFlow errors: $errors"
  fi
done
ok "no OpenFlow error in any ovs-vswitchd log"
