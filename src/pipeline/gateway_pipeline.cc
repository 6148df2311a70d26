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

}  // namespace shortcut::pipeline
