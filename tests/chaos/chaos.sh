#!/usr/bin/env bash
# Chaos under traffic, in a lab: 3 hosts, 2 gateways (one cluster serving
# both VPCs), 2 VPCs on the same addresses, 2 VMs per host; real Open
# vSwitch and packets. Usage: chaos.sh BIN_DIR [ROUNDS] [REPORT_FILE] [--ha]
# (--ha anywhere after BIN_DIR, or CHAOS_HA=1: the management plane of
# `start --ha`, and its faults below).
#
# For each fault, one at a time (ROUNDS times over, default 1): pings run
# between VMs whose direct path is already installed (one flow per VPC, 50
# packets/s), a first packet is sent during the fault on a flow whose
# direct path was just removed (a new flow), the process is killed with
# kill -9, started again 1 s later (`shortcut-lab restart`), and then:
#   - rules: every host's and gateway's flows, groups and meters, as
#     dump-flows/dump-groups/dump-meters print them (counters and on-demand
#     direct paths aside), must be what they were before the fault: the time
#     from the restart until they are is reported (ids leaked or renumbered
#     would show as a difference);
#   - endpoints: every VM ONLINE in managerd again, none lost;
#   - established flows: packets lost and the longest gap between answers
#     (reported: a loaded machine's userspace datapath drops the odd packet
#     whatever the control plane does); the faults that leave the hosts'
#     data plane alone (gatewayd, managerd, the NB ovsdb-server, a host's
#     ovsdb-server) must send no host any change of its standing flows
#     (counted in each ovs-vswitchd's own log; a group rewrite, the dead
#     gateway leaving the buckets, moves first packets only), so nothing
#     can disturb the established flows;
#   - the new flow (its first packet sent right after the kill): answered,
#     and how long its first answer took by ping's own clock (packets sent
#     before it x 50 ms + its round trip).
# Faults: gw1's shortcut-gatewayd, managerd, the NB ovsdb-server, host2's
# ovs-vswitchd, host2's ovsdb-server, gw1's ovs-vswitchd.
# With --ha (3 NB servers in Raft, managerd m1 and m2 active/standby), the
# management faults are instead: the managerd ACTIVE at that moment, the
# STANDBY one, the Raft LEADER, a Raft FOLLOWER (as the managers and the
# servers' own cluster/status say just before the kill); each of these
# must leave the hosts' standing flows alone too, and the time from the
# kill until a write through the managers (a gateway registered in no
# cluster, which nothing hears of) is answered is reported; before the
# next fault, the restarted process is back in its place (one leader, two
# followers; one active, one standby).
# One line per fault goes to stdout (and REPORT_FILE): the figures above.
HA=${CHAOS_HA:-0}
ARGS=()
for arg in "$@"; do
  if [ "$arg" = --ha ]; then HA=1; else ARGS+=("$arg"); fi
done
set -- "${ARGS[@]}"
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/../lab/lib.sh" "$1" chaos
export SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd SHORTCUT_MANAGERD=$BIN/shortcut-managerd
ROUNDS=${2:-1}
REPORT=${3:-/dev/null}
RESTART_DELAY=1     # seconds between the kill and the restart
CONVERGE_LIMIT=60   # seconds the rules may take to come back
PING_INTERVAL=0.02
PING_COUNT=600      # 12 s of pings per flow and fault

lab up --hosts 3 --gateways 2 --vpcs 2 --vms-per-host 2 > /dev/null 2>&1 || fail "up failed"
if [ "$HA" = 1 ]; then
  lab start --ha || fail "start --ha failed"
  M=$LAB_DIR/mgr
  MGRS=$(< "$M/managers")
  mgr() { SHORTCUT_MANAGER="$MGRS" "$SHORTCUTCTL" --timeout 10 "$@"; }
  ok "lab started (--ha: Raft nb1..nb3, managerd m1+m2)"
else
  lab start || fail "start failed"
  ok "lab started"
fi

NODES="host1 host2 host3 gw1 gw2"
now_ms() { date +%s%3N; }
# standing NODE: the node's rules as the switch prints them, without
# counters and without direct paths (installed on demand, gone by idle).
standing() {
  # (grep finding nothing is not a failure here.)
  { $OF --no-stats dump-flows "$(br "$1")" | { grep -v 'cookie=0x5c0002' || true; } | sed 's/^ *//' | sort
    $OF dump-groups "$(br "$1")" | { grep group_id || true; } | sed 's/^ *//' | sort
    $OF dump-meters "$(br "$1")" | { grep meter= || true; } | sed 's/^ *//' | sort; } 2> /dev/null || true
}
snapshot() { local n; for n in $NODES; do standing "$n" > "$LAB_DIR/$1-$n"; done; }
converged() {
  local n
  for n in $NODES; do
    standing "$n" | cmp -s - "$LAB_DIR/before-$n" || return 1
  done
}
online() {
  mgr --json endpoint list 2> /dev/null | python3 -c 'import json, sys
print(sum(1 for e in json.load(sys.stdin).get("endpoints", []) if e.get("status") == "ENDPOINT_STATUS_ONLINE"))' || echo 0
}
all_online() { [ "$(online)" = "$WANT_ONLINE" ]; }
# ping_stats FILE: "LOST GAP_MS" from `ping -D -O` output.
ping_stats() {
  python3 - "$1" "$PING_INTERVAL" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"(\d+) packets transmitted, (\d+) received", text)
sent, got = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
times = [float(t) for t in re.findall(r"^\[(\d+\.\d+)\] \d+ bytes from", text, re.M)]
gap = max((b - a for a, b in zip(times, times[1:])), default=0.0)
print(sent - got, int(gap * 1000))
PY
}
kill_component() {  # kill_component NODE COMPONENT
  local pidfile
  case $2 in
    ovsdb-server | ovs-vswitchd | gatewayd) pidfile=$LAB_DIR/$1/$2.pid ;;
    managerd | managerd-m1 | managerd-m2) pidfile=$LAB_DIR/mgr/$2.pid ;;
    nb) pidfile=$LAB_DIR/mgr/ovsdb-server.pid ;;
    nb1 | nb2 | nb3) pidfile=$LAB_DIR/mgr/ovsdb-server-$2.pid ;;
  esac
  KILLED=$(< "$pidfile")
  kill -9 "$KILLED"
}
dead() { ! grep -qv '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2> /dev/null; }

# ---- With --ha: who holds which role, and how soon a write is answered.
# roles: "NAME ROLE" (active or standby) of each manager that answers.
roles() {
  mgr --json manager status 2> /dev/null | python3 -c 'import json, sys
for m in json.load(sys.stdin).get("managers", []):
    st = m.get("status") or {}
    r = {"MANAGER_ROLE_ACTIVE": "active", "MANAGER_ROLE_STANDBY": "standby"}.get(st.get("role"))
    if r: print(st.get("name", "?"), r)' 2> /dev/null || true
}
# manager_with ROLE: the one manager in ROLE; fails unless exactly one.
manager_with() {
  local who
  who=$(roles | awk -v r="$1" '$2 == r { print $1 }')
  [ -n "$who" ] && [ "$(wc -l <<< "$who")" = 1 ] && echo "$who"
}
raft_role() {
  ovs-appctl -t "$M/nb$1.ctl" cluster/status Shortcut_Northbound 2> /dev/null |
    sed -n 's/^Role: //p'
}
# nb_with ROLE: the first server (1..3) in ROLE by its own cluster/status.
nb_with() {
  local i
  for i in 1 2 3; do
    if [ "$(raft_role "$i")" = "$1" ]; then echo "$i"; return 0; fi
  done
  return 1
}
# ha_settled: one leader and two followers; one manager active, one standby.
ha_settled() {
  local i
  [ "$(for i in 1 2 3; do raft_role "$i"; done | sort | tr '\n' ' ')" = "follower follower leader " ] &&
    [ "$(roles | awk '{ print $2 }' | sort | tr '\n' ' ')" = "active standby " ]
}
WRITES=0
# write_probe T0 FILE: a write through the managers (a gateway in no
# cluster: no gateway or host hears of it) every 0.1 s, each bounded by
# 2 s, until one is answered; FILE gets the ms from T0 (the kill) until
# then, or "none" after CONVERGE_LIMIT s. (In the background: WRITES, its
# count, is the caller's.)
write_probe() {
  local t0=$1 file=$2 n=0 end=$((SECONDS + CONVERGE_LIMIT))
  while [ "$SECONDS" -lt "$end" ]; do
    n=$((n + 1))
    if SHORTCUT_MANAGER="$MGRS" "$SHORTCUTCTL" --timeout 2 gw register "gx${WRITES}n$n" \
      --underlay-ip "198.18.$((WRITES % 250)).$((n % 250 + 1))" --grpc unix:/nonexistent \
      --capacity 1 > /dev/null 2>&1; then
      echo $(($(now_ms) - t0)) > "$file"
      return 0
    fi
    sleep 0.1
  done
  echo none > "$file"
}

# Flows: established ones (direct paths in place), and a new one per fault.
E1=(host1-vm1 host2-vm1)  # vpc1
E2=(host2-vm2 host3-vm2)  # vpc2
N1=(host3-vm1 host1-vm1)  # vpc1: its direct path removed before each fault
for f in E1 E2 N1; do
  declare -n pair=$f
  lab exec "${pair[0]}" -- ping -c 3 -i 0.2 -W 2 -q "$(vm "${pair[1]}" ip)" > /dev/null ||
    fail "no traffic ${pair[0]} -> ${pair[1]}"
done
# Every OpenFlow message a host receives goes to its log (unlimited), so
# that a loss can be matched with what the hosts were sent.
for n in host1 host2 host3; do
  ovs-appctl -t "$LAB_DIR/$n/ovs-vswitchd.ctl" vlog/set vconn:file:dbg > /dev/null
  ovs-appctl -t "$LAB_DIR/$n/ovs-vswitchd.ctl" vlog/disable-rate-limit vconn > /dev/null
done
# lost_report LOG PAIR: which packets were lost, and the flow and group
# changes the hosts received meanwhile.
lost_report() {
  grep -E 'no answer yet' "$1" | head -5 >&2 || true
  local n
  for n in host1 host2 host3; do
    grep -E 'received: [A-Z]*_(FLOW_MOD|GROUP_MOD|BUNDLE)' "$LAB_DIR/$n/ovs-vswitchd.log" |
      grep -v 'cookie:0x5c0002' | tail -5 | sed "s/^/$n: /" | cut -c1-220 >&2 || true
  done
}
WANT_ONLINE=$(online)
[ "$WANT_ONLINE" = 6 ] || fail "$WANT_ONLINE of 6 VMs online"
if [ "$HA" = 1 ]; then
  wait_for 30 ha_settled || fail "management plane not settled: $(roles | tr '\n' ' ')"
  # For comparison: a write with no fault (the client's own start included).
  write_probe "$(now_ms)" "$LAB_DIR/write.ms"
  WRITES=$((WRITES + 1))
  echo "# write_ms with no fault: $(< "$LAB_DIR/write.ms")" | tee -a "$REPORT"
fi
snapshot before
ok "traffic flows; $WANT_ONLINE VMs online; rules of $NODES recorded"

FAULTS=("gw1 gatewayd" "mgr managerd" "mgr nb" "host2 ovs-vswitchd" "host2 ovsdb-server"
  "gw1 ovs-vswitchd")
FMT='%-22s %5s %8s %8s %8s %8s %10s %10s %8s\n'
HEAD=(fault round e1_lost e1_gap e2_lost e2_gap new_ms converge online)
if [ "$HA" = 1 ]; then
  # The management faults by role, resolved just before each kill.
  FAULTS=("gw1 gatewayd" "mgr active-managerd" "mgr standby-managerd" "mgr nb-leader"
    "mgr nb-follower" "host2 ovs-vswitchd" "host2 ovsdb-server" "gw1 ovs-vswitchd")
  FMT='%-22s %5s %8s %8s %8s %8s %10s %10s %8s %8s\n'
  HEAD+=(write_ms)
fi
# shellcheck disable=SC2059  # FMT is the table's format.
printf "$FMT" "${HEAD[@]}" | tee -a "$REPORT"
for round in $(seq "$ROUNDS"); do
  for fault in "${FAULTS[@]}"; do
    read -r node comp <<< "$fault"
    label=$node/$comp
    case $comp in
      active-managerd | standby-managerd)
        who=$(manager_with "${comp%-managerd}") || fail "$label: no single ${comp%-managerd}: $(roles)"
        comp=managerd-$who
        ;;
      nb-leader | nb-follower)
        who=$(nb_with "${comp#nb-}") || fail "$label: no Raft ${comp#nb-}"
        comp=nb$who
        ;;
    esac
    [ "$label" = "$node/$comp" ] || echo "$label: $comp" >&2
    # The new flow's direct path goes, so its next packet is a first one.
    $OF del-flows "$(br host3)" \
      "cookie=0x5c00020000000000/0xffffff0000000000,table=20,ip,nw_dst=$(vm "${N1[1]}" ip)"
    lab exec "${E1[0]}" -- ping -D -O -i "$PING_INTERVAL" -c "$PING_COUNT" -W 1 \
      "$(vm "${E1[1]}" ip)" > "$LAB_DIR/e1.log" 2>&1 &
    p1=$!
    lab exec "${E2[0]}" -- ping -D -O -i "$PING_INTERVAL" -c "$PING_COUNT" -W 1 \
      "$(vm "${E2[1]}" ip)" > "$LAB_DIR/e2.log" 2>&1 &
    p2=$!
    wait_for 10 grep -qs 'bytes from' "$LAB_DIR/e1.log" || fail "E1 pings did not start"
    wait_for 10 grep -qs 'bytes from' "$LAB_DIR/e2.log" || fail "E2 pings did not start"
    for n in host1 host2 host3; do
      wc -l < "$LAB_DIR/$n/ovs-vswitchd.log" > "$LAB_DIR/$n.mark"
    done
    t_kill=$(now_ms)
    kill_component "$node" "$comp"
    pw=
    if [ "$HA" = 1 ] && [ "$node" = mgr ]; then
      rm -f "$LAB_DIR/write.ms"
      write_probe "$t_kill" "$LAB_DIR/write.ms" &
      pw=$!
      WRITES=$((WRITES + 1))
    fi
    # The new flow's first packet, during the fault.
    lab exec "${N1[0]}" -- ping -D -i 0.05 -c 100 -W 1 "$(vm "${N1[1]}" ip)" \
      > "$LAB_DIR/n1.log" 2>&1 &
    pn=$!
    # Dead (a zombie until init reaps it, which may take a second here).
    wait_for 10 dead "$KILLED" || fail "$comp of $node did not die"
    sleep "$RESTART_DELAY"
    lab restart "$node" "$comp" 2> /dev/null || fail "restart $comp of $node failed"
    t_start=$(now_ms)
    if wait_for "$CONVERGE_LIMIT" converged; then
      converge=$(($(now_ms) - t_start))
    else
      for n in $NODES; do
        standing "$n" | diff "$LAB_DIR/before-$n" - | head -5 >&2 || true
      done
      fail "$fault: rules not back within ${CONVERGE_LIMIT}s of the restart"
    fi
    wait_for "$CONVERGE_LIMIT" all_online || fail "$fault: $(online) of $WANT_ONLINE VMs online"
    wait "$p1" "$p2" || true
    wait "$pn" || true
    read -r l1 g1 <<< "$(ping_stats "$LAB_DIR/e1.log")"
    read -r l2 g2 <<< "$(ping_stats "$LAB_DIR/e2.log")"
    # The new flow's wait, by ping's own clock: the packets sent before the
    # first answered one, and that one's round trip.
    first=$(python3 -c 'import re, sys
m = re.search(r"icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms", open(sys.argv[1]).read())
print(int((int(m.group(1)) - 1) * 50 + float(m.group(2))) if m else "")' "$LAB_DIR/n1.log")
    [ -n "$first" ] || fail "$fault: the new flow ${N1[0]} -> ${N1[1]} never got an answer"
    row=("$label" "$round" "$l1" "$g1" "$l2" "$g2" "$first" "$converge" "$(online)/$WANT_ONLINE")
    if [ "$HA" = 1 ]; then
      written=-
      if [ -n "$pw" ]; then
        wait "$pw" || true
        written=$(cat "$LAB_DIR/write.ms" 2> /dev/null || echo none)
        [ "$written" != none ] ||
          fail "$label: no write through the managers answered within ${CONVERGE_LIMIT}s of the kill"
      fi
      row+=("$written")
    fi
    # shellcheck disable=SC2059
    printf "$FMT" "${row[@]}" | tee -a "$REPORT"
    case $comp in
      gatewayd | managerd | managerd-m[12] | nb | nb[123] | ovsdb-server)
        for n in host1 host2 host3; do
          # Flow changes, alone or inside bundles (a group rewrite, a
          # gateway leaving the buckets, reroutes first packets only).
          changes=$(tail -n +"$(($(< "$LAB_DIR/$n.mark") + 1))" "$LAB_DIR/$n/ovs-vswitchd.log" |
            grep -E 'OFPT_FLOW_MOD' | grep -vc 'cookie:0x5c0002' || true)
          [ "$changes" = 0 ] || {
            tail -n +"$(($(< "$LAB_DIR/$n.mark") + 1))" "$LAB_DIR/$n/ovs-vswitchd.log" |
              grep -A2 -E 'received: [A-Z]*_(FLOW_MOD|GROUP_MOD|BUNDLE_ADD)' | cut -c1-200 | head -20 >&2
            fail "$fault: $n received $changes changes of its standing rules"
          }
        done
        ;;
    esac
    # The restarted process back in its place before the next fault.
    if [ "$HA" = 1 ] && ! wait_for "$CONVERGE_LIMIT" ha_settled; then
      for f in "$LAB_DIR/mgr/$comp.log" "$LAB_DIR/mgr/ovsdb-server-$comp.log"; do
        [ ! -f "$f" ] || tail -5 "$f" | sed "s|^|${f##*/}: |" >&2
      done
      fail "$label: management plane not back within ${CONVERGE_LIMIT}s: managers $(roles |
        tr '\n' ' '), Raft $(for i in 1 2 3; do echo -n "nb$i=$(raft_role "$i") "; done)"
    fi
  done
done
ok "every fault: rules back as they were, every VM online, new flows answered"
