#!/usr/bin/env bash
# Cluster management end to end (seed 004 sections 3.3 and 5.4), driven
# through shortcut-managerd only, real OVS and real packets: 3 hosts,
# gw1+gw2 serve vpc1 (cluster 1), gw3 serves vpc2 (cluster 2), pings
# running in both VPCs throughout. Usage: cluster_mgmt.sh BIN_DIR
#   1. gw1's daemon killed (kill -9): traffic goes on through gw2 (BFD);
#      after the health deadline managerd takes gw1 out of the buckets
#      (role JOINING, every host's group 1 has gw2's bucket only) and a new
#      VM on every host, the one gw1 programmed included, comes ONLINE;
#   2. gw1 restarted empty: reloaded, then back in the buckets (SERVING,
#      two buckets on every host);
#   3. gw2 removed from cluster 1: drained (out of the buckets first, no
#      ping lost), then unloaded (a spare holding nothing);
#   4. gw2 added to cluster 2: it loads vpc2 before it joins (no ping of
#      vpc2 lost); host3, which holds no VM of vpc2 any more, receives no
#      OpenFlow change (counted in its ovs-vswitchd's own log of received
#      messages), while host1 and host2 get their group 2 rewritten;
#   5. vpc1 moved from cluster 1 to cluster 2 (make-before-break) while a
#      ping runs between its VMs on host1 and host3 and their direct paths
#      are deleted every 200 ms (so that half the packets cross the
#      gateways, before, during and after the switch): no ping lost; both
#      hosts' rules of vpc1 carry cluster 2's cookie and send to group 2,
#      group 1 is gone, gw1 holds nothing; host2, which holds no VM of
#      vpc1, receives no OpenFlow change.
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/lib.sh" "$1" cmgmt
export SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd SHORTCUT_MANAGERD=$BIN/shortcut-managerd

lab up --hosts 3 --gateways 3 --clusters 2 --vpcs 2 --vms-per-host 2 > /dev/null 2>&1 ||
  fail "up failed"
lab start || fail "start failed"
ok "management plane and gateways started, every VM online"

now_ms() { date +%s%3N; }
HOSTS="host1 host2 host3"
gw_field() { # gw_field GW FIELD
  mgr --json gw show "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"
}
role_is() { [ "$(gw_field "$1" role)" = "GATEWAY_ROLE_$2" ]; }
buckets() { # buckets HOST GROUP: its number of buckets ("" without the group)
  $OF dump-groups "$(br "$1")" | grep "group_id=$2," | grep -o 'bucket=' | wc -l
}
all_buckets() { # all_buckets GROUP N HOSTS...: every host's group has N buckets
  local g=$1 n=$2 h
  for h in "${@:3}"; do [ "$(buckets "$h" "$g")" = "$n" ] || return 1; done
}
gw_endpoints() { gwctl "$1" --json stats | python3 -c 'import json, sys; print(json.load(sys.stdin).get("endpoints", 0))'; }

# Management plane settings: a cluster of one member is fine here (so that
# a spare is not taken at once to refill one), health deadline 1.5 s.
ovsdb-client transact "unix:$LAB_DIR/mgr/nb.sock" \
  '["Shortcut_Northbound", {"op": "update", "table": "NB_Global", "where": [],
    "row": {"min_cluster_members": 1, "health_deadline_ms": 1500}}]' > /dev/null ||
  fail "could not set NB_Global"

# Pings in both VPCs for the whole test, 20 per second, bounded in count.
a=host1-vm1 b=host3-vm1 # vpc1: host1 -> host3
c=host1-vm2 d=host2-vm2 # vpc2: host1 -> host2
[ "$(vm "$a" vpc)" = 1 ] && [ "$(vm "$c" vpc)" = 2 ] || fail "unexpected VM plan"
start_pings() { # start_pings FROM TO OUT: 20/s for at most 60 s
  lab exec "$1" -- ping -D -O -i 0.05 -c 1200 -W 1 "$2" > "$3" 2>&1 &
  echo $!
}
lost_in() { # lost_in FILE: replies missing so far (answered seqs vs the last sent)
  python3 - "$1" << 'PY'
import re, sys
seen, last = set(), 0
for line in open(sys.argv[1]):
    m = re.search(r"icmp_seq=(\d+)", line)
    if not m: continue
    s = int(m.group(1)); last = max(last, s)
    if "bytes from" in line: seen.add(s)
# The last second may still be in flight.
print(sum(1 for s in range(1, max(1, last - 20)) if s not in seen))
PY
}
last_seq() { # last_seq FILE: the highest icmp_seq ping reported (answered or not)
  { grep -o 'icmp_seq=[0-9]*' "$1" || echo icmp_seq=0; } | cut -d= -f2 | sort -n | tail -1
}
past() { [ "$(last_seq "$1")" -ge "$2" ]; } # past FILE SEQ
# settled FILE: until every ping sent so far is answered or reported lost
# (ping -O says so after its 1 s -W; lost_in leaves out the last 20).
settled() {
  local target=$(($(last_seq "$1") + 25))
  wait_for 10 past "$1" "$target" || fail "pings in $1 stopped"
}

# ---- 1. gw1 killed: out of the buckets after the deadline; VMs still come online.
ping_ok() { lab exec "$1" -- ping -c 1 -W 2 -q "$2" > /dev/null 2>&1; }
ping_ok "$a" "$(vm "$b" ip)" || fail "no first ping in vpc1"
ping_ok "$c" "$(vm "$d" ip)" || fail "no first ping in vpc2"
all_buckets 1 2 $HOSTS || fail "group 1 has not 2 buckets everywhere before the kill"
role_is gw1 SERVING || fail "gw1 is not serving: $(mgr gw show gw1)"
p1=$(start_pings "$a" "$(vm "$b" ip)" "$LAB_DIR/ping-vpc1.txt")
p2=$(start_pings "$c" "$(vm "$d" ip)" "$LAB_DIR/ping-vpc2.txt")
wait_for 10 past "$LAB_DIR/ping-vpc1.txt" 10 || fail "pings in vpc1 did not start"
wait_for 10 past "$LAB_DIR/ping-vpc2.txt" 10 || fail "pings in vpc2 did not start"
t_kill=$(now_ms)
kill -9 "$(< "$LAB_DIR/gw1/gatewayd.pid")"
wait_for 10 role_is gw1 JOINING || fail "managerd did not take gw1 out: $(mgr gw show gw1)"
t_role=$(now_ms)
wait_for 10 all_buckets 1 1 $HOSTS || fail "hosts' group 1 still has gw1's bucket"
t_groups=$(now_ms)
why=$(grep -o "take gateway gw1 out of cluster 1's buckets.*" "$LAB_DIR/mgr/managerd.log" | head -1)
ok "gw1 killed: out of the buckets after $((t_role - t_kill)) ms (deadline 1500), every host's group rewritten after $((t_groups - t_kill)) ms; managerd: $why"
n=0
for h in $HOSTS; do
  n=$((n + 1))
  ip=10.0.9.$n
  status=$(mgr --json endpoint create "late$n" --vpc vpc1 --network net1 --ipv4 "$ip" \
    --mac "02:5c:99:00:00:0$n" --host "$h" --iface-id "late$n" --timeout-ms 100 |
    python3 -c 'import json, sys; print(json.load(sys.stdin).get("status", ""))')
  [ -n "$status" ] || fail "endpoint late$n not created"
  # Its port appears after the endpoint: it goes online when bound.
  nvm=$LAB_NAME-late$n
  ip netns add "$nvm"
  ip -n "$(lab_ns "$h")" link add "vm-late$n" type veth peer name eth0 netns "$nvm"
  ip -n "$(lab_ns "$h")" link set "vm-late$n" up
  ip -n "$nvm" link set lo up
  ip -n "$nvm" link set eth0 address "02:5c:99:00:00:0$n"
  ip -n "$nvm" link set eth0 up
  ip -n "$nvm" addr add "$ip/16" dev eth0
  ip -n "$nvm" route add default via 10.0.0.1 dev eth0
  ip netns exec "$nvm" ethtool -K eth0 tx off > /dev/null
  ovs-vsctl --db="unix:$LAB_DIR/$h/db.sock" --timeout=10 add-port br-int "vm-late$n" \
    -- set Interface "vm-late$n" "external_ids:iface-id=late$n"
done
online() { [ "$(mgr --json endpoint show "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("status", ""))')" = ENDPOINT_STATUS_ONLINE ]; }
for n in 1 2 3; do
  wait_for 15 online "late$n" || fail "late$n (on host$n) did not come online with gw1 dead"
done
ping_ok "$a" 10.0.9.3 || fail "late3 not reached"
ok "with gw1 dead, a new VM on each host came ONLINE and is reached"

# ---- 2. gw1 back, empty: reloaded, then in the buckets again.
ip netns exec "$(lab_ns gw1)" setsid "$SHORTCUT_GATEWAYD" --config "$LAB_DIR/gw1/gatewayd.json" \
  > "$LAB_DIR/gw1/gatewayd-2.log" 2>&1 < /dev/null &
echo $! > "$LAB_DIR/gw1/gatewayd.pid"
disown
wait_for 30 role_is gw1 SERVING || fail "gw1 did not rejoin: $(mgr gw show gw1)"
[ "$(gw_endpoints gw1)" = "$(gw_endpoints gw2)" ] || fail "gw1 rejoined holding $(gw_endpoints gw1) endpoints, gw2 $(gw_endpoints gw2)"
wait_for 10 all_buckets 1 2 $HOSTS || fail "hosts' group 1 did not get gw1's bucket back"
ok "gw1 restarted: reloaded ($(gw_endpoints gw1) endpoints), back in every host's group 1"

# ---- 3. gw2 drained out of cluster 1, then unloaded.
lost1=$(lost_in "$LAB_DIR/ping-vpc1.txt")
mgr cluster remove-member 1 gw2 > /dev/null || fail "remove-member refused"
wait_for 15 all_buckets 1 1 $HOSTS || fail "gw2 not drained from group 1"
spare() { [ "$(gw_field gw2 cluster_id)" = "" ] || [ "$(gw_field gw2 cluster_id)" = 0 ]; }
wait_for 15 spare || fail "gw2 never became a spare: $(mgr gw show gw2)"
empty() { [ "$(gw_endpoints gw2)" = 0 ]; }
wait_for 15 empty || fail "gw2 still holds $(gw_endpoints gw2) endpoints after leaving"
settled "$LAB_DIR/ping-vpc1.txt"
lost1b=$(lost_in "$LAB_DIR/ping-vpc1.txt")
[ "$lost1b" = "$lost1" ] || fail "vpc1 lost $((lost1b - lost1)) pings while gw2 was drained"
ok "gw2 drained from cluster 1 (no ping lost), then unloaded and a spare"

# ---- 4. gw2 added to cluster 2: loaded before it joins; host3 untouched.
# host3 gives up its VM of vpc2: it holds nothing of cluster 2 any more.
key3=$(mgr --json endpoint list --host host3 | python3 -c 'import json, sys
for e in json.load(sys.stdin).get("endpoints", []):
    if e["vpc"] == "vpc2": print(e["key"])')
[ -n "$key3" ] || fail "no vpc2 endpoint on host3"
for k in $key3; do mgr endpoint delete "$k" > /dev/null; done
no_group2() { [ "$(buckets host3 2)" = 0 ]; }
wait_for 10 no_group2 || fail "host3 still holds group 2 without a VM of vpc2"
for h in $HOSTS; do
  ovs-appctl -t "$LAB_DIR/$h/ovs-vswitchd.ctl" vlog/set vconn:file:dbg > /dev/null
  # Every message logged: the rate limit (600 a minute) would hide some.
  ovs-appctl -t "$LAB_DIR/$h/ovs-vswitchd.ctl" vlog/disable-rate-limit vconn > /dev/null
  wc -l < "$LAB_DIR/$h/ovs-vswitchd.log" > "$LAB_DIR/$h/log.mark"
done
lost2=$(lost_in "$LAB_DIR/ping-vpc2.txt")
mgr cluster add-member 2 gw2 > /dev/null || fail "add-member refused"
wait_for 30 role_is gw2 SERVING || fail "gw2 did not join cluster 2: $(mgr gw show gw2)"
wait_for 10 all_buckets 2 2 host1 host2 || fail "group 2 on host1/host2 did not get gw2's bucket"
[ "$(gw_endpoints gw2)" = "$(gw_endpoints gw3)" ] || fail "gw2 holds $(gw_endpoints gw2) endpoints, gw3 $(gw_endpoints gw3)"
since_mark() { # since_mark HOST PATTERN: its log lines since the mark matching PATTERN
  tail -n +"$(($(< "$LAB_DIR/$1/log.mark") + 1))" "$LAB_DIR/$1/ovs-vswitchd.log" |
    grep -c "$2" || true
}
# Each switch logs what it received in order: once it logged a dump
# request sent now, it logged every message received before it.
logged() { [ "$(since_mark "$1" 'received: .*GROUP_DESC request')" -gt "$2" ]; }
for h in $HOSTS; do
  n=$(since_mark "$h" 'received: .*GROUP_DESC request')
  $OF dump-groups "$(br "$h")" > /dev/null
  wait_for 10 logged "$h" "$n" || fail "$h's log did not show the dump request"
done
changes() { since_mark "$1" 'received: [A-Z]*_\(FLOW_MOD\|GROUP_MOD\|BUNDLE\)'; }
c1=$(changes host1) c2=$(changes host2) c3=$(changes host3)
for h in $HOSTS; do ovs-appctl -t "$LAB_DIR/$h/ovs-vswitchd.ctl" vlog/set vconn:file:info > /dev/null; done
[ "$c3" = 0 ] || fail "host3 (no VM of cluster 2) received $c3 OpenFlow changes"
[ "$c1" -gt 0 ] && [ "$c2" -gt 0 ] || fail "host1/host2 got $c1/$c2 OpenFlow changes: the counter saw none"
settled "$LAB_DIR/ping-vpc2.txt"
lost2b=$(lost_in "$LAB_DIR/ping-vpc2.txt")
[ "$lost2b" = "$lost2" ] || fail "vpc2 lost $((lost2b - lost2)) pings while gw2 joined"
ok "gw2 joined cluster 2 after loading vpc2 (no ping lost); OpenFlow changes received: host1 $c1, host2 $c2, host3 $c3"

# ---- 5. vpc1 moves to cluster 2, make-before-break.
# host2 gives up its VMs of vpc1: it is outside the move.
for k in $(mgr --json endpoint list --host host2 | python3 -c 'import json, sys
for e in json.load(sys.stdin).get("endpoints", []):
    if e["vpc"] == "vpc1": print(e["key"])'); do
  mgr endpoint delete "$k" > /dev/null
done
no_group1() { [ "$(buckets host2 1)" = 0 ]; }
wait_for 10 no_group1 || fail "host2 still holds group 1 without a VM of vpc1"
vni=$(mgr --json vpc show vpc1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["vni"])')
cookie() { printf '0x%x' $(((0x5c0001 << 40) | ($1 << 24) | vni)); } # cookie CLUSTER
# default_to HOST GROUP: vpc1's default route on HOST goes to GROUP, with
# that cluster's cookie.
default_to() {
  $OF dump-flows "$(br "$1")" "table=20,metadata=$vni" | grep 'priority=10,' |
    grep "cookie=$(cookie "$2")" | grep -q "group:$2"
}
default_to host1 1 && default_to host3 1 || fail "vpc1's default route is not group 1 before the move"
for h in $HOSTS; do
  ovs-appctl -t "$LAB_DIR/$h/ovs-vswitchd.ctl" vlog/set vconn:file:dbg > /dev/null
  # Every message logged: the rate limit (600 a minute) would hide some.
  ovs-appctl -t "$LAB_DIR/$h/ovs-vswitchd.ctl" vlog/disable-rate-limit vconn > /dev/null
  wc -l < "$LAB_DIR/$h/ovs-vswitchd.log" > "$LAB_DIR/$h/log.mark"
done
packet_ins() { gwctl "$1" --json stats | python3 -c 'import json, sys; print(json.load(sys.stdin).get("packet_ins", 0))'; }
pi_before=$(($(packet_ins gw2) + $(packet_ins gw3)))
p3=$(start_pings "$a" "$(vm "$b" ip)" "$LAB_DIR/ping-move.txt")
wait_for 10 past "$LAB_DIR/ping-move.txt" 10 || fail "pings in vpc1 did not start"
# vpc1's direct paths deleted every 200 ms on both hosts, at most 20 s
# (vpc2's pings keep theirs: host2 must see no change).
(for _ in $(seq 100); do
  for h in host1 host3; do
    $OF del-flows "$(br "$h")" "cookie=0x5c00020000000000/0xffffff0000000000,metadata=$vni" 2> /dev/null || true
  done
  sleep 0.2
done) &
flapper=$!
sleep 1 # Packets cross cluster 1's gateway before the move.
moved=$(mgr vpc move vpc1 --to 2 --wait --timeout 30) || fail "vpc1 did not move: $(mgr vpc show vpc1)"
sleep 1 # ... and cluster 2's after it.
kill "$flapper" 2> /dev/null || true
wait "$flapper" 2> /dev/null || true
settled "$LAB_DIR/ping-move.txt"
lost3=$(lost_in "$LAB_DIR/ping-move.txt")
sent3=$(last_seq "$LAB_DIR/ping-move.txt")
kill "$p3" 2> /dev/null || true
pi_after=$(($(packet_ins gw2) + $(packet_ins gw3)))
for h in $HOSTS; do
  n=$(since_mark "$h" 'received: .*GROUP_DESC request')
  $OF dump-groups "$(br "$h")" > /dev/null
  wait_for 10 logged "$h" "$n" || fail "$h's log did not show the dump request"
done
c1=$(changes host1) c2=$(changes host2) c3=$(changes host3)
for h in $HOSTS; do ovs-appctl -t "$LAB_DIR/$h/ovs-vswitchd.ctl" vlog/set vconn:file:info > /dev/null; done
[ "$lost3" = 0 ] || fail "vpc1 lost $lost3 of $sent3 pings while it moved ($moved)"
[ "$pi_after" -gt "$pi_before" ] || fail "no first packet crossed cluster 2's gateways after the move"
default_to host1 2 && default_to host3 2 || fail "vpc1's default route is not cluster 2's group after the move: $($OF dump-flows "$(br host1)" "table=20,metadata=$vni")"
for h in $HOSTS; do
  [ "$(buckets "$h" 1)" = 0 ] || fail "$h still holds group 1 (cluster 1 serves no VPC now)"
done
[ "$(gw_endpoints gw1)" = 0 ] || fail "gw1 still holds $(gw_endpoints gw1) endpoints"
[ "$(gw_endpoints gw2)" = "$(gw_endpoints gw3)" ] || fail "gw2 holds $(gw_endpoints gw2) endpoints, gw3 $(gw_endpoints gw3)"
received() { # received HOST: the changes it logged since its mark
  tail -n +"$(($(< "$LAB_DIR/$1/log.mark") + 1))" "$LAB_DIR/$1/ovs-vswitchd.log" |
    grep 'received: [A-Z]*_\(FLOW_MOD\|GROUP_MOD\|BUNDLE\)' | head -${2:-8}
}
[ "$c2" = 0 ] || fail "host2 (no VM of vpc1) received $c2 OpenFlow changes during the move: $(received host2)"
[ "$c1" -gt 0 ] && [ "$c3" -gt 0 ] || fail "host1/host3 got $c1/$c3 OpenFlow changes: the counter saw none"
standing() { received "$1" 1000 | grep -vc 'cookie:0x5c0002' || true; } # direct paths aside
ok "$moved; 0 of $sent3 pings lost ($((pi_after - pi_before)) first packets through cluster 2's gateways); OpenFlow changes received: host1 $c1 ($(standing host1) without direct paths), host2 $c2, host3 $c3 ($(standing host3))"

kill "$p1" "$p2" 2> /dev/null || true
for h in $HOSTS gw1 gw2 gw3; do
  if grep -E 'ofp_|OFPERR|bad request' "$LAB_DIR/$h/ovs-vswitchd.log" | grep -qi 'err'; then
    fail "$h's ovs-vswitchd logged an OpenFlow error: $(grep -Ei 'OFPERR' "$LAB_DIR/$h/ovs-vswitchd.log" | head -2)"
  fi
done
ok "no OpenFlow error in any ovs-vswitchd log; vpc1 lost $(lost_in "$LAB_DIR/ping-vpc1.txt") pings in all (gw1's death included)"
echo "PASS cluster_mgmt"
