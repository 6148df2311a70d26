#!/usr/bin/env bash
# Shortcut over TLS end to end: `shortcut-lab up --tls` / `start --tls`
# (2 hosts, 1 gateway, 1 VPC). Real OVS, real packets.
# Usage: tls.sh BIN_DIR
#   - every VM comes online and a ping between the VPC's VMs on the two
#     hosts crosses the gateway (a direct path set up on the sending host);
#   - oracles that it is TLS, independent of Shortcut: each node's OVS holds
#     the lab's SSL settings and only pssl: listeners (OpenFlow 6653, OVSDB
#     6640), and the gateway's sessions to them are established; the
#     database server listens on pssl: only for managerd, which is
#     connected; openssl s_client completes a TLS handshake with a host's
#     OpenFlow listener and with managerd's gRPC socket, each presenting the
#     certificate the lab made for it;
#   - managerd's API refuses a client without a certificate and one with a
#     certificate of another CA (UNAVAILABLE), and answers the lab's.
# shellcheck source=tests/lab/lib.sh
source "$(dirname "$0")/lib.sh" "$1" tls
export SHORTCUT_GATEWAYD=$BIN/shortcut-gatewayd SHORTCUT_MANAGERD=$BIN/shortcut-managerd
command -v openssl > /dev/null || fail "openssl not found"
command -v ovs-pki > /dev/null || fail "ovs-pki not found"

lab up --hosts 2 --gateways 1 --vms-per-host 1 --tls > /dev/null 2>&1 || fail "up --tls failed"
lab start --tls || fail "start --tls failed"
ok "gateway started over TLS, every VM online"

PKI=$LAB_DIR/pki
[ -f "$PKI/ctl.env" ] || fail "no $PKI/ctl.env"
set -a
# shellcheck source=/dev/null
. "$PKI/ctl.env"
set +a
MGR_SOCK=$LAB_DIR/mgr/managerd.sock
mgr() { SHORTCUT_MANAGER="unix:$MGR_SOCK" "$SHORTCUTCTL" --timeout 30 "$@"; }
vsctl() { ovs-vsctl --db="unix:$LAB_DIR/$1/db.sock" --timeout=10 "${@:2}"; }
# established NODE PORT: the remote addresses of NODE's established TCP
# sessions on local PORT.
established() {
  ip netns exec "$(lab_ns "$1")" ss -Htn state established "( sport = :$2 )" |
    awk '{ print $4 }' | sed 's/:[0-9]*$//' | sort -u
}
# has_peer NODE PORT IP: IP has an established session on NODE's PORT.
has_peer() { established "$1" "$2" | grep -qx "$3"; }

# ---- 1. OVS's own view: SSL settings, pssl: listeners only, sessions. ----
for n in host1 host2 gw1; do
  ssl=$(vsctl "$n" get-ssl)
  grep -q "Private key: $PKI/$n-ovs-privkey.pem" <<< "$ssl" || fail "$n: get-ssl: $ssl"
  grep -q "CA Certificate: $PKI/ca/controllerca/cacert.pem" <<< "$ssl" || fail "$n: get-ssl: $ssl"
  [ "$(vsctl "$n" get-controller br-int)" = "pssl:6653" ] ||
    fail "$n: OpenFlow listeners: $(vsctl "$n" get-controller br-int)"
  [ "$(vsctl "$n" get-manager)" = "pssl:6640" ] || fail "$n: OVSDB listeners: $(vsctl "$n" get-manager)"
done
for n in host1 host2; do
  # The gateway (172.31.2.1) programs the hosts and watches their ports.
  wait_for 20 has_peer "$n" 6653 172.31.2.1 ||
    fail "$n: no OpenFlow session from the gateway: $(established "$n" 6653)"
  wait_for 20 has_peer "$n" 6640 172.31.2.1 ||
    fail "$n: no OVSDB session from the gateway: $(established "$n" 6640)"
done
ok "hosts and gateway bridge: SSL set, only pssl: listeners, the gateway's sessions established"

# The database server: TLS for managerd, connected.
remotes=$(ovs-appctl -t "$LAB_DIR/mgr/ovsdb-server.ctl" ovsdb-server/list-remotes)
grep -qx "pssl:6641:127.0.0.1" <<< "$remotes" || fail "database remotes: $remotes"
[ "$(established mgr 6641)" = 127.0.0.1 ] || fail "managerd is not connected to pssl:6641"
grep -q '"nb": "ssl:127.0.0.1:6641"' "$LAB_DIR/mgr/managerd.json" || fail "managerd.json: no ssl: nb"
ok "managerd's database connection is on the pssl: remote"

# ---- 2. openssl s_client: TLS handshakes, certificates of the lab. ----
# s_client NS ARGS...: the handshake's summary (no data sent).
s_client() {
  timeout 20 ip netns exec "$(lab_ns "$1")" openssl s_client "${@:2}" < /dev/null 2>&1 || true
}
out=$(s_client gw1 -connect 172.31.1.1:6653 -cert "$PKI/gw1-cert.pem" -key "$PKI/gw1-privkey.pem" \
  -CAfile "$PKI/ca/switchca/cacert.pem")
grep -q "Verify return code: 0 (ok)" <<< "$out" || fail "host1's OpenFlow listener: $out"
grep -q "subject=.*CN *= *host1-ovs" <<< "$out" || fail "host1's OpenFlow listener's certificate: $out"
out=$(s_client mgr -unix "$MGR_SOCK" -cert "$SHORTCUT_TLS_CERT" -key "$SHORTCUT_TLS_KEY" \
  -CAfile "$SHORTCUT_TLS_CA" -alpn h2)
grep -q "Verify return code: 0 (ok)" <<< "$out" || fail "managerd's socket: $out"
grep -q "subject=.*CN *= *managerd" <<< "$out" || fail "managerd's certificate: $out"
ok "openssl s_client: TLS to host1's OpenFlow listener (host1-ovs) and to managerd (managerd)"

# ---- 3. Traffic between the VPC's VMs, first packet through the gateway. ----
[ "$(mgr --json endpoint list | python3 -c 'import json, sys
print(sum(e.get("status") == "ENDPOINT_STATUS_ONLINE" for e in json.load(sys.stdin)["endpoints"]))')" = 2 ] ||
  fail "not every VM is online"
dst=$(vm host2-vm1 ip)
lab exec host1-vm1 -- ping -c 3 -i 0.2 -W 2 -q "$dst" > /dev/null || fail "ping host1-vm1 -> $dst"
# The gateway set up the direct path (its own record, over its TLS API),
# and host1 holds it (read from host1's OVS directly).
paths=$("$SHORTCUTCTL" --server-name gw1 gateway --server "unix:$LAB_DIR/gw1/gatewayd.sock" --json paths)
python3 -c 'import json, sys
p = json.loads(sys.argv[1]).get("paths", [])
sys.exit(0 if any(x.get("src_host") == "host1" and x.get("dst_ip") == sys.argv[2] and not x.get("error") for x in p) else 1)' \
  "$paths" "$dst" || fail "the gateway recorded no direct path host1 -> $dst: $paths"
ovs-ofctl -O OpenFlow13 dump-flows "unix:$LAB_DIR/host1/br-int.mgmt" \
  "cookie=0x5c00020000000000/0xffffff0000000000,table=20,ip,nw_dst=$dst" | grep -q "tun_dst" ||
  fail "host1 holds no direct path toward $dst"
ok "ping host1-vm1 -> host2-vm1 ($dst) through the gateway, direct path installed over TLS"

# ---- 4. managerd's API refuses clients without the lab's certificate. ----
mgr host list | grep -q host1 || fail "the lab's certificate: host list failed"
if out=$(env -u SHORTCUT_TLS_CERT -u SHORTCUT_TLS_KEY -u SHORTCUT_TLS_CA -u SHORTCUT_TLS_SERVER_NAME \
  SHORTCUT_MANAGER="unix:$MGR_SOCK" "$SHORTCUTCTL" --timeout 10 host list 2>&1); then
  fail "a client without TLS was answered: $out"
fi
grep -q UNAVAILABLE <<< "$out" || fail "no certificate: $out"
# A certificate of another CA (the client trusts the lab's CA, so only the
# server's check of the client certificate can refuse it).
mkdir "$LAB_DIR/other"
(cd "$LAB_DIR/other" && ovs-pki --dir="$LAB_DIR/other/ca" --log="$LAB_DIR/other/ovs-pki.log" init &&
  ovs-pki --dir="$LAB_DIR/other/ca" --log="$LAB_DIR/other/ovs-pki.log" -u req+sign intruder controller) \
  > /dev/null 2>&1 || fail "ovs-pki: another CA"
if out=$(SHORTCUT_MANAGER="unix:$MGR_SOCK" "$SHORTCUTCTL" --timeout 10 \
  --cert "$LAB_DIR/other/intruder-cert.pem" --key "$LAB_DIR/other/intruder-privkey.pem" \
  host list 2>&1); then
  fail "a client with another CA's certificate was answered: $out"
fi
grep -q UNAVAILABLE <<< "$out" || fail "another CA's certificate: $out"
ok "managerd refuses a client without a certificate and one of another CA (UNAVAILABLE)"
