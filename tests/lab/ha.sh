#!/usr/bin/env bash
# The management plane survives the loss of any one server: `start --ha`
# runs the database as a 3-server Raft cluster and two shortcut-managerd
# (m1, m2, active/standby through the database lock). Usage: ha.sh BIN_DIR
#   - exactly one manager is active, and `status` shows it with each
#     server's Raft role; the standby refuses a write naming the active one;
#   - VMs talk; then the active managerd is killed (kill -9): the standby
#     becomes active, a VM created through the API afterwards comes ONLINE
#     and is reached, and every host and gateway holds what it held before
#     apart from that VM (rules, groups, gateway endpoints and flows);
#   - the Raft leader is killed (kill -9): a write through the API succeeds
#     after the election, and every row committed before is on a surviving
#     server;
#   - no ovs-vswitchd logged an OpenFlow error reply.
# Every wait is bounded.
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/lib.sh" "$1" ha
export SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd SHORTCUT_MANAGERD=$BIN/shortcut-managerd

lab up --hosts 2 --gateways 2 --clusters 1 --vpcs 1 --vms-per-host 2 > /dev/null 2>&1 ||
  fail "up failed"
lab start --ha || fail "start --ha failed"
ok "3 database servers (Raft), m1 and m2, gateways started, every VM online"

M=$LAB_DIR/mgr
MGRS=$(< "$M/managers")
HOSTS="host1 host2"
GWS="gw1 gw2"
mgr() { SHORTCUT_MANAGER="$MGRS" "$SHORTCUTCTL" --timeout 10 "$@"; }
mgr_quick() { SHORTCUT_MANAGER="$MGRS" "$SHORTCUTCTL" --timeout 2 "$@"; }
gwctl() { "$SHORTCUTCTL" gateway --server "unix:$LAB_DIR/$1/gatewayd.sock" --timeout 10 "${@:2}"; }
ping_ok() { lab exec "$1" -- ping -c "${3:-1}" -i 0.2 -W 2 -q "$2" > /dev/null 2>&1; }
now_ms() { date +%s%3N; }

# The active manager's name as the managers report it; fails unless exactly
# one says ACTIVE.
active() {
  mgr --json manager status 2> /dev/null | python3 -c 'import json, sys
act = [m["status"]["name"] for m in json.load(sys.stdin)["managers"]
       if m.get("status", {}).get("role") == "MANAGER_ROLE_ACTIVE"]
if len(act) != 1: sys.exit(1)
print(act[0])'
}
is_active() { [ "$(active)" = "$1" ]; }
# Raft role of database server I (1..3), from the server itself.
raft_role() {
  ovs-appctl -t "$M/nb$1.ctl" cluster/status Shortcut_Northbound 2> /dev/null |
    sed -n 's/^Role: //p'
}
leader() {
  local i
  for i in 1 2 3; do
    if [ "$(raft_role "$i")" = leader ]; then echo "$i"; return 0; fi
  done
  return 1
}

# What a node holds, without counters or ages, sorted. Direct paths (cookie
# 0x5c0002, installed by traffic and idling out) are not the control plane's.
host_dump() {
  { $OF --no-stats dump-flows "$(br "$1")" | grep -v 'cookie=0x5c0002' | sed 's/^ *//'
    $OF dump-groups "$(br "$1")" | { grep group_id || true; } | sed 's/^ *//'; } | sort
}
gw_dump() {
  { gwctl "$1" --json endpoints | python3 -c 'import json, sys
for e in sorted(json.load(sys.stdin).get("endpoints", []), key=lambda e: e["endpoint"]["key"]):
    print("endpoint", json.dumps(e["endpoint"], sort_keys=True))'
    $OF --no-stats dump-flows "$(br "$1")" | sed 's/^ *//'
    $OF dump-groups "$(br "$1")" | { grep group_id || true; } | sed 's/^ *//'; } | sort
}
# young NODE SECONDS: control-plane flows of NODE installed or rewritten in
# the last SECONDS (a rewrite with equal content shows only in its age).
young() {
  $OF dump-flows "$(br "$1")" | grep -v 'cookie=0x5c0002' |
    sed -n 's/.*duration=\([0-9.]*\)s.*/\1/p' | awk -v s="$2" '$1 + 0 < s + 0' | wc -l
}
snapshot() { # snapshot SUFFIX
  local n
  for n in $HOSTS; do host_dump "$n" > "$LAB_DIR/dump-$n.$1"; done
  for n in $GWS; do gw_dump "$n" > "$LAB_DIR/dump-$n.$1"; done
}
# same_but NODE A B WORDS...: B holds all of A, and every line B adds names
# one of WORDS (the new VM's address, MAC or port).
same_but() {
  local node=$1 a=$LAB_DIR/dump-$1.$2 b=$LAB_DIR/dump-$1.$3 line w hit
  local gone added
  gone=$(comm -23 "$a" "$b")
  [ -z "$gone" ] || fail "$node lost what it held before: $(head -5 <<< "$gone")"
  added=$(comm -13 "$a" "$b")
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    hit=0
    for w in "${@:4}"; do
      if [[ $line == *"$w"* ]]; then hit=1; fi
    done
    [ "$hit" = 1 ] || fail "$node holds something new that is not the new VM's: $line"
  done <<< "$added"
}
# Rows of each table (and the endpoints' keys), read by ovsdb-client from
# server I.
db_dump() {
  ovsdb-client -f json dump "unix:$M/nb$1.sock" Shortcut_Northbound "${@:2}" 2> /dev/null
}
rows() {
  local t
  for t in Host Gateway Cluster Vpc Network Endpoint; do
    echo "$t $(db_dump "$1" "$t" | python3 -c 'import json, sys
d = json.load(sys.stdin)  # One table: an object; several: a list.
print(sum(len(t["data"]) for t in (d if isinstance(d, list) else [d])))')"
  done
}
keys() {
  db_dump "$1" Endpoint key | python3 -c 'import json, sys
for row in json.load(sys.stdin)["data"]: print(row[0])' | sort
}

# ---- 1. One active manager; status shows it and the Raft roles.
wait_for 20 active > /dev/null || fail "no single active manager: $(mgr manager status 2>&1)"
first=$(active)
[ "$first" = m1 ] || [ "$first" = m2 ] || fail "active manager '$first'"
other=m2
[ "$first" = m1 ] || other=m1
st=$(lab status) || fail "lab status failed: $st"
grep -Eq "^m1 +managerd .* (active|standby)$" <<< "$st" || fail "status shows no role for m1: $st"
[ "$(grep -Ec '^m[12] +managerd .* active$' <<< "$st")" = 1 ] ||
  fail "status does not show exactly one active managerd: $st"
[ "$(grep -Ec '^nb[123] +nb-server .* leader$' <<< "$st")" = 1 ] ||
  fail "status does not show exactly one Raft leader: $st"
[ "$(grep -Ec '^nb[123] +nb-server .* follower$' <<< "$st")" = 2 ] ||
  fail "status does not show two Raft followers: $st"
# The standby, asked alone, refuses a write and names the active one.
out=$(SHORTCUT_MANAGER="unix:$M/$other.sock" "$SHORTCUTCTL" --timeout 10 host register hx \
  --underlay-ip 172.31.9.1 2>&1) && fail "the standby $other accepted a write"
[[ $out == *"UNAVAILABLE"*"this manager ($other) is standby; the active one is $first at unix:$M/$first.sock"* ]] ||
  fail "the standby's refusal does not name the active one: $out"
ok "$first active, $other standby (refuses writes naming $first); status shows 1 Raft leader, 2 followers"

# ---- 2. Traffic, and what every node holds.
a=host1-vm1 b=host2-vm1
ping_ok "$a" "$(vm "$b" ip)" 3 || fail "no traffic $a -> $b"
ping_ok "$b" "$(vm "$a" ip)" 3 || fail "no traffic $b -> $a"
snapshot before
ok "traffic between VMs; dumps of hosts and gateways taken"

# ---- 3. kill -9 the active managerd: the standby takes over.
t0=$(now_ms)
kill -9 "$(< "$M/managerd-$first.pid")"
wait_for 10 is_active "$other" || fail "$other did not become active: $(mgr manager status 2>&1)"
# A write that no gateway or host hears of: a gateway in no cluster.
mgr gw register gx --underlay-ip 172.31.9.2 --grpc unix:/nonexistent --capacity 1 > /dev/null ||
  fail "write after takeover failed"
t1=$(now_ms)
ok "kill -9 $first: $other active and answered a write $((t1 - t0)) ms after the kill"
# Nothing moved on hosts and gateways with the takeover alone.
snapshot takeover
for n in $HOSTS $GWS; do same_but "$n" before takeover "no-such-word"; done
since=$(awk -v ms="$(($(now_ms) - t0))" 'BEGIN { printf "%.3f", ms / 1000 }')
for n in $HOSTS $GWS; do
  y=$(young "$n" "$since")
  [ "$y" = 0 ] || fail "$n: $y flows were rewritten since $first was killed ${since}s ago"
done
ok "after the takeover every host and gateway holds exactly what it held before, none rewritten"

# A VM created through the new active manager: ONLINE, reached.
nvm=$LAB_NAME-new1 nip=10.0.7.7 nmac=02:5c:77:00:00:01
ip netns add "$nvm"
ip -n "$(lab_ns host2)" link add vm-new1 type veth peer name eth0 netns "$nvm"
ip -n "$(lab_ns host2)" link set vm-new1 up
ip -n "$nvm" link set lo up
ip -n "$nvm" link set eth0 address "$nmac"
ip -n "$nvm" link set eth0 up
ip -n "$nvm" addr add "$nip/16" dev eth0
ip -n "$nvm" route add default via 10.0.0.1 dev eth0
ip netns exec "$nvm" ethtool -K eth0 tx off > /dev/null
ovs-vsctl --db="unix:$LAB_DIR/host2/db.sock" --timeout=10 add-port br-int vm-new1 \
  -- set Interface vm-new1 external_ids:iface-id=new1
nport=$(ovs-vsctl --db="unix:$LAB_DIR/host2/db.sock" --timeout=10 get Interface vm-new1 ofport)
status=$(mgr --json endpoint create new1 --vpc vpc1 --network net1 --ipv4 "$nip" --mac "$nmac" \
  --host host2 --iface-id new1 | python3 -c 'import json, sys; print(json.load(sys.stdin).get("status", ""))') ||
  fail "endpoint create failed"
[ "$status" = ENDPOINT_STATUS_ONLINE ] || fail "new1 answered '$status', not online"
ping_ok "$a" "$nip" 3 || fail "new VM new1 not reached from $a"
snapshot after
for n in $HOSTS $GWS; do
  same_but "$n" before after "$nip" "$nmac" "in_port=$nport," "output:$nport" "\"new1\""
done
ok "new VM created through $other: ONLINE, reached; hosts and gateways otherwise unchanged"

# ---- 4. kill -9 the Raft leader: writes go on, nothing committed is lost.
old=$(leader) || fail "no Raft leader"
rows "$old" > "$LAB_DIR/rows.before"
keys "$old" > "$LAB_DIR/keys.before"
t0=$(now_ms)
kill -9 "$(< "$M/ovsdb-server-nb$old.pid")"
n=0
written() { n=$((n + 1)); mgr_quick host register "hz$n" --underlay-ip "172.31.9.$((10 + n))" > /dev/null 2>&1; }
wait_for 30 written ||
  fail "no write succeeded within 30 s of killing the leader nb$old: $(mgr_quick host register \
    hw --underlay-ip 172.31.9.250 2>&1); $other's log: $(tail -5 "$M/managerd-$other.log")"
t1=$(now_ms)
new=$(leader) || fail "no new Raft leader"
[ "$new" != "$old" ] || fail "the killed server nb$old is still the leader"
ok "kill -9 of Raft leader nb$old: nb$new elected, a write succeeded $((t1 - t0)) ms after the kill"
survivor=$new
keys "$survivor" > "$LAB_DIR/keys.after"
lost=$(comm -23 "$LAB_DIR/keys.before" "$LAB_DIR/keys.after")
[ -z "$lost" ] || fail "endpoints lost with the leader: $lost"
rows "$survivor" > "$LAB_DIR/rows.after"
while read -r t before; do
  after=$(awk -v t="$t" '$1 == t { print $2 }' "$LAB_DIR/rows.after")
  want=$before
  [ "$t" != Host ] || want=$((before + 1))
  [ "$after" -ge "$want" ] || fail "$t: $after rows on nb$survivor, $want expected"
done < "$LAB_DIR/rows.before"
[ "$(wc -l < "$LAB_DIR/keys.after")" -ge 5 ] || fail "too few endpoints read: $(cat "$LAB_DIR/keys.after")"
wait_for 10 active > /dev/null || fail "no single active manager after the election"
ping_ok "$a" "$nip" 3 || fail "no traffic after the leader's loss"
ok "every row committed before is on nb$survivor ($(tr '\n' ' ' < "$LAB_DIR/rows.after")); $(active) active"

# ---- 5. No OpenFlow error reply in any switch's log.
errs=$(grep -h "error reply" "$LAB_DIR"/host*/ovs-vswitchd.log "$LAB_DIR"/gw*/ovs-vswitchd.log || true)
[ -z "$errs" ] || fail "OpenFlow errors in ovs-vswitchd logs: $(head -5 <<< "$errs")"
ok "no OpenFlow error in any ovs-vswitchd log"

echo "PASS ha"
