#!/usr/bin/env bash
# shortcut-cni called the way a container runtime calls it (CNI_*
# environment variables, the network configuration on stdin, a network
# namespace made beforehand), against a lab: 2 hosts, 1 gateway, 1 VPC,
# real Open vSwitch and real packets. Usage: cni.sh BIN_DIR
#   - VERSION answers the supported versions;
#   - ADD on host1: an endpoint whose address managerd allocated, ONLINE in
#     managerd; the port on host1's br-int with its iface-id; the
#     container's eth0 with the endpoint's MAC and address (each read from
#     its own source: managerd, ovs-vsctl, ip); the CNI result says the same;
#   - the container reaches a VM on host2 from its first packet, and a VM
#     reaches the container;
#   - CHECK with the result as prevResult: OK;
#   - ADD with CNI_ARGS IP=...: that address;
#   - a bad configuration: CNI error object (code 7), nothing created;
#   - DEL: port, link and endpoint gone; DEL again: OK; CHECK then fails;
#   - a real runtime: podman (CNI network backend, runc, private storage
#     under the lab's directory, run in host1's network namespace) runs a
#     container from an image built here from busybox; it joins vpc1 and
#     reaches a VM on host2 from its first packet, a VM reaches it, and
#     removing the container removes its endpoint and port;
#   - nothing was configured in the root namespace.
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/lib.sh" "$1" cni
export SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd SHORTCUT_MANAGERD=$BIN/shortcut-managerd
CNI=$BIN/shortcut-cni
[ -x "$CNI" ] || fail "no executable $CNI"

root_before=$(root_links)
lab up --hosts 2 --gateways 1 --vpcs 1 --vms-per-host 1 > /dev/null 2>&1 || fail "up failed"
lab start || fail "start failed"
ok "lab started"

# Containers' namespaces carry the lab's prefix: `down` removes them too.
C1=$(lab_ns c1) C2=$(lab_ns c2)
ip netns add "$C1"
ip netns add "$C2"
conf() {
  cat <<EOF
{"cniVersion": "1.0.0", "name": "blue", "type": "shortcut-cni",
 "manager": "unix:$LAB_DIR/mgr/managerd.sock", "vpc": "vpc1", "network": "net1",
 "host": "host1", "ovsdb": "unix:$LAB_DIR/host1/db.sock",
 "tx_checksum_offload": false, "online_timeout_ms": 20000${1:-}}
EOF
}
# cni COMMAND CONTAINER NETNS [ENV...] < conf: the plugin inside host1's
# namespace, as the runtime on host1 would run it.
cni() {
  ip netns exec "$(lab_ns host1)" env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="$2" \
    CNI_NETNS="$3" CNI_IFNAME=eth0 CNI_PATH="$BIN" "${@:4}" "$CNI"
}
json() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
vsctl1() { ovs-vsctl --db="unix:$LAB_DIR/host1/db.sock" "$@"; }
key1=cni:blue:c1:eth0

# ---- VERSION.
out=$(cni VERSION "" "" < /dev/null) || fail "VERSION failed: $out"
[ "$(json 'd["supportedVersions"]' <<< "$out")" = "['0.3.0', '0.3.1', '0.4.0', '1.0.0']" ] ||
  fail "VERSION: $out"

# ---- ADD.
result=$(conf | cni ADD c1 "/run/netns/$C1") || fail "ADD failed: $result"
addr=$(json 'd["ips"][0]["address"]' <<< "$result")
mac=$(json 'd["interfaces"][1]["mac"]' <<< "$result")
port=$(json 'd["interfaces"][0]["name"]' <<< "$result")
gw=$(json 'd["ips"][0]["gateway"]' <<< "$result")
[ "$gw" = 10.0.0.1 ] || fail "result's gateway is $gw"
ep=$(mgr --json endpoint show "$key1")
[ "$(json 'd["status"]' <<< "$ep")" = ENDPOINT_STATUS_ONLINE ] || fail "endpoint not online: $ep"
[ "$(json 'd["ipv4"]' <<< "$ep")/16" = "$addr" ] || fail "managerd has $ep, the result $addr"
[ "$(json 'd["mac"]' <<< "$ep")" = "$mac" ] || fail "managerd has $ep, the result $mac"
[ "$(json 'd["host"]' <<< "$ep")" = host1 ] || fail "endpoint on the wrong host: $ep"
[ "$(vsctl1 get Interface "$port" external_ids:iface-id)" = "\"$key1\"" ] ||
  fail "port $port's iface-id: $(vsctl1 get Interface "$port" external_ids)"
vsctl1 list-ports br-int | grep -qx "$port" || fail "$port not on br-int"
c_addr=$(ip -n "$C1" -j addr show dev eth0 | json '[a["local"] + "/" + str(a["prefixlen"]) for a in d[0]["addr_info"] if a["family"] == "inet"][0]')
c_mac=$(ip -n "$C1" -j link show dev eth0 | json 'd[0]["address"]')
[ "$c_addr" = "$addr" ] && [ "$c_mac" = "$mac" ] ||
  fail "container eth0 has $c_addr $c_mac, the result $addr $mac"
ip -n "$C1" route show default | grep -q "via 10.0.0.1 dev eth0" || fail "no default route"
ok "ADD: $key1 ONLINE at $addr $mac (managerd, ovs-vsctl, ip agree)"

# ---- Traffic, both ways, from the first packet.
vm2=host2-vm1
ip2=$(vm "$vm2" ip)
ip netns exec "$C1" ping -c 3 -i 0.2 -W 2 -q "$ip2" > /dev/null || fail "container -> $vm2 ($ip2)"
lab exec "$vm2" -- ping -c 3 -i 0.2 -W 2 -q "${addr%/*}" > /dev/null || fail "$vm2 -> container"
ok "container <-> $vm2 on host2"

# ---- CHECK.
prev=", \"prevResult\": $result"
out=$(conf "$prev" | cni CHECK c1 "/run/netns/$C1") || fail "CHECK failed: $out"
ok "CHECK"

# ---- A static address.
r2=$(conf | cni ADD c2 "/run/netns/$C2" CNI_ARGS="IgnoreUnknown=1;IP=10.0.7.7") ||
  fail "ADD c2 failed: $r2"
[ "$(json 'd["ips"][0]["address"]' <<< "$r2")" = 10.0.7.7/16 ] || fail "static address: $r2"
ip netns exec "$C2" ping -c 2 -i 0.2 -W 2 -q "$ip2" > /dev/null || fail "c2 -> $vm2"
ok "ADD with IP=10.0.7.7"

# ---- A bad configuration: an error object, nothing created.
eps_before=$(mgr endpoint list | wc -l)
ports_before=$(vsctl1 list-ports br-int | wc -l)
if out=$(cni ADD c3 "/run/netns/$C2" <<< '{"cniVersion": "1.0.0", "name": "x", "type": "shortcut-cni"}'); then
  fail "ADD with a bad configuration succeeded: $out"
fi
[ "$(json 'd["code"]' <<< "$out")" = 7 ] || fail "bad configuration: $out"
[ "$(mgr endpoint list | wc -l)" = "$eps_before" ] && [ "$(vsctl1 list-ports br-int | wc -l)" = "$ports_before" ] ||
  fail "a refused ADD changed something"
ok "bad configuration: $(json 'd["msg"]' <<< "$out")"

# ---- DEL, twice; CHECK then fails.
out=$(conf "$prev" | cni DEL c1 "/run/netns/$C1") || fail "DEL failed: $out"
vsctl1 list-ports br-int | grep -qx "$port" && fail "port $port still on br-int"
ip -n "$(lab_ns host1)" link show "$port" > /dev/null 2>&1 && fail "link $port still on host1"
ip -n "$C1" link show eth0 > /dev/null 2>&1 && fail "eth0 still in the container"
mgr endpoint show "$key1" > /dev/null 2>&1 && fail "endpoint $key1 still in managerd"
out=$(conf "$prev" | cni DEL c1 "/run/netns/$C1") || fail "second DEL failed: $out"
out=$(conf "$prev" | cni DEL c1 "") || fail "DEL without a namespace failed: $out"
if out=$(conf "$prev" | cni CHECK c1 "/run/netns/$C1"); then fail "CHECK after DEL succeeded"; fi
ok "DEL: port, link and endpoint gone; DEL again OK; CHECK after it: $(json 'd["msg"]' <<< "$out")"
conf | cni DEL c2 "/run/netns/$C2" > /dev/null || fail "DEL c2 failed"

# ---- A real runtime: podman.
PM=$LAB_DIR/podman
mkdir -p "$PM/net.d" "$PM/rootfs/bin" "$PM/tmp"
cat > "$PM/containers.conf" <<EOF
[network]
network_backend = "cni"
cni_plugin_dirs = ["$BIN"]
network_config_dir = "$PM/net.d"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$PM/tmp"
volume_path = "$PM/volumes"
static_dir = "$PM/static"
EOF
cat > "$PM/net.d/vpc1.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "vpc1", "plugins": [$(conf)]}
EOF
# runc: crun refuses this machine's hybrid cgroup hierarchy. Limits no
# higher than the machine's (no CAP_SYS_RESOURCE to raise them).
podman_() {  # Each call bounded to 120 s.
  CONTAINERS_CONF=$PM/containers.conf timeout 120 nsenter --net="/run/netns/$(lab_ns host1)" \
    podman --root "$PM/root" --runroot "$PM/runroot" --storage-driver vfs \
    --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}
run_opts=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --network vpc1)
podman_cleanup() { podman_ rm -af -t 0 > /dev/null 2>&1 || true; }
trap 'podman_cleanup; lab_cleanup' EXIT
cp "$(command -v busybox)" "$PM/rootfs/bin/busybox"
for a in sh ping ip sleep; do ln -s busybox "$PM/rootfs/bin/$a"; done
out=$(tar -C "$PM/rootfs" -c . | podman_ import - localhost/shortcut-busybox:test 2>&1) ||
  fail "podman import failed: $out"
out=$(podman_ run --rm "${run_opts[@]}" localhost/shortcut-busybox:test \
  ping -c 3 -W 2 "$ip2" 2>&1) || fail "podman run: $out"
[[ $out == *"3 packets received"* ]] || fail "container -> $vm2: $out"
ok "podman run --network vpc1: the container reached $vm2 from its first packet"
cid=$(podman_ run -d "${run_opts[@]}" localhost/shortcut-busybox:test sleep 120) ||
  fail "podman run -d: $cid"
pkey=cni:vpc1:$cid:eth0
ep=$(mgr --json endpoint show "$pkey") || fail "no endpoint $pkey in managerd"
[ "$(json 'd["status"]' <<< "$ep")" = ENDPOINT_STATUS_ONLINE ] || fail "podman's container not online: $ep"
paddr=$(json 'd["ipv4"]' <<< "$ep")
lab exec "$vm2" -- ping -c 2 -i 0.2 -W 2 -q "$paddr" > /dev/null || fail "$vm2 -> podman's container"
pport=$(vsctl1 --bare --columns=name find Interface "external_ids:iface-id=\"$pkey\"")
[ -n "$pport" ] || fail "no port with iface-id $pkey on host1"
podman_ rm -f -t 0 "$cid" > /dev/null || fail "podman rm failed"
mgr endpoint show "$pkey" > /dev/null 2>&1 && fail "endpoint $pkey still in managerd after podman rm"
vsctl1 list-ports br-int | grep -qx "$pport" && fail "port $pport still on br-int after podman rm"
ok "podman run -d: $pkey ONLINE at $paddr, reached by $vm2; podman rm: endpoint and port gone"

[ "$(root_links)" = "$root_before" ] || fail "the root namespace's links changed"
ok "root namespace untouched"
