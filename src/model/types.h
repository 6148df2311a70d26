// The virtual network's objects as both daemons exchange them: a VPC, its
// networks and endpoints (VMs), the compute hosts they live on. Text
// fields, as the APIs carry them; src/model/address.h parses the
// addresses. Validation belongs to whoever stores them (the gateway DB, the
// management plane's store), which knows the rules of uniqueness.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>

namespace shortcut::model {

struct Host {
  std::string name;             // Unique.
  std::string underlay_ipv4;    // Tunnel endpoint (tun_dst toward this host).
  std::string openflow_target;  // "tcp:IP:PORT", "ssl:IP:PORT", "unix:/path", or empty.
  std::string ovsdb_target;     // Same forms, or empty.
  // At most this many direct paths on the host (from all gateways of a
  // cluster together); 0: the gateway's default (its config).
  uint32_t direct_path_budget = 0;
  friend bool operator==(const Host&, const Host&) = default;
};

// When a flow that crosses a gateway gets its direct path (issue: seed 004,
// section 1: few rules on compute nodes).
enum class OffloadMode {
  kFirstPacket,  // On its first packet (the default).
  // Once the gateways forwarded more than `packets` packets or `bytes`
  // bytes toward one destination from one host within `window_ms`; until
  // then the gateways carry it.
  kThreshold,
};

struct OffloadPolicy {
  OffloadMode mode = OffloadMode::kFirstPacket;
  uint64_t packets = 0;    // 0: no packet threshold.
  uint64_t bytes = 0;      // 0: no byte threshold.
  uint32_t window_ms = 0;  // 0: kDefaultOffloadWindowMs.
  friend bool operator==(const OffloadPolicy&, const OffloadPolicy&) = default;
};
inline constexpr uint32_t kDefaultOffloadWindowMs = 1000;
inline constexpr uint32_t kMinOffloadWindowMs = 100;
inline constexpr uint32_t kMaxOffloadWindowMs = 600000;

struct Vpc {
  std::string id;          // Unique.
  uint32_t vni = 0;        // 1 .. 2^24-1, unique.
  std::string router_mac;  // The virtual router's MAC, for ARP answers.
  // Held but not served (a gateway cluster loading a VPC that moves to it):
  // the gateway keeps it in its DB and bridge but programs no host for it.
  bool standby = false;
  OffloadPolicy offload = {};
  friend bool operator==(const Vpc&, const Vpc&) = default;
};

struct Network {
  std::string id;         // Unique in its VPC.
  std::string ipv4_cidr;  // Required.
  std::string ipv6_cidr;  // Empty: the network has no IPv6.
  friend bool operator==(const Network&, const Network&) = default;
};

struct Endpoint {
  std::string key;       // Unique, 1..255 bytes.
  std::string vpc;       // Id of an existing VPC.
  std::string network;   // Id of an existing network of that VPC.
  std::string ipv4;      // In the network's IPv4 CIDR.
  std::string ipv6;      // Empty: none; else in the network's IPv6 CIDR.
  std::string mac;       // Unicast.
  std::string host;      // Name of an existing host.
  std::string iface_id;  // external_ids:iface-id of its port (OVN/Nova); may be empty.
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace shortcut::model
