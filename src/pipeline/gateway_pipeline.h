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
// Only the copy is metered: `controller(max_len, meter_id)` (a meter
// instruction would drop the forwarded packet too). The packet-in carries
// the tunnel metadata (tun_id, tun_src = the sending host) and metadata=VNI.
//
// Cookies: kCookieGateway (own kind), low bits the VNI where there is one.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "src/openflow/message.h"
#include "src/reconcile/state.h"

namespace shortcut::pipeline {

inline constexpr uint8_t kGwTableClassify = 0;
inline constexpr uint8_t kGwTableForward = 20;
inline constexpr uint8_t kGwTableOut = 30;
inline constexpr uint64_t kCookieGateway = 0x5c00030000000000ull;
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

}  // namespace shortcut::pipeline
