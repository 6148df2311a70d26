#!/usr/bin/env bash
# shortcut-lab underlay and nodes: every node pings every other over the
# underlay; every node's OVS answers (OVSDB and OpenFlow) and holds what
# `shortcutctl host init` makes; every VM's port is on its host's br-int with
# the iface-id, MAC and ofport that `status --json` reports, and the VM's
# eth0 has its address. Usage: underlay.sh BIN_DIR
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/lib.sh" "$1" underlay

lab up --hosts 3 --gateways 2 --vpcs 2 --vms-per-host 2 || fail "up failed"
state=$LAB_DIR/status.json
lab status --json > "$state" || fail "status --json failed"

# Nodes: name ip ovsdb openflow appctl, one per line.
mapfile -t nodes < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
for n in s["hosts"] + s["gateways"]:
    print(n["name"], n["underlay_ip"], n["ovsdb"], n["openflow"], n["ovs_appctl"])
' "$state")
[ "${#nodes[@]}" -eq 5 ] || fail "expected 5 nodes, status has ${#nodes[@]}"

# --- Underlay: every ordered pair.
pings=0
for a in "${nodes[@]}"; do
  read -r an _ <<< "$a"
  for b in "${nodes[@]}"; do
    read -r bn bip _ <<< "$b"
    [ "$an" != "$bn" ] || continue
    lab exec "$an" -- ping -c 1 -W 2 -q "$bip" > /dev/null || fail "ping $an -> $bn ($bip) failed"
    pings=$((pings + 1))
  done
done
ok "underlay: $pings pings between every pair of nodes"
# The underlay namespace is reachable too, and holds the bridge.
lab exec underlay -- ip link show br-ul > /dev/null || fail "no br-ul in the underlay namespace"

# --- Every OVS answers and is prepared by host init.
for n in "${nodes[@]}"; do
  read -r name ip db of appctl <<< "$n"
  ovs-vsctl --db="$db" --timeout=5 show > /dev/null || fail "$name: ovs-vsctl show failed"
  show=$(ovs-ofctl -O OpenFlow13 show "$of") || fail "$name: ovs-ofctl show failed"
  grep -q "60000(sc-tun)" <<< "$show" || fail "$name: no sc-tun at ofport 60000: $show"
  [ "$(ovs-vsctl --db="$db" --timeout=5 get Bridge br-int fail_mode)" = secure ] ||
    fail "$name: br-int is not fail_mode=secure"
  [ "$(ovs-vsctl --db="$db" --timeout=5 get Bridge br-int datapath_type)" = netdev ] ||
    fail "$name: br-int is not netdev"
  opts=$(ovs-vsctl --db="$db" --timeout=5 get Interface sc-tun options)
  grep -q "local_ip=\"$ip\"" <<< "$opts" || fail "$name: sc-tun options: $opts"
  ovs-appctl -t "$appctl" version > /dev/null || fail "$name: ovs-appctl failed"
  # The underlay address is on br-phy, and OVS routes the underlay there.
  for other in "${nodes[@]}"; do
    read -r on oip _ <<< "$other"
    [ "$on" != "$name" ] || continue
    ovs-appctl -t "$appctl" ovs/route/lookup "$oip" | grep -x "dev br-phy" > /dev/null ||
      fail "$name: OVS does not route $oip via br-phy"
  done
  ip -n "$(lab_ns "$name")" -o addr show br-phy | grep "inet $ip/" > /dev/null || fail "$name: $ip is not on br-phy"
done
ok "every OVS answers (OVSDB, OpenFlow, unixctl) and has br-int + sc-tun"

# --- VM ports against status --json.
mapfile -t vms < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
for v in s["vms"]:
    print(v["name"], v["host"], v["iface_id"], v["mac"], v["ip"], v["ofport"], v["vpc"])
' "$state")
[ "${#vms[@]}" -eq 6 ] || fail "expected 6 VMs, status has ${#vms[@]}"
for v in "${vms[@]}"; do
  read -r vm host iface mac vip ofport _ <<< "$v"
  db=unix:$LAB_DIR/$host/db.sock
  port=$(ovs-vsctl --db="$db" --timeout=5 --bare --columns=name find Interface \
    "external_ids:iface-id=\"$iface\"") || fail "$vm: OVSDB lookup failed"
  [ -n "$port" ] || fail "$vm: no interface with iface-id $iface on $host"
  [ "$(ovs-vsctl --db="$db" --timeout=5 port-to-br "$port")" = br-int ] || fail "$vm: $port not on br-int"
  [ "$(ovs-vsctl --db="$db" --timeout=5 get Interface "$port" ofport)" = "$ofport" ] ||
    fail "$vm: ofport differs from status"
  [ "$(ovs-vsctl --db="$db" --timeout=5 get Interface "$port" external_ids:attached-mac)" = "\"$mac\"" ] ||
    fail "$vm: attached-mac differs from status"
  ovs-ofctl -O OpenFlow13 show "unix:$LAB_DIR/$host/br-int.mgmt" | grep " $ofport($port)" > /dev/null ||
    fail "$vm: OpenFlow does not show $ofport($port)"
  link=$(lab exec "$vm" -- ip -o link show eth0) || fail "$vm: no eth0"
  grep -qi "link/ether $mac" <<< "$link" || fail "$vm: eth0 MAC is not $mac: $link"
  lab exec "$vm" -- ip -o addr show eth0 | grep "inet $vip/" > /dev/null || fail "$vm: eth0 has no $vip"
  lab exec "$vm" -- ethtool -k eth0 | grep "^tx-checksumming: off" > /dev/null || fail "$vm: TX checksum offload on"
done
ok "VM ports on their br-int with the iface-id, MAC and ofport of status"

echo "PASS underlay"
