// The OpenFlow rules Shortcut installs: the host integration bridge's
// pipeline (seed 5.3: of_creat_default_rule, of_update_bucket) and the
// on-demand direct paths (of_flow_mod / of_del_flow). Pure: values in,
// reconcile::SwitchState or FlowMods out; no I/O, no policy about which
// gateway programs which host.
//
// Host bridge (br-int), OpenFlow 1.3; VNI in metadata once classified:
//   table 0  classify  VM port + its MAC + its IP (IPv4 or ARP)  → metadata=VNI, to 20 or 10
//                      tun_id=VNI (from any tunnel port)          → metadata=VNI, to 30
//                      anything else                              → drop
//   table 10 arp       ARP request in the VPC → answered in place with the VPC router MAC
//   table 20 egress    local VM's IP → 30 (priority 200); direct path → tunnel to its
//                      host (priority 100, idle timeout, on demand); else → tun_id=VNI,
//                      group of the VPC's gateway cluster (priority 10)
//   table 30 ingress   local VM's IP → eth_src=router MAC, eth_dst=VM MAC, its port
// So a VM costs 4 flows and a VPC 3, whatever the VPC's size; the group
// (one per gateway cluster, id = cluster id) has one bucket per serving
// gateway, each through that gateway's own tunnel port with BFD and
// watch_port, and exists only on hosts holding a VPC of the cluster.
//
// Cookies: the top 16 bits 0x5c00 mark Shortcut's flows, the next 8 the
// kind, each kind a cookie space of its own:
//   0x01 kCookieBase    the host's standing rules of one gateway cluster:
//                       cluster id in bits 24..39, VNI in the low 24 bits
//                       (HostCookie); the cluster's designated gateway owns
//                       its cluster's space (mask kCookieClusterMask), so
//                       clusters sharing a host never touch each other's;
//   0x02 kCookieDirect  direct paths (installed by whichever gateway saw the
//                       first packet, removed by idle timeout or
//                       invalidation);
//   0x04 kCookieShared  the table-miss drops every cluster needs
//                       (BaseFlows), identical whoever installs them: every
//                       cluster's reconciler adds them when missing and
//                       never modifies or deletes them (HostOwnership).
// Groups: cluster C's select group has id C, and C's reconciler owns that
// id only.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/openflow/match.h"
#include "src/openflow/message.h"
#include "src/reconcile/state.h"

namespace shortcut::pipeline {

inline constexpr uint8_t kTableClassify = 0;
inline constexpr uint8_t kTableArp = 10;
inline constexpr uint8_t kTableEgress = 20;
inline constexpr uint8_t kTableIngress = 30;

inline constexpr uint64_t kCookieKindMask = 0xffffff0000000000ull;
inline constexpr uint64_t kCookieBase = 0x5c00010000000000ull;
inline constexpr uint64_t kCookieDirect = 0x5c00020000000000ull;
inline constexpr uint64_t kCookieShared = 0x5c00040000000000ull;
// Kind and cluster id of a standing rule's cookie.
inline constexpr uint64_t kCookieClusterMask = 0xffffffffff000000ull;
// Cluster ids fit the cookie's 16 bits: 1..65535.
inline constexpr uint32_t kMaxClusterId = 0xffff;

// The cookie of cluster `cluster_id`'s standing rules for VPC `vni`.
constexpr uint64_t HostCookie(uint32_t cluster_id, uint32_t vni) {
  return kCookieBase | (static_cast<uint64_t>(cluster_id & 0xffff) << 24) | (vni & 0xffffff);
}

// The shared flow-based tunnel port (src/host/host_config.h).
inline constexpr uint32_t kTunnelOfport = 60000;

inline constexpr uint16_t kPriorityLocal = 200;
inline constexpr uint16_t kPriorityDirect = 100;
inline constexpr uint16_t kPriorityDefault = 10;

struct HostVpc {
  uint32_t vni = 0;
  of::MacAddr router_mac{};
  friend bool operator==(const HostVpc&, const HostVpc&) = default;
};

struct HostVm {
  uint32_t vni = 0;
  uint32_t ipv4 = 0;  // Host byte order.
  of::MacAddr mac{};
  uint32_t ofport = 0;
  friend bool operator==(const HostVm&, const HostVm&) = default;
};

struct HostRules {
  uint32_t cluster_id = 0;              // Group id; 0: no gateway group.
  std::vector<uint32_t> gateway_ports;  // Bucket ports, one per serving gateway.
  std::vector<HostVpc> vpcs;            // VPCs with a VM on the host.
  std::vector<HostVm> vms;              // VMs bound to a port on the host.
};

// Everything the host should hold for cluster rules.cluster_id (its space
// of kCookieBase, the shared flows, its group): the union of the parts
// below. Fatal if a VM's VPC is not in rules.vpcs. Empty when rules.vpcs
// is: a host holding none of the cluster's VPCs gets nothing of it, not
// even the shared drops (its reconciler never deletes those, so a host
// that loses its last VPC keeps them).
reconcile::SwitchState BuildHostState(const HostRules& rules);
// The same, in ovs-ofctl syntax: one line per flow (with its cookie) and
// one for the group (group_id=...), as an operator compares them with
// dump-flows. Flows are built field by field, not parsed from this text
// (thousands of them per host, rebuilt as VMs come and go); a test holds
// the two forms equal.
std::vector<std::string> HostStateText(const HostRules& rules);

// The parts of the host's state (host_state.h keeps them up to date one
// VM or VPC at a time):
// the table-miss drops of tables 0 and 10 (kCookieShared, the same for
// every cluster);
std::vector<reconcile::FlowEntry> BaseFlows();
// a VPC's classification of tunnelled packets, ARP responder and, with a
// gateway cluster (cluster_id != 0), default route to the cluster's group;
// cookie HostCookie(cluster_id, vni);
std::vector<reconcile::FlowEntry> VpcFlows(const HostVpc& vpc, uint32_t cluster_id);
// a VM's classification (IPv4 and ARP), local egress and ingress;
// `router_mac` is that of the VM's VPC; cookie HostCookie(cluster_id, vni);
std::vector<reconcile::FlowEntry> VmFlows(const HostVm& vm, const of::MacAddr& router_mac,
                                          uint32_t cluster_id);
// the gateway cluster's select group, if there is a cluster, a bucket port
// (a serving gateway) and a VPC of the cluster on the host.
std::optional<reconcile::GroupEntry> GatewayGroup(const HostRules& rules);

// The direct path toward `dst_ipv4` of VPC `vni`, living on `dst_host_ip`.
// `tag` (cookie bits 24..39) names the gateway that installed it (its
// tunnel port's ofport less kTunnelOfport; 0: untagged): a gateway counts
// and evicts only its own paths against a host's budget.
of::FlowMod DirectPathAdd(uint32_t vni, uint32_t dst_ipv4, uint32_t dst_host_ip,
                          uint16_t idle_timeout_s, uint16_t tag = 0);
// The same flow in ovs-ofctl syntax.
std::string DirectPathText(uint32_t vni, uint32_t dst_ipv4, uint32_t dst_host_ip,
                           uint16_t idle_timeout_s, uint16_t tag = 0);
inline constexpr uint64_t kCookieDirectTagMask = 0x000000ffff000000ull;
inline uint16_t DirectPathTag(uint64_t cookie) {
  return static_cast<uint16_t>((cookie & kCookieDirectTagMask) >> 24);
}
// Strict delete of the direct path toward (vni, dst_ipv4) if gateway `tag`
// installed it (eviction: another gateway's path at that key stays).
of::FlowMod DirectPathEvict(uint32_t vni, uint32_t dst_ipv4, uint16_t tag);
// Non-strict delete of every direct path toward (vni, dst_ipv4), whoever
// installed it (invalidation when an endpoint moves or goes).
of::FlowMod DirectPathDelete(uint32_t vni, uint32_t dst_ipv4);
// Non-strict delete of every direct path of VPC `vni` (VPC or network gone).
of::FlowMod DirectPathDeleteVpc(uint32_t vni);

// What cluster `cluster_id`'s reconciler owns on a host: its space of
// kCookieBase (cookie HostCookie(cluster_id, 0), mask kCookieClusterMask),
// the shared space kCookieShared for adding only, group `cluster_id` alone,
// and no meter.
reconcile::Ownership HostOwnership(uint32_t cluster_id);

}  // namespace shortcut::pipeline
