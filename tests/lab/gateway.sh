#!/usr/bin/env bash
# Shortcut end to end in a lab: 3 hosts, one cluster of 2 gateways running
# shortcut-gatewayd, 2 VPCs that reuse the same addresses, everything driven
# through shortcut-managerd's API. Real OVS, real packets.
# Usage: gateway.sh BIN_DIR
#   - first packets cross a gateway and arrive (ping, TCP); then the direct
#     path is on the sending host and the gateway sees no more of the flow;
#   - 10,000 more endpoints in a VPC change no host's flow or group count;
#   - a moved VM is reached at its new host, a deleted one is not, the other
#     VPC's VM at the same address is never reached, spoofed packets die;
#   - shortcut-gatewayd restarted with an empty DB: reloaded by managerd,
#     hosts and its bridge unchanged, traffic goes on;
#   - a gateway killed with kill -9: its hosts' buckets go dead by BFD and
#     new flows cross the other gateway.
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/lib.sh" "$1" gateway
export SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd SHORTCUT_MANAGERD=$BIN/shortcut-managerd

lab up --hosts 3 --gateways 2 --vpcs 2 --vms-per-host 2 > /dev/null 2>&1 || fail "up failed"
lab start || fail "start failed"
ok "gateways started, every VM online"

DIRECT=cookie=0x5c00020000000000/0xffffff0000000000
mgr() { SHORTCUT_MANAGER="unix:$LAB_DIR/mgr/managerd.sock" "$SHORTCUTCTL" --timeout 30 "$@"; }
gw_endpoints() { gwctl "$1" --json stats | python3 -c 'import json, sys; print(json.load(sys.stdin).get("endpoints", 0))'; }
# vm NAME FIELD: a VM's field from the lab plan.
vni_of() { echo $((100 + $(vm "$1" vpc))); }
ping_ok() { lab exec "$1" -- ping -c "${3:-1}" -i 0.2 -W 2 -q "$2" > /dev/null 2>&1; }
# Packets the gateways forwarded toward (VNI, IP), summed over both; OVS's
# flow counters lag the datapath (~0.5 s), so read until two reads agree.
gw_count_once() {
  local g total=0 n
  for g in gw1 gw2; do
    [ -S "$LAB_DIR/$g/br-int.mgmt" ] || continue
    n=$($OF dump-flows "$(br "$g")" "table=20,metadata=$1,ip,nw_dst=$2" 2> /dev/null |
      sed -n 's/.*n_packets=\([0-9]*\).*/\1/p' | head -1)
    total=$((total + ${n:-0}))
  done
  echo "$total"
}
# gw_count VNI IP: gw_count_once once every gateway's revalidators finished
# a dump round begun after the call (waited twice: a round under way may
# have passed the flow already), so every packet sent before is counted.
gw_count() {
  local g
  for g in gw1 gw2; do
    [ -S "$LAB_DIR/$g/ovs-vswitchd.ctl" ] || continue
    ovs-appctl -t "$LAB_DIR/$g/ovs-vswitchd.ctl" revalidator/wait > /dev/null
    ovs-appctl -t "$LAB_DIR/$g/ovs-vswitchd.ctl" revalidator/wait > /dev/null
  done
  gw_count_once "$1" "$2"
}
# direct_to HOST VNI IP: the tunnel destination of HOST's direct path toward
# (VNI, IP), empty if none.
direct_to() {
  $OF dump-flows "$(br "$1")" "$DIRECT,table=20,metadata=$2,ip,nw_dst=$3" |
    sed -n 's/.*set_field:\([0-9.]*\)->tun_dst.*/\1/p' | head -1
}
counts() {  # flows and groups on every host
  local h
  for h in host1 host2 host3; do
    echo "$h $($OF dump-flows "$(br "$h")" | grep -vc NXST_FLOW) $($OF dump-groups "$(br "$h")" | grep -c group_id)"
  done
}
# probe_all: a VM more on every host (an internal port probeN, its endpoint
# created through managerd, which answers once the host's designated
# gateway confirmed its rules). managerd drives each gateway one call after
# the other, and a gateway answers a call once the hosts confirmed it: when
# every probe is online, every change asked of the gateways before was
# applied on the hosts. The positive event that a "nothing changed" check
# waits for; each host then holds exactly 4 flows more (with_probes).
probe_all() {
  local i=0 h st
  for h in host1 host2 host3; do
    i=$((i + 1))
    ovs-vsctl --db="unix:$LAB_DIR/$h/db.sock" --timeout=10 add-port br-int "probe$i" \
      -- set Interface "probe$i" type=internal external_ids:iface-id="probe$i"
    st=$(mgr --json endpoint create "probe$i" --vpc vpc1 --network net1 --ipv4 "10.0.250.$i" \
      --mac "02:5e:00:00:00:0$i" --host "$h" |
      python3 -c 'import json, sys; print(json.load(sys.stdin).get("status", ""))') ||
      fail "probe endpoint on $h refused"
    [ "$st" = ENDPOINT_STATUS_ONLINE ] || fail "probe endpoint on $h answered '$st', not online"
  done
}
with_probes() { awk '{ print $1, $2 + 4, $3 }' <<< "$1"; }
# unprobe_all COUNTS: the probes go, and the hosts are back at COUNTS.
unprobe_all() {
  local i=0 h
  for h in host1 host2 host3; do
    i=$((i + 1))
    mgr endpoint delete "probe$i" > /dev/null || fail "endpoint delete probe$i"
    ovs-vsctl --db="unix:$LAB_DIR/$h/db.sock" --timeout=10 del-port br-int "probe$i"
  done
  back() { [ "$(counts)" = "$1" ]; }
  wait_for 10 back "$1" || fail "hosts not back after the probes: $(counts | tr '\n' ';'), not $(echo "$1" | tr '\n' ';')"
}

# tunnels_up GW: per host, "forwarding/tunnels" as GW's ListHosts reports them.
tunnels_up() {
  gwctl "$1" --json hosts | python3 -c 'import json, sys
for h in json.load(sys.stdin)["hosts"]:
    print("%s %s/%s" % (h["host"]["name"], h.get("gateway_tunnels_forwarding", 0), h.get("gateway_tunnels", 0)))'
}
[ "$(tunnels_up gw1 | tr '\n' ' ')" = "host1 2/2 host2 2/2 host3 2/2 " ] ||
  fail "gw1 sees host tunnels as: $(tunnels_up gw1 | tr '\n' ' ')"

# ---- 1. First packets through a gateway, then direct.
a=host1-vm1 b=host2-vm1 # VPC 1
vni=$(vni_of "$a") ipb=$(vm "$b" ip)
ul2=$(python3 -c 'import json, sys; print([h["underlay_ip"] for h in json.load(open(sys.argv[1]))["hosts"] if h["name"] == "host2"][0])' "$LAB_DIR/lab.json")
[ -z "$(direct_to host1 "$vni" "$ipb")" ] || fail "a direct path before any traffic"
ping_ok "$a" "$ipb" || fail "first ping $a -> $b lost"
has_path() { [ -n "$(direct_to host1 "$vni" "$1")" ]; }
wait_for 5 has_path "$ipb" || fail "no direct path on host1 toward $ipb"
[ "$(direct_to host1 "$vni" "$ipb")" = "$ul2" ] || fail "direct path on host1 goes to $(direct_to host1 "$vni" "$ipb"), not $ul2"
via_gw=$(gw_count "$vni" "$ipb")
[ "$via_gw" -ge 1 ] || fail "the first packet did not cross a gateway (count $via_gw)"
ping_ok "$a" "$ipb" 5 || fail "pings $a -> $b after the direct path failed"
after=$(gw_count "$vni" "$ipb")
[ "$after" = "$via_gw" ] || fail "the gateways still forwarded $((after - via_gw)) packets of the flow after the direct path"
ok "first packet via a gateway ($via_gw packet(s)), then direct: 5 more pings, none through a gateway"

# TCP from its first packet, in VPC 2 (same addresses as VPC 1).
c=host2-vm2 d=host3-vm2
ipd=$(vm "$d" ip)
lab exec "$d" -- iperf3 -s -1 -D -B "$ipd" --pidfile "$LAB_DIR/iperf3.pid"
wait_for 5 sh -c "'$LAB' exec --name '$LAB_NAME' --dir '$LAB_DIR' '$d' -- ss -ltn | grep -q ':5201 '" ||
  fail "iperf3 server not listening"
out=$(timeout 30 "$LAB" exec --name "$LAB_NAME" --dir "$LAB_DIR" "$c" -- iperf3 -c "$ipd" -t 1 -J) ||
  fail "iperf3 $c -> $d failed: $out"
bytes=$(python3 -c 'import json, sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bytes"]))' <<< "$out")
[ "$bytes" -gt 100000 ] || fail "iperf3 moved only $bytes bytes"
ok "TCP $c -> $d from its first packet: $bytes bytes in 1 s"

# ---- 2. 10,000 more endpoints: host rules do not grow.
before=$(counts)
gw_before=$($OF dump-flows "$(br gw1)" | grep -vc NXST_FLOW)
python3 - "$LAB_DIR" > "$LAB_DIR/more.json" <<'PY'
import json, sys
d = sys.argv[1]
lab = json.load(open(d + "/lab.json"))
# On the lab's hosts, but on ports that do not exist: stored, forwarded to
# by the gateways, and no rule on any host until a port appears.
hosts = [h["name"] for h in lab["hosts"]]
eps = []
for i in range(10000):
    eps.append({"key": "more%d" % i, "vpc": "vpc1", "network": "net1",
                "ipv4": "10.0.%d.%d" % (100 + i // 250, i % 250 + 1),
                "mac": "02:5d:00:00:%02x:%02x" % (i >> 8, i & 255),
                "host": hosts[i % len(hosts)], "ifaceId": "more%d" % i})
json.dump({"endpoints": eps}, sys.stdout)
PY
mgr endpoint load "$LAB_DIR/more.json" > /dev/null || fail "endpoint load failed"
# managerd pushes them to both gateways of the VPC's cluster.
# (Functions, so that each try counts again.)
gw1_holds() { [ "$($OF dump-flows "$(br gw1)" | grep -vc NXST_FLOW)" -ge $((gw_before + 10000)) ]; }
gw2_holds() { [ "$(gw_endpoints gw2)" -ge 10006 ]; }
wait_for 60 gw1_holds || fail "gw1's bridge does not hold the 10,000 endpoints"
wait_for 60 gw2_holds || fail "gw2 does not hold the 10,000 endpoints"
probe_all
[ "$(counts)" = "$(with_probes "$before")" ] ||
  fail "host flows/groups changed with 10,000 endpoints: $before -> $(counts) (with a probe VM each)"
unprobe_all "$before"
ping_ok "$a" "$ipb" || fail "ping $a -> $b after adding endpoints"
ok "10,000 more endpoints: hosts unchanged ($(echo "$before" | tr '\n' ';')), gw1's bridge +10,000 flows"

# ---- 3. Move, delete, isolation, spoofing.
m=host3-vm1  # VPC 1, moves to host2
ipm=$(vm "$m" ip) macm=$(vm "$m" mac)
ping_ok "$a" "$ipm" || fail "ping $a -> $m before the move"
wait_for 5 has_path "$ipm" || fail "no direct path toward $m"
# The VM's new port on host2: a new namespace, same addresses.
mvns=$LAB_NAME-mv1
ip netns add "$mvns"
ip -n "$(lab_ns host2)" link add vm-mv type veth peer name eth0 netns "$mvns"
ip -n "$(lab_ns host2)" link set vm-mv up
ip -n "$mvns" link set lo up
ip -n "$mvns" link set eth0 address "$macm"
ip -n "$mvns" link set eth0 up
ip -n "$mvns" addr add "$ipm/16" dev eth0
ip -n "$mvns" route add default via 10.0.0.1 dev eth0
ip netns exec "$mvns" ethtool -K eth0 tx off > /dev/null
ovs-vsctl --db="unix:$LAB_DIR/host3/db.sock" --timeout=10 del-port br-int "$(vm "$m" port)"
ovs-vsctl --db="unix:$LAB_DIR/host2/db.sock" --timeout=10 add-port br-int vm-mv \
  -- set Interface vm-mv external_ids:iface-id="$m-moved"
mgr endpoint update "$m" --iface-id "$m-moved" > /dev/null || fail "endpoint update (iface-id) of $m"
st=$(mgr --json endpoint move "$m" --host host2 |
  python3 -c 'import json, sys; print(json.load(sys.stdin).get("status", ""))') ||
  fail "endpoint move of $m"
[ "$st" = ENDPOINT_STATUS_ONLINE ] || fail "the move of $m answered '$st', not online"
stale=$(direct_to host1 "$vni" "$ipm")
[ "$stale" != "$(python3 -c 'import json, sys; print([h["underlay_ip"] for h in json.load(open(sys.argv[1]))["hosts"] if h["name"] == "host3"][0])' "$LAB_DIR/lab.json")" ] ||
  fail "host1 still sends $ipm to host3 after the move"
wait_for 10 ping_ok "$a" "$ipm" || fail "the moved VM is not reached at host2"
ok "moved VM reached at its new host; no stale direct path"

mgr endpoint delete "$b" > /dev/null || fail "endpoint delete $b"
# The store has it deleted; managerd then tells the gateways, which
# invalidate the direct paths toward it.
no_path() { [ -z "$(direct_to host1 "$vni" "$ipb")" ]; }
wait_for 5 no_path || fail "host1 keeps a direct path toward deleted $b"
! ping_ok "$a" "$ipb" || fail "deleted $b (or VPC 2's VM at $ipb) still answers $a"
ping_ok "$c" "$ipb" || fail "VPC 2's VM at $ipb is no longer reachable in its own VPC"
ok "deleted VM unreachable; the other VPC's VM at the same address unreached from VPC 1, reached in VPC 2"

lab exec "$a" -- ip addr add 10.0.0.99/16 dev eth0
! lab exec "$a" -- ping -c 2 -i 0.2 -W 1 -q -I 10.0.0.99 "$ipm" > /dev/null 2>&1 ||
  fail "a spoofed source IP got through"
lab exec "$a" -- ip addr del 10.0.0.99/16 dev eth0
maca=$(vm "$a" mac)
lab exec "$a" -- ip link set eth0 address 02:5c:66:66:66:66
! ping_ok "$a" "$ipm" || fail "a spoofed source MAC got through"
lab exec "$a" -- ip link set eth0 address "$maca"
lab exec "$a" -- ip neigh flush dev eth0
ping_ok "$a" "$ipm" || fail "$a no longer reaches $m with its own addresses"
ok "spoofed source IP and MAC get nothing through"

# ---- 4. shortcut-gatewayd restarted (kill -9): its DB is empty until
# managerd sees the new instance and reloads it; it changes nothing on the
# hosts or on its own bridge, and traffic goes on.
before=$(counts)
gw2_flows=$($OF dump-flows "$(br gw2)" | grep -vc NXST_FLOW)
gw2_eps=$(gw_endpoints gw2)
kill -9 "$(< "$LAB_DIR/gw2/gatewayd.pid")"
ip netns exec "$(lab_ns gw2)" setsid "$SHORTCUT_GATEWAYD" --config "$LAB_DIR/gw2/gatewayd.json" \
  > "$LAB_DIR/gw2/gatewayd-2.log" 2>&1 < /dev/null &
echo $! > "$LAB_DIR/gw2/gatewayd.pid"
disown
wait_for 10 gwctl gw2 health > /dev/null 2>&1 || fail "restarted gw2 not serving"
gw2_reloaded() { [ "$(gw_endpoints gw2)" = "$gw2_eps" ]; }
wait_for 30 gw2_reloaded ||
  fail "managerd did not reload gw2: it holds $(gw_endpoints gw2) endpoints, not $gw2_eps"
probe_all
[ "$(counts)" = "$(with_probes "$before")" ] ||
  fail "a restarted gateway changed host rules: $before -> $(counts) (with a probe VM each)"
# Its bridge: what it held, and the 3 probes' forwarding flows.
gw2_bridge() { [ "$($OF dump-flows "$(br gw2)" | grep -vc NXST_FLOW)" = "$((gw2_flows + 3))" ]; }
wait_for 10 gw2_bridge ||
  fail "a restarted gateway changed its own bridge: $($OF dump-flows "$(br gw2)" | grep -vc NXST_FLOW) flows, not $gw2_flows + 3 probes"
unprobe_all "$before"
ping_ok "$a" "$ipm" || fail "no traffic after gw2's daemon restarted"
ok "shortcut-gatewayd restarted with an empty DB: reloaded by managerd ($gw2_eps endpoints), hosts and its bridge unchanged, traffic goes on"

# ---- 5. A gateway killed with kill -9: new flows cross the other one.
kill -9 "$(< "$LAB_DIR/gw1/gatewayd.pid")" "$(< "$LAB_DIR/gw1/ovs-vswitchd.pid")"
port=sc-$(printf '%02x' 172 31 2 1)
bfd_down() {
  [ "$(ovs-vsctl --db="unix:$LAB_DIR/$1/db.sock" --timeout=10 get Interface "$port" bfd_status:forwarding)" = '"false"' ]
}
for h in host1 host2 host3; do
  wait_for 5 bfd_down "$h" || fail "$h: BFD still forwards to the dead gateway"
done
one_of_two() { [ "$(tunnels_up gw2 | tr '\n' ' ')" = "host1 1/2 host2 1/2 host3 1/2 " ]; }
wait_for 5 one_of_two ||
  fail "gw2 sees host tunnels as: $(tunnels_up gw2 | tr '\n' ' ') after gw1 died"
for h in host1 host2 host3; do $OF del-flows "$(br "$h")" "$DIRECT"; done
n=0
for pair in "host1-vm2 host2-vm2" "host1-vm2 host3-vm2" "host2-vm2 host1-vm2" "host3-vm2 host1-vm2" \
  "host3-vm2 host2-vm2"; do
  read -r src dst <<< "$pair"
  ping_ok "$src" "$(vm "$dst" ip)" || fail "after gw1 died: first ping $src -> $dst lost"
  n=$((n + 1))
done
ok "gw1 killed: BFD took its buckets out; $n new flows crossed gw2 from their first packet"

# Every goto on every host names a stage of the pipeline.
for h in host1 host2 host3; do
  bad=$($OF dump-flows "$(br "$h")" | grep -oE 'goto_table:[0-9]+' | grep -vE 'goto_table:(10|20|30)$' || true)
  [ -z "$bad" ] || fail "$h holds a flow with $bad"
done

echo "PASS gateway"
