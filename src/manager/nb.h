// The management plane's state of record, as typed rows: what the
// Shortcut_Northbound OVSDB database (schema/shortcut_nb.ovsschema) holds,
// keyed the way the API names things. NbStore (store.h) keeps an NbState
// in step with the database; everything else in src/manager reads it.
//
// References are by key (a VPC's id, a host's name), not by OVSDB uuid:
// the store maps keys to rows when it reads and writes.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "src/model/types.h"

namespace shortcut::manager {

enum class GatewayState { kUnknown, kLoading, kReady, kDown };
// A member's part in its cluster (cluster management's, cluster_mgmt.h):
// joining (loading, or failed) takes no traffic; serving is in the buckets
// and designation; draining is leaving. A spare's role is kJoining.
enum class GatewayRole { kJoining, kServing, kDraining };
enum class EndpointStatus { kPending, kOnline };

struct HostRow {
  model::Host host;  // Keyed by host.name.
  friend bool operator==(const HostRow&, const HostRow&) = default;
};

struct GatewayRow {
  std::string name;
  std::string underlay_ipv4;
  std::string grpc_address;    // unix:/abs/path or HOST:PORT.
  uint64_t capacity = 0;       // VMs it can serve.
  uint32_t cluster_id = 0;     // 0: spare.
  uint32_t tunnel_ofport = 0;  // Hosts' tunnel port toward it; unique, 60001..65279.
  // Written by cluster management (and by the API when it creates a cluster).
  GatewayRole role = GatewayRole::kJoining;
  // Written by managerd as it drives the gateway.
  GatewayState state = GatewayState::kUnknown;
  std::string instance_id;
  std::string detail;
  friend bool operator==(const GatewayRow&, const GatewayRow&) = default;
};

struct ClusterRow {
  uint32_t id = 0;  // 1..65535; members are the gateways naming it.
  friend bool operator==(const ClusterRow&, const ClusterRow&) = default;
};

// How far a VPC's move between clusters went (make-before-break):
//   loading    the new cluster holds the VPC as standby (loaded, forwarding
//              on its gateways' bridges, no host programmed for it);
//   switching  the new cluster serves it too: each host's rules of the VPC
//              are rewritten by the new cluster (its cookie, its group) in
//              one bundle per host.
// Done: the VPC's cluster is the new one, and the old one drops it.
enum class MovePhase { kNone, kLoading, kSwitching };

struct VpcRow {
  model::Vpc vpc;           // Keyed by vpc.id.
  uint32_t cluster_id = 0;  // The serving cluster (a strong reference in the database).
  uint32_t moving_to = 0;   // A move in progress: the cluster it goes to; 0: none.
  MovePhase move_phase = MovePhase::kNone;  // kNone exactly when moving_to is 0.
  friend bool operator==(const VpcRow&, const VpcRow&) = default;
};

// As the database spells it; "" for kNone.
inline const char* MovePhaseName(MovePhase p) {
  switch (p) {
    case MovePhase::kLoading:
      return "loading";
    case MovePhase::kSwitching:
      return "switching";
    case MovePhase::kNone:
      break;
  }
  return "";
}

// Whether cluster `c` holds the VPC: serves it, or loads it for a move.
inline bool HeldBy(const VpcRow& v, uint32_t c) {
  return c != 0 && (v.cluster_id == c || v.moving_to == c);
}
// Whether cluster `c` holds it as standby (a move's target, still loading).
inline bool StandbyIn(const VpcRow& v, uint32_t c) {
  return c != 0 && v.moving_to == c && v.move_phase == MovePhase::kLoading;
}

struct NetworkRow {
  std::string vpc;
  model::Network network;  // Keyed by (vpc, network.id).
  friend bool operator==(const NetworkRow&, const NetworkRow&) = default;
};

struct EndpointRow {
  model::Endpoint endpoint;  // Keyed by endpoint.key.
  EndpointStatus status = EndpointStatus::kPending;
  friend bool operator==(const EndpointRow&, const EndpointRow&) = default;
};

// The global row: settings of cluster management (thresholds, timers).
struct Settings {
  uint64_t overload_vms_per_gateway = 0;   // 0: no overload detection.
  uint64_t underload_vms_per_gateway = 0;  // 0: no underload detection.
  uint32_t min_cluster_members = 2;
  uint32_t health_deadline_ms = 3000;
  uint32_t hold_down_ms = 30000;
  friend bool operator==(const Settings&, const Settings&) = default;
};

// Also in the global row: which managerd is active (holds the database
// lock), as that one wrote it; empty before any has been.
struct ActiveManager {
  std::string name;
  std::string address;   // Its API address, as others should dial it.
  int64_t since_ms = 0;  // Wall clock, ms since the epoch.
  friend bool operator==(const ActiveManager&, const ActiveManager&) = default;
};

using NetworkKey = std::pair<std::string, std::string>;  // (vpc, network id).

// The whole database as rows, with the secondary indexes readers need.
// Only NbStore changes it.
struct NbState {
  absl::flat_hash_map<std::string, HostRow> hosts;
  absl::flat_hash_map<std::string, GatewayRow> gateways;
  std::map<uint32_t, ClusterRow> clusters;
  absl::flat_hash_map<std::string, VpcRow> vpcs;
  std::map<NetworkKey, NetworkRow> networks;
  // Node-based: a million 296-byte rows in a flat table would cost twice
  // their size in empty slots after each doubling.
  absl::node_hash_map<std::string, EndpointRow> endpoints;
  Settings settings;
  ActiveManager active_manager;
  // Endpoint rows of the database that managerd does not use because
  // another writer broke what the schema cannot check (nb_row_check.h
  // CheckEndpointRow: an address, or a VPC, network or host not in use):
  // row uuid → why. They are absent from `endpoints` (a row that turns bad
  // reads as deleted, one that is mended as inserted).
  absl::flat_hash_map<std::string, std::string> rejected_endpoints;
  // Rows of the other tables refused likewise (nb_row_check.h): row uuid →
  // what and why. A row that turns bad keeps its last good value in use
  // (`kept`): a typo by hand in a host's address must not take its VMs
  // away. A row never good is absent, and so are the rows that need it (a
  // network of a refused VPC; endpoints, in rejected_endpoints) until it
  // is mended.
  struct RefusedRow {
    std::string table;  // "Host", "Gateway", "Vpc", "Network".
    std::string key;    // As the row names itself (a network: "vpc/id").
    std::string why;
    bool kept = false;  // Its last good value is in use.
    friend bool operator==(const RefusedRow&, const RefusedRow&) = default;
  };
  absl::flat_hash_map<std::string, RefusedRow> refused_rows;

  // Indexes, kept by the store: endpoint keys by VPC and by host (sorted,
  // for stable paging), gateways by cluster.
  absl::flat_hash_map<std::string, std::set<std::string>> endpoints_by_vpc;
  absl::flat_hash_map<std::string, std::set<std::string>> endpoints_by_host;
  std::map<uint32_t, std::set<std::string>> gateways_by_cluster;
  // Endpoint keys by address inside their VPC (vpc → ipv4 → key, vpc → mac
  // → key; the database keeps both unique per VPC), so that one endpoint's
  // addresses are checked without reading its whole VPC.
  using AddressIndex =
      absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, std::string>>;
  AddressIndex endpoint_by_ipv4;
  AddressIndex endpoint_by_mac;

  const EndpointRow* FindEndpoint(const std::string& key) const {
    auto it = endpoints.find(key);
    return it == endpoints.end() ? nullptr : &it->second;
  }
  // The key of the endpoint of `vpc` holding the address; nullptr if none.
  const std::string* EndpointWithIpv4(const std::string& vpc, const std::string& ipv4) const {
    return FindAddress(endpoint_by_ipv4, vpc, ipv4);
  }
  const std::string* EndpointWithMac(const std::string& vpc, const std::string& mac) const {
    return FindAddress(endpoint_by_mac, vpc, mac);
  }
  // For the store: an endpoint's addresses now name it, and no longer do.
  // Removal leaves an address another endpoint took meanwhile (rows of one
  // update are applied one at a time: two endpoints may swap addresses).
  void IndexAddresses(const model::Endpoint& e) {
    endpoint_by_ipv4[e.vpc][e.ipv4] = e.key;
    endpoint_by_mac[e.vpc][e.mac] = e.key;
  }
  void UnindexAddresses(const model::Endpoint& e) {
    UnindexAddress(endpoint_by_ipv4, e.vpc, e.ipv4, e.key);
    UnindexAddress(endpoint_by_mac, e.vpc, e.mac, e.key);
  }

 private:
  static const std::string* FindAddress(const AddressIndex& index, const std::string& vpc,
                                        const std::string& address) {
    auto v = index.find(vpc);
    if (v == index.end()) return nullptr;
    auto a = v->second.find(address);
    return a == v->second.end() ? nullptr : &a->second;
  }
  static void UnindexAddress(AddressIndex& index, const std::string& vpc,
                             const std::string& address, const std::string& key) {
    auto v = index.find(vpc);
    if (v == index.end()) return;
    auto a = v->second.find(address);
    if (a == v->second.end() || a->second != key) return;
    v->second.erase(a);
    if (v->second.empty()) index.erase(v);
  }
};

// One row that changed, as NbStore reports it to subscribers. `key` is the
// row's key (a network's is "vpc/id", a cluster's its decimal id, the
// global row's empty). `old` is the row before the change (insert: none).
enum class NbTable { kHost, kGateway, kCluster, kVpc, kNetwork, kEndpoint, kGlobal };
enum class NbChangeKind { kInsert, kModify, kDelete };
using NbRow = std::variant<std::monostate, HostRow, GatewayRow, ClusterRow, VpcRow, NetworkRow,
                           EndpointRow, Settings>;
struct NbChange {
  NbTable table = NbTable::kHost;
  NbChangeKind kind = NbChangeKind::kInsert;
  std::string key;
  NbRow old;
};

}  // namespace shortcut::manager
