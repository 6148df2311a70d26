#!/usr/bin/env bash
# The whole system in a lab, driven through shortcut-managerd only: 3 hosts,
# 3 gateways in 2 clusters (gw1+gw2 serve vpc1, gw3 serves vpc2), VMs of
# both VPCs on every host, both VPCs on the same addresses. Real OVS, real
# packets. Usage: clusters.sh BIN_DIR
#   - every host holds exactly 2 groups (id = cluster id) with a bucket per
#     member of that cluster, and each VPC's default rule points at its own
#     cluster's group;
#   - each gateway holds only its cluster's VPCs;
#   - traffic flows in both VPCs from the first packet, through a gateway of
#     the VPC's own cluster;
#   - with no event, no host's rules change for 10 s (the two clusters'
#     reconcilers do not fight);
#   - a new VM created through managerd comes online (confirmed on its host)
#     and is reached;
#   - shortcut-gatewayd killed (kill -9) and restarted with an empty DB:
#     managerd sees its new instance, reloads it, and traffic goes on; no
#     host rule changes.
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/lib.sh" "$1" clusters
export SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd SHORTCUT_MANAGERD=$BIN/shortcut-managerd

lab up --hosts 3 --gateways 3 --clusters 2 --vpcs 2 --vms-per-host 2 > /dev/null 2>&1 ||
  fail "up failed"
lab start || fail "start failed"
ok "management plane and gateways started, every VM online"

ping_ok() { lab exec "$1" -- ping -c "${3:-1}" -i 0.2 -W 2 -q "$2" > /dev/null 2>&1; }
HOSTS="host1 host2 host3"
# The standing rules and groups of a host, without counters (what a
# reconciler would rewrite), one per line, sorted.
standing() {
  { $OF --no-stats dump-flows "$(br "$1")" | grep -v 'cookie=0x5c0002' | sed 's/^ *//'
    $OF dump-groups "$(br "$1")" | grep group_id | sed 's/^ *//'; } | sort
}
# gw_count GW VNI IP: packets GW's bridge forwarded toward (VNI, IP).
gw_count() {
  $OF dump-flows "$(br "$1")" "table=20,metadata=$2,ip,nw_dst=$3" 2> /dev/null |
    sed -n 's/.*n_packets=\([0-9]*\).*/\1/p' | head -1
}

# ---- 1. Two groups per host, each VPC's default rule to its own cluster.
for h in $HOSTS; do
  groups=$($OF dump-groups "$(br "$h")" | sed -n 's/.*group_id=\([0-9]*\).*/\1/p' | sort -n | paste -sd, -)
  [ "$groups" = "1,2" ] || fail "$h holds groups '$groups', not 1,2"
  b1=$($OF dump-groups "$(br "$h")" | grep 'group_id=1,' | grep -o 'bucket=' | wc -l)
  b2=$($OF dump-groups "$(br "$h")" | grep 'group_id=2,' | grep -o 'bucket=' | wc -l)
  [ "$b1" = 2 ] && [ "$b2" = 1 ] || fail "$h: group 1 has $b1 buckets (want 2), group 2 has $b2 (want 1)"
  for v in 1 2; do
    acts=$($OF dump-flows "$(br "$h")" "table=20,metadata=$((100 + v))" | grep 'priority=10,' || true)
    [[ $acts == *"group:$v"* ]] || fail "$h: vpc$v's default rule does not go to group $v: $acts"
  done
done
ok "every host: groups 1 (2 buckets) and 2 (1 bucket); vpc1 -> group 1, vpc2 -> group 2"

# ---- 2. Each gateway holds only its cluster's VPCs.
for g in gw1 gw2 gw3; do
  vpcs=$(gwctl "$g" --json endpoints | python3 -c 'import json, sys
print(",".join(sorted({e["endpoint"]["vpc"] for e in json.load(sys.stdin).get("endpoints", [])})))')
  want=vpc1
  [ "$g" != gw3 ] || want=vpc2
  [ "$vpcs" = "$want" ] || fail "$g holds endpoints of '$vpcs', not only $want"
done
ok "gw1 and gw2 hold only vpc1, gw3 only vpc2"

# ---- 3. Traffic in both VPCs from the first packet, via the VPC's cluster.
a=host1-vm1 b=host2-vm1 # vpc1
c=host1-vm2 d=host2-vm2 # vpc2, same addresses as vpc1's
[ "$(vm "$a" vpc)" = 1 ] && [ "$(vm "$c" vpc)" = 2 ] || fail "unexpected VM plan"
ipb=$(vm "$b" ip) ipd=$(vm "$d" ip)
ping_ok "$a" "$ipb" || fail "first ping in vpc1 $a -> $b lost"
ping_ok "$c" "$ipd" || fail "first ping in vpc2 $c -> $d lost"
# OVS's flow counters lag the datapath (~0.5 s): wait for them.
crossed() { [ "$(($(gw_count "$1" "$2" "$3") + 0))" -ge 1 ]; }
wait_for 5 crossed gw3 102 "$ipd" || fail "vpc2's first packet did not cross gw3"
n3=$(gw_count gw3 102 "$ipd")
for g in gw1 gw2; do
  [ -z "$(gw_count "$g" 102 "$ipd")" ] || fail "$g holds a forwarding flow of vpc2"
done
either() { crossed gw1 101 "$ipb" || crossed gw2 101 "$ipb"; }
wait_for 5 either || fail "vpc1's first packet did not cross gw1 or gw2"
n12=$(($(gw_count gw1 101 "$ipb") + $(gw_count gw2 101 "$ipb")))
[ -z "$(gw_count gw3 101 "$ipb")" ] || fail "gw3 holds a forwarding flow of vpc1"
ping_ok "$a" "$ipb" 3 || fail "pings in vpc1 after the first"
ping_ok "$c" "$ipd" 3 || fail "pings in vpc2 after the first"
ok "both VPCs (same addresses) from their first packet: vpc1 via gw1/gw2 ($n12), vpc2 via gw3 ($n3)"

# ---- 4. No event, no change: the clusters' reconcilers leave each other alone.
for h in $HOSTS; do standing "$h" > "$LAB_DIR/standing-$h.before"; done
# The property is about a span of time with nothing happening: wait it out.
sleep 10
for h in $HOSTS; do
  standing "$h" > "$LAB_DIR/standing-$h.after"
  diff -u "$LAB_DIR/standing-$h.before" "$LAB_DIR/standing-$h.after" > /dev/null ||
    fail "$h's rules changed with no event: $(diff "$LAB_DIR/standing-$h.before" "$LAB_DIR/standing-$h.after" | head -5)"
  # And none was rewritten in place: every standing flow is at least 10 s old.
  young=$($OF dump-flows "$(br "$h")" | grep -v 'cookie=0x5c0002' |
    sed -n 's/.*duration=\([0-9]*\)\..*/\1/p' | awk '$1 < 10' | wc -l)
  [ "$young" = 0 ] || fail "$h: $young standing flows were rewritten in the last 10 s"
done
ok "10 s with no event: every host's rules and groups unchanged, none rewritten"

# ---- 5. A new VM through managerd: online on its host, reached.
nvm=$LAB_NAME-new1
ip netns add "$nvm"
ip -n "$(lab_ns host3)" link add vm-new1 type veth peer name eth0 netns "$nvm"
ip -n "$(lab_ns host3)" link set vm-new1 up
ip -n "$nvm" link set lo up
ip -n "$nvm" link set eth0 address 02:5c:77:00:00:01
ip -n "$nvm" link set eth0 up
ip -n "$nvm" addr add 10.0.7.7/16 dev eth0
ip -n "$nvm" route add default via 10.0.0.1 dev eth0
ip netns exec "$nvm" ethtool -K eth0 tx off > /dev/null
ovs-vsctl --db="unix:$LAB_DIR/host3/db.sock" --timeout=10 add-port br-int vm-new1 \
  -- set Interface vm-new1 external_ids:iface-id=new1
status=$(mgr --json endpoint create new1 --vpc vpc2 --network net1 --ipv4 10.0.7.7 \
  --mac 02:5c:77:00:00:01 --host host3 --iface-id new1 |
  python3 -c 'import json, sys; print(json.load(sys.stdin).get("status", ""))') ||
  fail "endpoint create failed"
[ "$status" = ENDPOINT_STATUS_ONLINE ] || fail "new1 answered '$status', not online"
ping_ok "$c" 10.0.7.7 || fail "new VM new1 not reached from $c"
ok "a VM created through managerd answered ONLINE and is reached"

# ---- 6. gw3's daemon killed and restarted empty: managerd reloads it.
old=$(mgr --json gw show gw3 | python3 -c 'import json, sys; g = json.load(sys.stdin); print(g.get("instance_id", g.get("instanceId", "")))')
[ -n "$old" ] || fail "no instance id for gw3"
for h in $HOSTS; do standing "$h" > "$LAB_DIR/standing-$h.before"; done
kill -9 "$(< "$LAB_DIR/gw3/gatewayd.pid")"
ip netns exec "$(lab_ns gw3)" setsid "$SHORTCUT_GATEWAYD" --config "$LAB_DIR/gw3/gatewayd.json" \
  > "$LAB_DIR/gw3/gatewayd-2.log" 2>&1 < /dev/null &
echo $! > "$LAB_DIR/gw3/gatewayd.pid"
disown
reloaded() {
  mgr --json gw show gw3 | python3 -c 'import json, sys
g = json.load(sys.stdin)
new = g.get("instance_id", g.get("instanceId", ""))
sys.exit(0 if g.get("state") == "GATEWAY_STATE_READY" and new not in ("", sys.argv[1]) else 1)' "$old"
}
wait_for 20 reloaded || fail "managerd did not reload the restarted gw3: $(mgr --json gw show gw3)"
eps=$(gwctl gw3 --json stats | python3 -c 'import json, sys; print(json.load(sys.stdin).get("endpoints", 0))')
[ "$eps" = 4 ] || fail "reloaded gw3 holds $eps endpoints, not vpc2's 4"
e=host3-vm2
ping_ok "$c" "$(vm "$e" ip)" || fail "no traffic in vpc2 after gw3's restart"
for h in $HOSTS; do
  standing "$h" > "$LAB_DIR/standing-$h.after"
  diff -u "$LAB_DIR/standing-$h.before" "$LAB_DIR/standing-$h.after" > /dev/null ||
    fail "$h's rules changed across gw3's restart: $(diff "$LAB_DIR/standing-$h.before" "$LAB_DIR/standing-$h.after" | head -5)"
done
ok "gw3 restarted empty: reloaded by managerd (new instance, $eps endpoints), hosts unchanged, traffic goes on"

echo "PASS clusters"
