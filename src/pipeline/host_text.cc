// HostStateText(): the host's standing rules in ovs-ofctl syntax, the form
// operators read in dump-flows. BuildHostState() builds the same flows field
// by field (pipeline.cc); tests/pipeline/pipeline_test.cc parses this text
// and holds the two equal.
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "src/common/fatal.h"
#include "src/pipeline/pipeline.h"
#include "src/pipeline/text_util.h"

namespace shortcut::pipeline {
namespace {

using internal::Hex;
using internal::Ip;
using internal::Mac;

std::string ArpResponder(const of::MacAddr& router) {
  return absl::StrCat(
      "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:", Mac(router),
      "->eth_src,set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],set_field:",
      Mac(router),
      "->arp_sha,move:NXM_OF_ARP_SPA[]->NXM_NX_REG0[],move:NXM_OF_ARP_TPA[]->NXM_OF_ARP_SPA[],"
      "move:NXM_NX_REG0[]->NXM_OF_ARP_TPA[],IN_PORT");
}

}  // namespace

std::vector<std::string> HostStateText(const HostRules& rules) {
  std::vector<std::string> lines;
  if (rules.vpcs.empty()) return lines;  // As BuildHostState.
  auto add = [&lines](uint64_t cookie, const std::string& text) {
    lines.push_back(absl::StrCat("cookie=", Hex(cookie), ",", text));
  };
  add(kCookieShared, absl::StrCat("table=", kTableClassify, ",priority=0,actions=drop"));
  add(kCookieShared, absl::StrCat("table=", kTableArp, ",priority=0,actions=drop"));
  const uint64_t c = HostCookie(rules.cluster_id, 0);
  for (const HostVpc& vpc : rules.vpcs) {
    std::string vni = Hex(vpc.vni);
    add(c | vpc.vni,
        absl::StrCat("table=", kTableClassify, ",priority=90,tun_id=", vni,
                     ",actions=set_field:", vni, "->metadata,goto_table:", kTableIngress));
    add(c | vpc.vni, absl::StrCat("table=", kTableArp, ",priority=100,metadata=", vni,
                                  ",arp,arp_op=1,actions=", ArpResponder(vpc.router_mac)));
    if (rules.cluster_id != 0) {
      add(c | vpc.vni,
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
    add(c | vm.vni,
        absl::StrCat("table=", kTableClassify, ",priority=100,in_port=", port,
                     ",dl_src=", Mac(vm.mac), ",ip,nw_src=", Ip(vm.ipv4),
                     ",actions=set_field:", vni, "->metadata,goto_table:", kTableEgress));
    add(c | vm.vni, absl::StrCat("table=", kTableClassify, ",priority=100,in_port=", port,
                                 ",dl_src=", Mac(vm.mac), ",arp,arp_spa=", Ip(vm.ipv4),
                                 ",arp_sha=", Mac(vm.mac), ",actions=set_field:", vni,
                                 "->metadata,goto_table:", kTableArp));
    add(c | vm.vni,
        absl::StrCat("table=", kTableEgress, ",priority=", kPriorityLocal, ",metadata=", vni,
                     ",ip,nw_dst=", Ip(vm.ipv4), ",actions=goto_table:", kTableIngress));
    add(c | vm.vni, absl::StrCat("table=", kTableIngress, ",priority=100,metadata=", vni,
                                 ",ip,nw_dst=", Ip(vm.ipv4),
                                 ",actions=set_field:", Mac(vpc->second->router_mac),
                                 "->eth_src,set_field:", Mac(vm.mac), "->eth_dst,output:", port));
  }
  if (rules.cluster_id != 0 && !rules.gateway_ports.empty()) {
    std::string text = absl::StrCat("group_id=", rules.cluster_id, ",type=select");
    for (uint32_t port : rules.gateway_ports) {
      absl::StrAppend(&text, ",bucket=weight:100,watch_port:", port, ",actions=output:", port);
    }
    lines.push_back(std::move(text));
  }
  return lines;
}

}  // namespace shortcut::pipeline
