#!/usr/bin/env bash
# shortcut-lab data plane with hand-written flows and no Shortcut daemon:
# VM host1-vm1 reaches VM host2-vm1 through the hosts' VXLAN tunnel
# (ping, then TCP with iperf3), with flows put in by `shortcutctl switch
# sync` and static neighbours in the VMs. Usage: dataplane.sh BIN_DIR
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/lib.sh" "$1" dataplane

lab up --hosts 2 --gateways 1 --vpcs 1 --vms-per-host 1 || fail "up failed"
lab status --json > "$LAB_DIR/status.json" || fail "status --json failed"
# name host ip mac ofport underlay-ip-of-its-host
mapfile -t vms < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
ul = {h["name"]: h["underlay_ip"] for h in s["hosts"]}
for v in s["vms"]:
    print(v["name"], v["host"], v["ip"], v["mac"], v["ofport"], ul[v["host"]])
' "$LAB_DIR/status.json")
[ "${#vms[@]}" -eq 2 ] || fail "expected 2 VMs"
read -r vm1 host1 ip1 mac1 port1 ul1 <<< "${vms[0]}"
read -r vm2 host2 ip2 mac2 port2 ul2 <<< "${vms[1]}"
[ "$host1" != "$host2" ] || fail "the two VMs are on the same host"
vni=0x64

# Static neighbours: no ARP needed.
lab exec "$vm1" -- ip neigh replace "$ip2" lladdr "$mac2" dev eth0 nud permanent
lab exec "$vm2" -- ip neigh replace "$ip1" lladdr "$mac1" dev eth0 nud permanent

# Without flows br-int (fail_mode=secure) drops everything.
if lab exec "$vm1" -- ping -c 1 -W 1 -q "$ip2" > /dev/null 2>&1; then
  fail "ping went through before any flow was installed"
fi
ok "no flows: no traffic"

# flows_for LOCAL_PORT REMOTE_UNDERLAY_IP: VM -> tunnel, tunnel -> VM.
flows_for() {
  cat <<EOF
# VM -> the other host, in VNI $vni
flow table=0,priority=100,in_port=$1,actions=set_field:$2->tun_dst,set_field:$vni->tun_id,output:60000
# tunnel, VNI $vni -> VM
flow table=0,priority=100,in_port=60000,tun_id=$vni,actions=output:$1
EOF
}
flows_for "$port1" "$ul2" > "$LAB_DIR/$host1.flows"
flows_for "$port2" "$ul1" > "$LAB_DIR/$host2.flows"
"$SHORTCUTCTL" switch sync "unix:$LAB_DIR/$host1/br-int.mgmt" "$LAB_DIR/$host1.flows" || fail "sync $host1"
"$SHORTCUTCTL" switch sync "unix:$LAB_DIR/$host2/br-int.mgmt" "$LAB_DIR/$host2.flows" || fail "sync $host2"

# The very first packet goes through (tunnel neighbours are pre-seeded).
lab exec "$vm1" -- ping -c 1 -W 3 -q "$ip2" > /dev/null || fail "first ping $vm1 -> $vm2 lost"
lab exec "$vm1" -- ping -c 3 -i 0.2 -W 2 -q "$ip2" > /dev/null || fail "ping $vm1 -> $vm2 failed"
lab exec "$vm2" -- ping -c 3 -i 0.2 -W 2 -q "$ip1" > /dev/null || fail "ping $vm2 -> $vm1 failed"
# The packets really went through the tunnel port: host2 received vm1's 4
# echo requests and 3 echo replies through its tunnel flow. OpenFlow counters lag the datapath (revalidator, ~0.5 s): poll.
for _ in $(seq 50); do
  rx=$(ovs-ofctl -O OpenFlow13 dump-flows "unix:$LAB_DIR/$host2/br-int.mgmt" "in_port=60000" |
    sed -n 's/.*n_packets=\([0-9]*\).*/\1/p')
  [ "${rx:-0}" -lt 7 ] || break
  sleep 0.1
done
[ "${rx:-0}" -ge 7 ] || fail "tunnel-in flow on $host2 counted ${rx:-0} packets, expected 7"
ok "ping both ways through the tunnel (first packet included)"

# TCP: iperf3 for 1 second. The server runs inside vm2's namespace (down
# kills it with the namespace's processes).
lab exec "$vm2" -- iperf3 -s -1 -D -B "$ip2" --pidfile "$LAB_DIR/iperf3.pid"
for _ in $(seq 100); do
  lab exec "$vm2" -- ss -ltn 2>/dev/null | grep ":5201 " > /dev/null && break
  sleep 0.05
done
out=$(timeout 30 "$LAB" exec --name "$LAB_NAME" --dir "$LAB_DIR" "$vm1" -- \
  iperf3 -c "$ip2" -t 1 -J) || fail "iperf3 $vm1 -> $vm2 failed: $out"
bytes=$(python3 -c 'import json, sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bytes"]))' <<< "$out") ||
  fail "iperf3 output unreadable"
[ "$bytes" -gt 100000 ] || fail "iperf3 moved only $bytes bytes"
ok "TCP $vm1 -> $vm2: $bytes bytes in 1 s"

echo "PASS dataplane"
