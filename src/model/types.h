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
  friend bool operator==(const Host&, const Host&) = default;
};

struct Vpc {
  std::string id;          // Unique.
  uint32_t vni = 0;        // 1 .. 2^24-1, unique.
  std::string router_mac;  // The virtual router's MAC, for ARP answers.
  // Held but not served (a gateway cluster loading a VPC that moves to it):
  // the gateway keeps it in its DB and bridge but programs no host for it.
  bool standby = false;
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
