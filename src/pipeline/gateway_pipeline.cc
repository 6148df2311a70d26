#include "src/pipeline/gateway_pipeline.h"

#include "absl/strings/str_cat.h"
#include "src/common/fatal.h"
#include "src/openflow/text.h"
#include "src/pipeline/pipeline.h"
#include "src/pipeline/text_util.h"

namespace shortcut::pipeline {
namespace {

using internal::Entry;
using internal::Hex;
using internal::Ip;

std::string Copy(const GatewayBridgeConfig& c) {
  if (c.meter_id == 0) return absl::StrCat("controller(max_len=", kPacketInMaxLen, ")");
  return absl::StrCat("controller(max_len=", kPacketInMaxLen, ",meter_id=", c.meter_id, ")");
}

}  // namespace

reconcile::MeterEntry GatewayMeter(const GatewayBridgeConfig& c) {
  std::string text =
      absl::StrCat("meter=", c.meter_id, ",pktps,band=type=drop,rate=", c.packet_in_rate_pps);
  auto meter = of::ParseMeter(text);
  if (!meter.ok()) {
    Fatal(absl::StrCat("generated meter does not parse: ", text, ": ", meter.status().ToString()));
  }
  return reconcile::MeterFromMod(*meter);
}

reconcile::SwitchState BuildGatewayBase(const GatewayBridgeConfig& c) {
  reconcile::SwitchState s;
  const uint64_t k = kCookieGateway;
  s.AddFlow(Entry(k, absl::StrCat("table=", kGwTableClassify, ",priority=0,actions=drop")));
  s.AddFlow(Entry(k, absl::StrCat("table=", kGwTableForward, ",priority=0,actions=", Copy(c))));
  s.AddFlow(Entry(k, absl::StrCat("table=", kGwTableOut, ",priority=10,in_port=", kTunnelOfport,
                                  ",actions=", Copy(c), ",IN_PORT")));
  s.AddFlow(Entry(k, absl::StrCat("table=", kGwTableOut, ",priority=0,actions=", Copy(c),
                                  ",output:", kTunnelOfport)));
  s.AddFlow(Entry(k, absl::StrCat("table=", kGwTableOutNoCopy,
                                  ",priority=10,in_port=", kTunnelOfport, ",actions=IN_PORT")));
  s.AddFlow(Entry(
      k, absl::StrCat("table=", kGwTableOutNoCopy, ",priority=0,actions=output:", kTunnelOfport)));
  if (c.meter_id != 0) s.AddMeter(GatewayMeter(c));
  return s;
}

reconcile::FlowEntry GatewayVpcFlow(uint32_t vni) {
  std::string v = Hex(vni);
  return Entry(
      kCookieGateway | vni,
      absl::StrCat("table=", kGwTableClassify, ",priority=90,tun_id=", v,
                   ",ip,actions=set_field:", v, "->metadata,goto_table:", kGwTableForward));
}

reconcile::FlowKey GatewayVpcKey(uint32_t vni) { return GatewayVpcFlow(vni).key; }

reconcile::FlowEntry GatewayEndpointFlow(uint32_t vni, uint32_t ipv4, uint32_t host_ip) {
  return Entry(kCookieGateway | vni,
               absl::StrCat("table=", kGwTableForward, ",priority=100,metadata=", Hex(vni),
                            ",ip,nw_dst=", Ip(ipv4), ",actions=set_field:", Ip(host_ip),
                            "->tun_dst,goto_table:", kGwTableOut));
}

reconcile::FlowKey GatewayEndpointKey(uint32_t vni, uint32_t ipv4) {
  return GatewayEndpointFlow(vni, ipv4, 0).key;
}

of::FlowMod GatewayFlowAdd(const reconcile::FlowEntry& flow) {
  return reconcile::ToFlowMod(flow, of::FlowModCommand::kAdd);
}

of::FlowMod GatewayFlowDelete(const reconcile::FlowKey& key) {
  reconcile::FlowEntry e;
  e.key = key;
  of::FlowMod mod = reconcile::ToFlowMod(e, of::FlowModCommand::kDeleteStrict);
  mod.cookie = kCookieGateway;  // Never another kind's flow at the same key.
  mod.cookie_mask = kCookieKindMask;
  return mod;
}

reconcile::Ownership GatewayOwnership() {
  reconcile::Ownership o;
  o.cookie = kCookieGateway;
  o.cookie_mask = kCookieKindMask;
  o.group_min = 1;
  o.group_max = 0;  // The gateway bridge has no groups.
  return o;
}

of::FlowMod GatewayCountFlowAdd(uint32_t vni, uint32_t src_host, uint32_t dst_ipv4,
                                uint32_t dst_host, uint16_t idle_timeout_s) {
  of::FlowMod mod;
  mod.cookie = kCookieGatewayCount | vni;
  mod.table_id = kGwTableForward;
  mod.command = of::FlowModCommand::kAdd;
  mod.priority = kPriorityGatewayCount;
  mod.idle_timeout = idle_timeout_s;
  mod.match.Set(of::Field::kTunIpv4Src, src_host);
  mod.match.Set(of::Field::kMetadata, vni);
  mod.match.Set(of::Field::kEthType, 0x0800);
  mod.match.Set(of::Field::kIpv4Dst, dst_ipv4);
  of::ActionSetField tun_dst{of::Field::kTunIpv4Dst,
                             of::FieldBytesFromU64(of::Field::kTunIpv4Dst, dst_host)};
  mod.instructions.apply_actions = {tun_dst};
  mod.instructions.goto_table = kGwTableOutNoCopy;
  return mod;
}

namespace {
of::FlowMod CountDelete(const std::string& match) {
  of::FlowMod mod = internal::Flow(absl::StrCat("table=", kGwTableForward, ",", match),
                                   of::FlowModCommand::kDelete);
  mod.cookie = kCookieGatewayCount;
  mod.cookie_mask = kCookieKindMask;
  return mod;
}
}  // namespace

of::FlowMod GatewayCountFlowDeleteDst(uint32_t vni, uint32_t dst_ipv4) {
  return CountDelete(absl::StrCat("metadata=", Hex(vni), ",ip,nw_dst=", Ip(dst_ipv4)));
}

of::FlowMod GatewayCountFlowDeleteVpc(uint32_t vni) {
  return CountDelete(absl::StrCat("metadata=", Hex(vni)));
}

bool IsGatewayCountFlowMod(const of::FlowMod& mod) {
  return (mod.cookie & kCookieKindMask) == kCookieGatewayCount;
}

of::FlowStatsRequest GatewayCountFlowsRequest() {
  of::FlowStatsRequest req;
  req.table_id = kGwTableForward;
  req.cookie = kCookieGatewayCount;
  req.cookie_mask = kCookieKindMask;
  return req;
}

std::optional<CountFlowKey> ParseCountFlow(const of::FlowStats& flow) {
  if ((flow.cookie & kCookieKindMask) != kCookieGatewayCount) return std::nullopt;
  const of::FieldMatch* src = flow.match.Find(of::Field::kTunIpv4Src);
  const of::FieldMatch* vni = flow.match.Find(of::Field::kMetadata);
  const of::FieldMatch* dst = flow.match.Find(of::Field::kIpv4Dst);
  if (src == nullptr || vni == nullptr || dst == nullptr) return std::nullopt;
  return CountFlowKey{static_cast<uint32_t>(src->ValueU64()),
                      static_cast<uint32_t>(vni->ValueU64()),
                      static_cast<uint32_t>(dst->ValueU64())};
}

}  // namespace shortcut::pipeline
