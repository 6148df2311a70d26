#!/usr/bin/env bash
# The highly available management plane over TLS: `shortcut-lab up --tls`,
# then `start --ha --tls` (2 hosts, 2 gateways, 1 VPC). Usage: tls_ha.sh BIN_DIR
#   - oracles that it is TLS, independent of Shortcut: each of the 3 Raft
#     servers' own cluster/status gives its address and every peer's as
#     ssl:, its remotes are its unix socket and one pssl: listener only,
#     the namespace listens on nothing else, its Raft sessions (ss) are
#     established, openssl s_client completes a handshake on every Raft and
#     client port (the server's certificate nbI), a plain TCP client is
#     refused there, a client with another CA's certificate is refused and
#     one with the lab's answered; both managers' database targets are
#     ssl: and both are connected (ss);
#   - the active managerd answers a write over mutual TLS; each manager
#     refuses a client without a certificate (UNAVAILABLE);
#   - kill -9 of the active managerd: the standby takes over and answers a
#     write; restarted (`restart mgr managerd-mJ`), the old one is standby;
#   - kill -9 of the Raft leader: a write succeeds after the election;
#     restarted (`restart mgr nbI`), the server rejoins over ssl:;
#   - traffic between VMs on the two hosts works before, during (pings
#     all along) and after these faults; `status` shows the roles; `down`
#     leaves nothing.
# Every wait is bounded.
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/lib.sh" "$1" tls_ha
export SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd SHORTCUT_MANAGERD=$BIN/shortcut-managerd
command -v openssl > /dev/null || fail "openssl not found"
command -v ovs-pki > /dev/null || fail "ovs-pki not found"

lab up --hosts 2 --gateways 2 --vms-per-host 1 --tls > /dev/null 2>&1 || fail "up --tls failed"
lab start --ha --tls || fail "start --ha --tls failed"
ok "3 database servers (Raft), m1 and m2, gateways started over TLS, every VM online"

M=$LAB_DIR/mgr
PKI=$LAB_DIR/pki
CTL_CA=$PKI/ca/controllerca/cacert.pem
[ -f "$PKI/ctl.env" ] || fail "no $PKI/ctl.env"
set -a
# shellcheck source=/dev/null
. "$PKI/ctl.env"
set +a
MGRS=$(< "$M/managers")
mgr() { SHORTCUT_MANAGER="$MGRS" "$SHORTCUTCTL" --timeout 10 "$@"; }
mgr_quick() { SHORTCUT_MANAGER="$MGRS" "$SHORTCUTCTL" --timeout 2 "$@"; }
now_ms() { date +%s%3N; }
in_mgr() { ip netns exec "$(lab_ns mgr)" "$@"; }

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
cluster_status() { ovs-appctl -t "$M/nb$1.ctl" cluster/status Shortcut_Northbound 2> /dev/null; }
raft_role() { cluster_status "$1" | sed -n 's/^Role: //p'; }
leader() {
  local i
  for i in 1 2 3; do
    if [ "$(raft_role "$i")" = leader ]; then echo "$i"; return 0; fi
  done
  return 1
}
# raft_tls I: server I's own view: its address ssl:127.0.0.1:665I, two
# peers listed, every address it knows ssl:, and it is a cluster member.
raft_tls() {
  local st
  st=$(cluster_status "$1") || return 1
  grep -qx "Address: ssl:127.0.0.1:665$1" <<< "$st" || return 1
  grep -qx "Status: cluster member" <<< "$st" || return 1
  [ "$(grep -Ec '^    [0-9a-f]{4} \([0-9a-f]{4} at ssl:127\.0\.0\.1:665[123]\)' <<< "$st")" = 3 ] ||
    return 1
  ! grep -Eq ' at (tcp|unix):' <<< "$st"
}
# raft_sessions: established TCP sessions between the servers' Raft ports
# (each pair of servers connects both ways: 6 sessions, 12 ends).
raft_sessions() {
  in_mgr ss -Htn state established '( sport >= :6651 and sport <= :6653 ) or ( dport >= :6651 and dport <= :6653 )' |
    wc -l
}
full_mesh() { [ "$(raft_sessions)" -ge 12 ]; }
ping_ok() { lab exec "$1" -- ping -c "${3:-1}" -i 0.2 -W 2 -q "$2" > /dev/null 2>&1; }
# s_client ARGS...: a TLS handshake's summary from the mgr namespace (no
# data sent).
s_client() {
  { timeout 20 ip netns exec "$(lab_ns mgr)" openssl s_client "$@" < /dev/null 2>&1 || true; } | tr -d '\0'
}
# nb_list PORT ARGS...: ovsdb-client list-dbs on PORT (ssl: with ARGS given).
nb_list() {
  local port=$1
  shift
  if [ $# -eq 0 ]; then
    in_mgr ovsdb-client --timeout=5 list-dbs "tcp:127.0.0.1:$port" 2>&1
  else
    in_mgr ovsdb-client --timeout=5 "$@" list-dbs "ssl:127.0.0.1:$port" 2>&1
  fi
}

# ---- 1. The database servers: Raft and client links TLS only. ----
for i in 1 2 3; do
  wait_for 20 raft_tls "$i" || fail "nb$i: Raft not all ssl: $(cluster_status "$i")"
  remotes=$(ovs-appctl -t "$M/nb$i.ctl" ovsdb-server/list-remotes | sort | tr '\n' ' ')
  [ "$remotes" = "pssl:664$i:127.0.0.1 punix:$M/nb$i.sock " ] || fail "nb$i: remotes $remotes"
done
listeners=$(in_mgr ss -Htln | awk '{ print $4 }' | sort | tr '\n' ' ')
[ "$listeners" = "127.0.0.1:6641 127.0.0.1:6642 127.0.0.1:6643 127.0.0.1:6651 127.0.0.1:6652 127.0.0.1:6653 " ] ||
  fail "TCP listeners in $(lab_ns mgr): $listeners"
wait_for 20 full_mesh || fail "Raft sessions: $(raft_sessions) ends established, 12 expected"
# Another CA, for clients that must be refused.
mkdir "$LAB_DIR/other"
(cd "$LAB_DIR/other" && ovs-pki --dir="$LAB_DIR/other/ca" --log="$LAB_DIR/other/ovs-pki.log" init &&
  ovs-pki --dir="$LAB_DIR/other/ca" --log="$LAB_DIR/other/ovs-pki.log" -u req+sign intruder controller) \
  > /dev/null 2>&1 || fail "ovs-pki: another CA"
OTHER=(-p "$LAB_DIR/other/intruder-privkey.pem" -c "$LAB_DIR/other/intruder-cert.pem" -C "$CTL_CA")
LAB_CERT=(-p "$SHORTCUT_TLS_KEY" -c "$SHORTCUT_TLS_CERT" -C "$CTL_CA")
for i in 1 2 3; do
  for port in "664$i" "665$i"; do
    out=$(s_client -connect "127.0.0.1:$port" -cert "$SHORTCUT_TLS_CERT" -key "$SHORTCUT_TLS_KEY" -CAfile "$CTL_CA")
    grep -q "Verify return code: 0 (ok)" <<< "$out" || fail "nb$i on $port: $out"
    grep -q "subject=.*CN *= *nb$i\$" <<< "$out" || fail "nb$i on $port: certificate: $out"
    out=$(nb_list "$port") && fail "nb$i answered a plain TCP client on $port: $out"
  done
  out=$(nb_list "664$i" "${LAB_CERT[@]}") || fail "nb$i refused the lab's certificate: $out"
  grep -qx Shortcut_Northbound <<< "$out" || fail "nb$i: list-dbs: $out"
  out=$(nb_list "664$i" "${OTHER[@]}") && fail "nb$i answered another CA's certificate: $out"
done
for j in m1 m2; do
  grep -q '"nb": "ssl:127.0.0.1:6641,ssl:127.0.0.1:6642,ssl:127.0.0.1:6643"' "$M/managerd-$j.json" ||
    fail "managerd-$j.json: database targets not ssl: $(cat "$M/managerd-$j.json")"
done
mgr_sessions() {
  in_mgr ss -Htnp state established '( dport >= :6641 and dport <= :6643 )' |
    grep -c '"shortcut-manage' || true
}
both_connected() { [ "$(mgr_sessions)" -ge 2 ]; }
wait_for 20 both_connected || fail "managers' database sessions: $(mgr_sessions), 2 expected"
ok "Raft links and client remotes ssl: only (cluster/status, list-remotes, ss, s_client:" \
  "nb1..nb3); plain TCP and another CA refused; both managers connected over ssl:"

# ---- 2. The managers: mutual TLS. ----
wait_for 20 active > /dev/null || fail "no single active manager: $(mgr manager status 2>&1)"
first=$(active)
other=m2
[ "$first" = m1 ] || other=m1
for j in m1 m2; do
  out=$(s_client -unix "$M/$j.sock" -cert "$SHORTCUT_TLS_CERT" -key "$SHORTCUT_TLS_KEY" \
    -CAfile "$CTL_CA" -alpn h2)
  grep -q "Verify return code: 0 (ok)" <<< "$out" || fail "$j's socket: $out"
  grep -q "subject=.*CN *= *managerd" <<< "$out" || fail "$j's certificate: $out"
  if out=$(env -u SHORTCUT_TLS_CERT -u SHORTCUT_TLS_KEY -u SHORTCUT_TLS_CA -u SHORTCUT_TLS_SERVER_NAME \
    SHORTCUT_MANAGER="unix:$M/$j.sock" "$SHORTCUTCTL" --timeout 10 manager status 2>&1); then
    fail "$j answered a client without a certificate: $out"
  fi
  grep -q UNAVAILABLE <<< "$out" || fail "$j, no certificate: $out"
done
mgr gw register gx1 --underlay-ip 172.31.9.1 --grpc unix:/nonexistent --capacity 1 > /dev/null ||
  fail "the active manager $first refused a write over mTLS"
mgr --json gw list | grep -q '"gx1"' || fail "gx1 not listed after its write"
ok "$first active, $other standby; both serve mutual TLS (managerd); a write answered;" \
  "no certificate: UNAVAILABLE"

# ---- 3. Traffic, watched through the faults below. ----
a=host1-vm1 b=host2-vm1
dst=$(vm "$b" ip)
ping_ok "$a" "$dst" 3 || fail "no traffic $a -> $b"
# (ping itself, stopped by SIGINT below: it prints its count then.)
ip netns exec "$(lab_ns "$a")" ping -D -i 0.1 -c 1200 -W 1 "$dst" > "$LAB_DIR/ping.log" 2>&1 &
PING=$!
wait_for 10 grep -qs 'bytes from' "$LAB_DIR/ping.log" || fail "background pings did not start"

# ---- 4. kill -9 the active managerd. ----
t0=$(now_ms)
kill -9 "$(< "$M/managerd-$first.pid")"
wait_for 20 is_active "$other" || fail "$other did not become active: $(mgr manager status 2>&1)"
n=0
written() { n=$((n + 1)); mgr_quick gw register "gy$n" --underlay-ip "172.31.9.$((10 + n))" \
  --grpc unix:/nonexistent --capacity 1 > /dev/null 2>&1; }
wait_for 20 written || fail "no write after $first's loss: $(mgr gw register gyz \
  --underlay-ip 172.31.9.200 --grpc unix:/nonexistent --capacity 1 2>&1)"
t1=$(now_ms)
ok "kill -9 $first: $other active and answered a write over mTLS $((t1 - t0)) ms after the kill"
ping_ok "$a" "$dst" 3 || fail "no traffic after $first's loss"
lab restart mgr "managerd-$first" 2> /dev/null || fail "restart managerd-$first failed"
back_standby() {
  lab status 2> /dev/null | grep -Eq "^$first +managerd .* standby$"
}
wait_for 20 back_standby || fail "$first not standby after its restart: $(lab status 2>&1 | tail -7)"
ok "restarted, $first is standby"

# ---- 5. kill -9 the Raft leader. ----
old=$(leader) || fail "no Raft leader"
t0=$(now_ms)
kill -9 "$(< "$M/ovsdb-server-nb$old.pid")"
wait_for 30 written || fail "no write within 30 s of killing the leader nb$old: $(mgr_quick gw register \
  gyw --underlay-ip 172.31.9.250 --grpc unix:/nonexistent --capacity 1 2>&1)"
t1=$(now_ms)
new=$(leader) || fail "no new Raft leader"
[ "$new" != "$old" ] || fail "the killed server nb$old is still the leader"
ok "kill -9 of Raft leader nb$old: nb$new elected, a write succeeded $((t1 - t0)) ms after the kill"
ping_ok "$a" "$dst" 3 || fail "no traffic after the leader's loss"
lab restart mgr "nb$old" 2> /dev/null || fail "restart nb$old failed"
wait_for 30 raft_tls "$old" || fail "nb$old did not rejoin over ssl: $(cluster_status "$old")"
is_follower() { [ "$(raft_role "$old")" = follower ]; }
wait_for 30 is_follower || fail "nb$old: role $(raft_role "$old") after its restart"
wait_for 30 full_mesh || fail "Raft sessions after nb$old's restart: $(raft_sessions) ends"
out=$(nb_list "664$old" "${LAB_CERT[@]}") || fail "restarted nb$old refused the lab's certificate: $out"
st=$(lab status) || fail "lab status failed: $st"
[ "$(grep -Ec '^nb[123] +nb-server +ssl:127\.0\.0\.1:664[123] +(leader|follower)$' <<< "$st")" = 3 ] ||
  fail "status does not show 3 servers up on ssl: $st"
[ "$(grep -Ec '^m[12] +managerd .* active$' <<< "$st")" = 1 ] || fail "status: no single active: $st"
[ "$(grep -Ec '^m[12] +managerd .* standby$' <<< "$st")" = 1 ] || fail "status: no standby: $st"
mgr --json gw list | grep -q '"gx1"' || fail "gx1 lost"
ok "nb$old restarted, rejoined over ssl: as a follower; status shows 3 servers, 1 active, 1 standby"

# ---- 6. The traffic went on. ----
kill -INT "$PING" 2> /dev/null || true
wait "$PING" || true
read -r sent got <<< "$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' \
  "$LAB_DIR/ping.log")"
if [ -z "${sent:-}" ] || [ "$sent" -eq 0 ]; then
  fail "background pings: $(tail -3 "$LAB_DIR/ping.log")"
fi
# The management plane's faults leave the data plane alone: at most the odd
# packet of a loaded machine's userspace datapath.
[ $((got * 100)) -ge $((sent * 95)) ] || fail "background pings: $got of $sent answered"
ping_ok "$a" "$dst" 3 || fail "no traffic at the end"
ok "traffic $a -> $b through the faults: $got of $sent pings answered"

# ---- 7. down leaves nothing. ----
# (Exported, the certificates' paths would mark this test's own children
# as the lab's.)
unset SHORTCUT_TLS_CERT SHORTCUT_TLS_KEY SHORTCUT_TLS_CA SHORTCUT_TLS_SERVER_NAME
lab down 2> /dev/null || fail "down failed"
check_gone "$LAB_NAME" "$LAB_DIR"
ok "down: no namespace, process or directory left"

echo "PASS tls_ha"
