#include "src/pipeline/pipeline.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/common/fatal.h"
#include "src/openflow/text.h"
#include "src/pipeline/text_util.h"

namespace shortcut::pipeline {
namespace {

using internal::Flow;
using internal::Hex;
using internal::Ip;
using internal::Mac;

void Add(reconcile::SwitchState& state, uint64_t cookie, const std::string& text) {
  state.AddFlow(internal::Entry(cookie, text));
}

// Answers an ARP request in place: the reply says the requested address is
// at the router MAC, whatever address was asked for (L3 forwarding only).
std::string ArpResponder(const of::MacAddr& router) {
  return absl::StrCat(
      "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:", Mac(router),
      "->eth_src,set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],set_field:",
      Mac(router),
      "->arp_sha,move:NXM_OF_ARP_SPA[]->NXM_NX_REG0[],move:NXM_OF_ARP_TPA[]->NXM_OF_ARP_SPA[],"
      "move:NXM_NX_REG0[]->NXM_OF_ARP_TPA[],IN_PORT");
}

}  // namespace

reconcile::SwitchState BuildHostState(const HostRules& rules) {
  reconcile::SwitchState s;
  const uint64_t c = kCookieBase;
  Add(s, c, absl::StrCat("table=", kTableClassify, ",priority=0,actions=drop"));
  Add(s, c, absl::StrCat("table=", kTableArp, ",priority=0,actions=drop"));
  for (const HostVpc& vpc : rules.vpcs) {
    std::string vni = Hex(vpc.vni);
    Add(s, c | vpc.vni,
        absl::StrCat("table=", kTableClassify, ",priority=90,tun_id=", vni,
                     ",actions=set_field:", vni, "->metadata,goto_table:", kTableIngress));
    Add(s, c | vpc.vni,
        absl::StrCat("table=", kTableArp, ",priority=100,metadata=", vni,
                     ",arp,arp_op=1,actions=", ArpResponder(vpc.router_mac)));
    if (rules.cluster_id != 0) {
      Add(s, c | vpc.vni,
          absl::StrCat("table=", kTableEgress, ",priority=", kPriorityDefault, ",metadata=", vni,
                       ",actions=set_field:", vni, "->tun_id,group:", rules.cluster_id));
    }
  }
  absl::flat_hash_map<uint32_t, const HostVpc*> by_vni;
  for (const HostVpc& vpc : rules.vpcs) by_vni[vpc.vni] = &vpc;
  for (const HostVm& vm : rules.vms) {
    auto vpc = by_vni.find(vm.vni);
    if (vpc == by_vni.end()) Fatal(absl::StrCat("VM of VNI ", vm.vni, " without its VPC"));
    std::string vni = Hex(vm.vni);
    std::string port = std::to_string(vm.ofport);
    Add(s, c | vm.vni,
        absl::StrCat("table=", kTableClassify, ",priority=100,in_port=", port,
                     ",dl_src=", Mac(vm.mac), ",ip,nw_src=", Ip(vm.ipv4),
                     ",actions=set_field:", vni, "->metadata,goto_table:", kTableEgress));
    Add(s, c | vm.vni,
        absl::StrCat("table=", kTableClassify, ",priority=100,in_port=", port, ",dl_src=",
                     Mac(vm.mac), ",arp,arp_spa=", Ip(vm.ipv4), ",arp_sha=", Mac(vm.mac),
                     ",actions=set_field:", vni, "->metadata,goto_table:", kTableArp));
    Add(s, c | vm.vni,
        absl::StrCat("table=", kTableEgress, ",priority=", kPriorityLocal, ",metadata=", vni,
                     ",ip,nw_dst=", Ip(vm.ipv4), ",actions=goto_table:", kTableIngress));
    Add(s, c | vm.vni,
        absl::StrCat("table=", kTableIngress, ",priority=100,metadata=", vni, ",ip,nw_dst=",
                     Ip(vm.ipv4), ",actions=set_field:", Mac(vpc->second->router_mac),
                     "->eth_src,set_field:", Mac(vm.mac), "->eth_dst,output:", port));
  }
  if (rules.cluster_id != 0 && !rules.gateway_ports.empty()) {
    std::string text = absl::StrCat("group_id=", rules.cluster_id, ",type=select");
    for (uint32_t port : rules.gateway_ports) {
      absl::StrAppend(&text, ",bucket=weight:100,watch_port:", port, ",actions=output:", port);
    }
    auto group = of::ParseGroup(text);
    if (!group.ok()) {
      Fatal(
          absl::StrCat("generated group does not parse: ", text, ": ", group.status().ToString()));
    }
    s.AddGroup(reconcile::GroupFromMod(*group));
  }
  return s;
}

of::FlowMod DirectPathAdd(uint32_t vni, uint32_t dst_ipv4, uint32_t dst_host_ip,
                          uint16_t idle_timeout_s) {
  // Built field by field, not parsed from text: this is the packet path's
  // hot spot (a setup per first packet). DirectPathText() is the same flow
  // as text; a test holds the two equal.
  of::FlowMod mod;
  mod.cookie = kCookieDirect | vni;
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
                           uint16_t idle_timeout_s) {
  std::string v = Hex(vni);
  return absl::StrCat("cookie=", Hex(kCookieDirect | vni), ",table=", kTableEgress,
                      ",priority=", kPriorityDirect, ",idle_timeout=", idle_timeout_s,
                      ",metadata=", v, ",ip,nw_dst=", Ip(dst_ipv4),
                      ",actions=set_field:", Ip(dst_host_ip), "->tun_dst,set_field:", v,
                      "->tun_id,output:", kTunnelOfport);
}

of::FlowMod DirectPathDelete(uint32_t vni, uint32_t dst_ipv4) {
  of::FlowMod mod = Flow(
      absl::StrCat("table=", kTableEgress, ",metadata=", Hex(vni), ",ip,nw_dst=", Ip(dst_ipv4)),
      of::FlowModCommand::kDelete);
  mod.cookie = kCookieDirect;
  mod.cookie_mask = kCookieKindMask;
  return mod;
}

of::FlowMod DirectPathDeleteVpc(uint32_t vni) {
  of::FlowMod mod = Flow(absl::StrCat("table=", kTableEgress, ",metadata=", Hex(vni)),
                         of::FlowModCommand::kDelete);
  mod.cookie = kCookieDirect;
  mod.cookie_mask = kCookieKindMask;
  return mod;
}

reconcile::Ownership BaseOwnership() {
  reconcile::Ownership o;
  o.cookie = kCookieBase;
  o.cookie_mask = kCookieKindMask;
  return o;
}

}  // namespace shortcut::pipeline
