// The gateway's own bridge (seed 5.2, the forwarding module's data plane):
// rules for every endpoint of the cluster's VPCs, so that the first packets
// of a flow are forwarded at data-plane speed and never wait on the daemon,
// and a metered copy of each to the daemon (packet-in) so it can install the
// direct path. Pure: values in, flows out.
//
// Gateway bridge (br-int on a gateway node, same `host init`), OpenFlow 1.3:
//   table 0  classify  tun_id=VNI, IPv4 (from any tunnel port) → metadata=VNI, to 20
//                      anything else → drop
//   table 20 forward   VNI + destination IP of an endpoint → tun_dst=its host, to 30
//                      (one flow per endpoint); else → metered copy to the daemon
//                      (a miss, counted there), drop
//   table 30 out       → metered copy to the daemon, then out through the shared
//                      flow-based tunnel port (tun_id unchanged: the VNI); back out
//                      of that port when it came in on it (IN_PORT)
//   table 31 out, no copy: the same as table 30 without the copy (for the
//                      counting flows). Packets from a host come in on its
//                      BFD tunnel port, not the shared one: both tables
//                      send them out of the shared one.
//   table 20 also   tun_src=host + VNI + destination of a VPC whose offload
//                   policy is `threshold` (model::OffloadPolicy), once its
//                   first packet was seen: → tun_dst=its host, to 31 (out
//                   without a copy); its counters are what the threshold is checked
//                   against (priority 150, idle timeout; cookie kCookieGatewayCount,
//                   outside the reconciler's ownership: the forwarder adds them,
//                   they idle out, an endpoint's change deletes them)
// Only the copy is metered: `controller(max_len, meter_id)` (a meter
// instruction would drop the forwarded packet too). The packet-in carries
// the tunnel metadata (tun_id, tun_src = the sending host) and metadata=VNI.
//
// Cookies: kCookieGateway (own kind), low bits the VNI where there is one.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>

#include "src/openflow/message.h"
#include "src/reconcile/state.h"

namespace shortcut::pipeline {

inline constexpr uint8_t kGwTableClassify = 0;
inline constexpr uint8_t kGwTableForward = 20;
inline constexpr uint8_t kGwTableOut = 30;
inline constexpr uint8_t kGwTableOutNoCopy = 31;
inline constexpr uint64_t kCookieGateway = 0x5c00030000000000ull;
inline constexpr uint64_t kCookieGatewayCount = 0x5c00050000000000ull;
inline constexpr uint16_t kPriorityGatewayCount = 150;
// The copy sent to the daemon: enough for the tunnel metadata and the inner
// headers up to L4.
inline constexpr uint16_t kPacketInMaxLen = 128;

struct GatewayBridgeConfig {
  uint32_t meter_id = 0;            // From the extend table; 0: copies unmetered.
  uint32_t packet_in_rate_pps = 0;  // The meter's rate (packets/s).
};

// The standing rules (without endpoints): table-miss drops, table 30, the
// miss copy and the meter.
reconcile::SwitchState BuildGatewayBase(const GatewayBridgeConfig& config);
// The meter alone, for the extend table's spec (reconcile::MeterSpec).
reconcile::MeterEntry GatewayMeter(const GatewayBridgeConfig& config);
// The classify flow of one VPC.
reconcile::FlowEntry GatewayVpcFlow(uint32_t vni);
// The forward flow of one endpoint.
reconcile::FlowEntry GatewayEndpointFlow(uint32_t vni, uint32_t ipv4, uint32_t host_ip);
// Its key alone (for deletes).
reconcile::FlowKey GatewayEndpointKey(uint32_t vni, uint32_t ipv4);
reconcile::FlowKey GatewayVpcKey(uint32_t vni);

// The flow_mod that puts `flow` on the switch (ADD) or takes the gateway
// flow at `key` off (DELETE_STRICT in the kCookieGateway space), for
// incremental changes between full syncs.
of::FlowMod GatewayFlowAdd(const reconcile::FlowEntry& flow);
of::FlowMod GatewayFlowDelete(const reconcile::FlowKey& key);

reconcile::Ownership GatewayOwnership();

// The counting flow of (sending host, VNI, destination): forwards toward
// `dst_host` without a copy to the daemon and counts.
of::FlowMod GatewayCountFlowAdd(uint32_t vni, uint32_t src_host, uint32_t dst_ipv4,
                                uint32_t dst_host, uint16_t idle_timeout_s);
// Non-strict deletes of the counting flows toward (vni, dst_ipv4) from any
// host, and of all of a VPC's.
of::FlowMod GatewayCountFlowDeleteDst(uint32_t vni, uint32_t dst_ipv4);
of::FlowMod GatewayCountFlowDeleteVpc(uint32_t vni);
bool IsGatewayCountFlowMod(const of::FlowMod& mod);
// The dump of every counting flow, filtered by the switch.
of::FlowStatsRequest GatewayCountFlowsRequest();
struct CountFlowKey {
  uint32_t src_host = 0;
  uint32_t vni = 0;
  uint32_t dst_ipv4 = 0;
  friend bool operator==(const CountFlowKey&, const CountFlowKey&) = default;
};
// The key of a dumped counting flow; nullopt for anything else.
std::optional<CountFlowKey> ParseCountFlow(const of::FlowStats& flow);

}  // namespace shortcut::pipeline
