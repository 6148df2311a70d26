// `shortcutctl trace`'s model: the path of one packet from an endpoint to a
// destination address of its VPC, node by node, as Shortcut's pipelines
// make it (ovn-trace's counterpart). Each node's tables are built with the
// pipeline code from the management plane's state (BuildHostState,
// BuildGatewayBase + the gateway's VPC and endpoint flows) or, where the
// caller dumped them from the real switch (`--live`), are that switch's
// own; the packet walks them (walk.h):
//
//   source host  → a local VM, a direct path (sc-tun to the destination's
//                  host: installed on demand after a first packet), or the
//                  VPC cluster's select group (one bucket per serving
//                  gateway: each is followed);
//   gateway      → forwards toward the destination's host and copies the
//                  packet to shortcut-gatewayd (which installs the direct
//                  path on the source host), or, for an address no endpoint
//                  holds, only the copy (dropped);
//   destination  → delivered to the endpoint's port.
//
// VM ports: the ofports come from the host's OVSDB when the caller read
// it; otherwise each endpoint of a host gets a stand-in number (1000 + its
// rank on the host), printed with its iface-id, and gateways' ports toward
// hosts stand in as 2000 + the host's rank.
//
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "src/openflow/match.h"
#include "src/reconcile/state.h"
#include "src/trace/walk.h"

namespace shortcut::trace {

struct EndpointInfo {
  std::string key;
  std::string host;
  std::string iface_id;
  uint32_t ipv4 = 0;  // Host byte order.
  of::MacAddr mac{};
  bool online = false;
};

struct GatewayInfo {
  std::string name;
  uint32_t underlay = 0;
  uint32_t tunnel_ofport = 0;
  bool serving = false;  // In the buckets.
  std::string state;     // As managerd knows it (READY, DOWN, ...).
};

struct TraceInput {
  EndpointInfo src;
  std::string vpc;
  uint32_t vni = 0;
  of::MacAddr router_mac{};
  uint32_t cluster_id = 0;
  std::vector<EndpointInfo> endpoints;            // Of the VPC, the source included.
  std::map<std::string, uint32_t> host_underlay;  // Host name → underlay IPv4.
  std::vector<GatewayInfo> gateways;              // Members of the VPC's cluster.
  uint32_t dst_ipv4 = 0;
  uint8_t ip_proto = 1;  // 1 ICMP, 6 TCP, 17 UDP.
  uint16_t dst_port = 0;
  // `--live`: per host, the switch's tables and its iface-id → ofport.
  std::map<std::string, reconcile::SwitchState> live_tables;
  std::map<std::string, std::map<std::string, uint32_t>> live_ofports;
};

struct Hop {
  std::string node;
  bool gateway = false;
  bool live = false;  // Walked on the switch's own tables.
  Packet in;          // The packet as it arrived.
  Walk walk;
  std::vector<std::string> then;  // Where it went, one line each.
  std::string differs;            // --live: how the computed walk differed.
  std::string ofproto;            // The verdict of OfprotoVerdict(), if it ran.
};

struct TraceResult {
  std::vector<Hop> hops;
  std::string summary;
};

TraceResult Trace(const TraceInput& input);

// The packet of `hop` as ovs-appctl ofproto/trace takes it ("icmp,in_port=1,...").
std::string OfprotoFlow(const Hop& hop);
// Compares `hop`'s walk with what `ovs-appctl ofproto/trace` printed for
// OfprotoFlow(hop) on that node: the flows it went through (table,
// priority, cookie) and its OpenFlow outputs and groups. "agrees: ..." or
// "DIFFERS: ...".
std::string OfprotoVerdict(const Hop& hop, std::string_view ofproto_trace_output);

// Human output (one block per hop) and JSON.
std::string FormatTrace(const TraceInput& input, const TraceResult& result);
nlohmann::json TraceJson(const TraceInput& input, const TraceResult& result);

}  // namespace shortcut::trace
