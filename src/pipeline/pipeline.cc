#include "src/pipeline/pipeline.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/common/fatal.h"
#include "src/openflow/subfield.h"
#include "src/pipeline/text_util.h"

namespace shortcut::pipeline {
namespace {

using internal::Flow;
using internal::Hex;
using internal::Ip;

// The pieces of a flow built field by field; HostStateText() says the same
// in ovs-ofctl syntax.
reconcile::FlowEntry NewFlow(uint8_t table, uint16_t priority, uint64_t cookie) {
  reconcile::FlowEntry f;
  f.key.table = table;
  f.key.priority = priority;
  f.cookie = cookie;
  return f;
}

of::ActionSetField SetField(of::Field field, uint64_t value) {
  return of::ActionSetField{field, of::FieldBytesFromU64(field, value)};
}

of::ActionSetField SetMac(of::Field field, const of::MacAddr& mac) {
  of::ActionSetField a;
  a.field = field;
  std::copy(mac.begin(), mac.end(), a.value.begin());
  return a;
}

// move:SRC[]->DST[], whole fields of the same width.
of::ActionMove Move(of::Field src, of::Field dst) {
  of::ActionMove m;
  m.src = src;
  m.dst = dst;
  m.n_bits = of::GetSubfieldInfo(src)->n_bits;
  return m;
}

of::ActionOutput Output(uint32_t port) {
  of::ActionOutput out;
  out.port = port;
  out.max_len = 0;  // As ovs-ofctl's output:PORT (max_len only matters to CONTROLLER).
  return out;
}

constexpr uint16_t kEthTypeIpv4 = 0x0800;
constexpr uint16_t kEthTypeArp = 0x0806;
constexpr uint16_t kArpRequest = 1;
constexpr uint16_t kArpReply = 2;

// Answers an ARP request in place: the reply says the requested address is
// at the router MAC, whatever address was asked for (L3 forwarding only).
of::ActionList ArpResponder(const of::MacAddr& router) {
  using of::Field;
  return {Move(Field::kEthSrc, Field::kEthDst),
          SetMac(Field::kEthSrc, router),
          SetField(Field::kArpOp, kArpReply),
          Move(Field::kArpSha, Field::kArpTha),
          SetMac(Field::kArpSha, router),
          Move(Field::kArpSpa, Field::kReg0),
          Move(Field::kArpTpa, Field::kArpSpa),
          Move(Field::kReg0, Field::kArpTpa),
          Output(of::kPortInPort)};
}

}  // namespace

std::vector<reconcile::FlowEntry> BaseFlows() {
  return {NewFlow(kTableClassify, 0, kCookieShared), NewFlow(kTableArp, 0, kCookieShared)};
}

std::vector<reconcile::FlowEntry> VpcFlows(const HostVpc& vpc, uint32_t cluster_id) {
  using of::Field;
  const uint64_t cookie = HostCookie(cluster_id, vpc.vni);
  std::vector<reconcile::FlowEntry> flows;
  flows.reserve(3);

  reconcile::FlowEntry tunnel = NewFlow(kTableClassify, 90, cookie);
  tunnel.key.match.Set(Field::kTunnelId, vpc.vni);
  tunnel.instructions.apply_actions = {SetField(Field::kMetadata, vpc.vni)};
  tunnel.instructions.goto_table = kTableIngress;
  flows.push_back(std::move(tunnel));

  reconcile::FlowEntry arp = NewFlow(kTableArp, 100, cookie);
  arp.key.match.Set(Field::kMetadata, vpc.vni);
  arp.key.match.Set(Field::kEthType, kEthTypeArp);
  arp.key.match.Set(Field::kArpOp, kArpRequest);
  arp.instructions.apply_actions = ArpResponder(vpc.router_mac);
  flows.push_back(std::move(arp));

  if (cluster_id != 0) {
    reconcile::FlowEntry out = NewFlow(kTableEgress, kPriorityDefault, cookie);
    out.key.match.Set(Field::kMetadata, vpc.vni);
    out.instructions.apply_actions = {SetField(Field::kTunnelId, vpc.vni),
                                      of::ActionGroup{cluster_id}};
    flows.push_back(std::move(out));
  }
  return flows;
}

std::vector<reconcile::FlowEntry> VmFlows(const HostVm& vm, const of::MacAddr& router_mac,
                                          uint32_t cluster_id) {
  using of::Field;
  const uint64_t cookie = HostCookie(cluster_id, vm.vni);
  std::vector<reconcile::FlowEntry> flows;
  flows.reserve(4);

  reconcile::FlowEntry ip = NewFlow(kTableClassify, 100, cookie);
  ip.key.match.Set(Field::kInPort, vm.ofport);
  ip.key.match.SetMac(Field::kEthSrc, vm.mac);
  ip.key.match.Set(Field::kEthType, kEthTypeIpv4);
  ip.key.match.SetIpv4(Field::kIpv4Src, vm.ipv4);
  ip.instructions.apply_actions = {SetField(Field::kMetadata, vm.vni)};
  ip.instructions.goto_table = kTableEgress;
  flows.push_back(std::move(ip));

  reconcile::FlowEntry arp = NewFlow(kTableClassify, 100, cookie);
  arp.key.match.Set(Field::kInPort, vm.ofport);
  arp.key.match.SetMac(Field::kEthSrc, vm.mac);
  arp.key.match.Set(Field::kEthType, kEthTypeArp);
  arp.key.match.SetIpv4(Field::kArpSpa, vm.ipv4);
  arp.key.match.SetMac(Field::kArpSha, vm.mac);
  arp.instructions.apply_actions = {SetField(Field::kMetadata, vm.vni)};
  arp.instructions.goto_table = kTableArp;
  flows.push_back(std::move(arp));

  reconcile::FlowEntry local = NewFlow(kTableEgress, kPriorityLocal, cookie);
  local.key.match.Set(Field::kMetadata, vm.vni);
  local.key.match.Set(Field::kEthType, kEthTypeIpv4);
  local.key.match.SetIpv4(Field::kIpv4Dst, vm.ipv4);
  local.instructions.goto_table = kTableIngress;
  flows.push_back(std::move(local));

  reconcile::FlowEntry in = NewFlow(kTableIngress, 100, cookie);
  in.key.match.Set(Field::kMetadata, vm.vni);
  in.key.match.Set(Field::kEthType, kEthTypeIpv4);
  in.key.match.SetIpv4(Field::kIpv4Dst, vm.ipv4);
  in.instructions.apply_actions = {SetMac(Field::kEthSrc, router_mac),
                                   SetMac(Field::kEthDst, vm.mac), Output(vm.ofport)};
  flows.push_back(std::move(in));
  return flows;
}

std::optional<reconcile::GroupEntry> GatewayGroup(const HostRules& rules) {
  // Only a host holding one of the cluster's VPCs needs the group (seed
  // 3.3): elsewhere a change of members must touch nothing.
  if (rules.cluster_id == 0 || rules.gateway_ports.empty() || rules.vpcs.empty()) {
    return std::nullopt;
  }
  reconcile::GroupEntry group;
  group.id = rules.cluster_id;
  group.type = of::GroupType::kSelect;
  for (uint32_t port : rules.gateway_ports) {
    of::Bucket bucket;
    bucket.weight = 100;
    bucket.watch_port = port;
    bucket.actions = {Output(port)};
    group.buckets.push_back(std::move(bucket));
  }
  return group;
}

reconcile::SwitchState BuildHostState(const HostRules& rules) {
  reconcile::SwitchState s;
  if (rules.vpcs.empty()) return s;  // Nothing of the cluster on this host.
  s.ReserveFlows(2 + 3 * rules.vpcs.size() + 4 * rules.vms.size());
  for (reconcile::FlowEntry& f : BaseFlows()) s.AddFlow(std::move(f));
  absl::flat_hash_map<uint32_t, const HostVpc*> by_vni;
  for (const HostVpc& vpc : rules.vpcs) {
    for (reconcile::FlowEntry& f : VpcFlows(vpc, rules.cluster_id)) s.AddFlow(std::move(f));
    by_vni[vpc.vni] = &vpc;
  }
  for (const HostVm& vm : rules.vms) {
    auto vpc = by_vni.find(vm.vni);
    if (vpc == by_vni.end()) Fatal(absl::StrCat("VM of VNI ", vm.vni, " without its VPC"));
    for (reconcile::FlowEntry& f : VmFlows(vm, vpc->second->router_mac, rules.cluster_id)) {
      s.AddFlow(std::move(f));
    }
  }
  if (std::optional<reconcile::GroupEntry> group = GatewayGroup(rules)) s.AddGroup(*group);
  return s;
}

of::FlowMod DirectPathAdd(uint32_t vni, uint32_t dst_ipv4, uint32_t dst_host_ip,
                          uint16_t idle_timeout_s, uint16_t tag) {
  // Built field by field, not parsed from text: this is the packet path's
  // hot spot (a setup per first packet). DirectPathText() is the same flow
  // as text; a test holds the two equal.
  of::FlowMod mod;
  mod.cookie = kCookieDirect | (static_cast<uint64_t>(tag) << 24) | vni;
  mod.table_id = kTableEgress;
  mod.command = of::FlowModCommand::kAdd;
  mod.priority = kPriorityDirect;
  mod.idle_timeout = idle_timeout_s;
  mod.match.Set(of::Field::kMetadata, vni);
  mod.match.Set(of::Field::kEthType, 0x0800);
  mod.match.Set(of::Field::kIpv4Dst, dst_ipv4);
  of::ActionSetField tun_dst{of::Field::kTunIpv4Dst,
                             of::FieldBytesFromU64(of::Field::kTunIpv4Dst, dst_host_ip)};
  of::ActionSetField tun_id{of::Field::kTunnelId, of::FieldBytesFromU64(of::Field::kTunnelId, vni)};
  of::ActionOutput out;
  out.port = kTunnelOfport;
  out.max_len = 0;
  mod.instructions.apply_actions = {tun_dst, tun_id, out};
  return mod;
}

std::string DirectPathText(uint32_t vni, uint32_t dst_ipv4, uint32_t dst_host_ip,
                           uint16_t idle_timeout_s, uint16_t tag) {
  std::string v = Hex(vni);
  return absl::StrCat("cookie=", Hex(kCookieDirect | (static_cast<uint64_t>(tag) << 24) | vni),
                      ",table=", kTableEgress, ",priority=", kPriorityDirect,
                      ",idle_timeout=", idle_timeout_s, ",metadata=", v,
                      ",ip,nw_dst=", Ip(dst_ipv4), ",actions=set_field:", Ip(dst_host_ip),
                      "->tun_dst,set_field:", v, "->tun_id,output:", kTunnelOfport);
}

of::FlowMod DirectPathDelete(uint32_t vni, uint32_t dst_ipv4) {
  of::FlowMod mod = Flow(
      absl::StrCat("table=", kTableEgress, ",metadata=", Hex(vni), ",ip,nw_dst=", Ip(dst_ipv4)),
      of::FlowModCommand::kDelete);
  mod.cookie = kCookieDirect;
  mod.cookie_mask = kCookieKindMask;
  return mod;
}

of::FlowMod DirectPathEvict(uint32_t vni, uint32_t dst_ipv4, uint16_t tag) {
  of::FlowMod mod = Flow(absl::StrCat("table=", kTableEgress, ",priority=", kPriorityDirect,
                                      ",metadata=", Hex(vni), ",ip,nw_dst=", Ip(dst_ipv4)),
                         of::FlowModCommand::kDeleteStrict);
  mod.cookie = kCookieDirect | (static_cast<uint64_t>(tag) << 24);
  mod.cookie_mask = kCookieKindMask | kCookieDirectTagMask;
  return mod;
}

of::FlowMod DirectPathDeleteVpc(uint32_t vni) {
  of::FlowMod mod = Flow(absl::StrCat("table=", kTableEgress, ",metadata=", Hex(vni)),
                         of::FlowModCommand::kDelete);
  mod.cookie = kCookieDirect;
  mod.cookie_mask = kCookieKindMask;
  return mod;
}

reconcile::Ownership HostOwnership(uint32_t cluster_id) {
  reconcile::Ownership o;
  o.cookie = HostCookie(cluster_id, 0);
  o.cookie_mask = kCookieClusterMask;
  o.shared_cookie = kCookieShared;
  o.shared_cookie_mask = kCookieKindMask;
  o.group_min = o.group_max = cluster_id;
  o.meter_min = 1;
  o.meter_max = 0;  // None.
  return o;
}

}  // namespace shortcut::pipeline
