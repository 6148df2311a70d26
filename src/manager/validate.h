// Validation of the northbound API's requests (shortcut.manager.v1), in two
// pure steps, so that nothing invalid reaches the store:
//
//  1. Syntax (`*FromProto`, `Parse*`): one request on its own, on the gRPC
//     thread. Names ([A-Za-z0-9._-], 1..64), addresses (src/model/address.h:
//     IPv4 underlays, CIDRs with host bits zero, unicast MACs), VNI range,
//     capacity > 0, cluster ids, targets, page sizes, field masks. Addresses
//     come out in canonical text, so equal values compare equal.
//  2. State (`Check*`): against one NbState snapshot, on the executor:
//     references (NOT_FOUND), uniqueness (ALREADY_EXISTS: VNI, underlay IPs,
//     IPv4/MAC inside a VPC, overlapping CIDRs inside a VPC), preconditions
//     (FAILED_PRECONDITION), and idempotent creation: the same resource
//     again is `unchanged`, a different one under the same id is
//     ALREADY_EXISTS naming the first field that differs. The database's own
//     indexes are the backstop for a race between two writers.
//
// Every message starts with the field as the request spells it
// (`endpoint.ipv4: '10.0.9.1' is not inside network web (10.0.0.0/24)`),
// or names the resource when the state as a whole forbids the call
// (`cluster 1 serves VPCs blue, red`).
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shortcut/manager/v1/manager.pb.h"
#include "src/manager/nb.h"

namespace shortcut::manager {

inline constexpr uint32_t kMaxVni = 16777215;
inline constexpr uint32_t kMaxClusterId = 65535;
inline constexpr uint32_t kFirstTunnelOfport = 60001;
inline constexpr uint32_t kLastTunnelOfport = 65279;
inline constexpr int32_t kDefaultPageSize = 1000;
inline constexpr int32_t kMaxPageSize = 10000;
inline constexpr size_t kMaxKeyLength = 255;

// ---- 1. Syntax. ----

// [A-Za-z0-9._-], 1..64 characters.
absl::Status CheckName(std::string_view field, const std::string& value);
// 0 → kDefaultPageSize; negative or above kMaxPageSize: InvalidArgument.
absl::StatusOr<int32_t> ParsePageSize(int32_t page_size);
// "unix:/abs/path" or "HOST:PORT".
absl::Status CheckGrpcAddress(std::string_view field, const std::string& address);

absl::StatusOr<HostRow> HostFromProto(const v1::Host& host, std::string_view field);
// Output-only fields are ignored; cluster_id and tunnel_ofport are 0.
absl::StatusOr<GatewayRow> GatewayFromProto(const v1::Gateway& gateway, std::string_view field);

struct ClusterInput {
  uint32_t id = 0;  // 0: the lowest free id.
  std::vector<std::string> members;
};
absl::StatusOr<ClusterInput> ClusterFromProto(const v1::Cluster& cluster, std::string_view field);

absl::StatusOr<NetworkRow> NetworkFromProto(const v1::Network& network, std::string_view field);

struct VpcInput {
  VpcRow vpc;  // cluster_id 0: to be placed.
  std::vector<NetworkRow> networks;
};
// Networks must not share an id or overlap one another.
absl::StatusOr<VpcInput> VpcFromProto(const v1::Vpc& vpc, std::string_view field);

// iface_id empty → the key. Status is kPending. ipv4 and mac may be empty:
// CreateEndpoint allocates them (address_alloc.h), a stream refuses them.
absl::StatusOr<EndpointRow> EndpointFromProto(const v1::Endpoint& endpoint, std::string_view field);

// An UpdateEndpoint: the key and the masked fields, each checked.
struct EndpointPatch {
  std::string key;
  std::string vpc;  // As given (empty: not given); must be the endpoint's own.
  std::optional<std::string> network, ipv4, ipv6, mac, host, iface_id;
};
// An empty mask means every updatable field (AIP-134's full replacement).
absl::StatusOr<EndpointPatch> PatchFromProto(const v1::Endpoint& endpoint,
                                             const google::protobuf::FieldMask& mask);

// ---- 2. State. ----

template <typename T>
struct Checked {
  T value;
  bool unchanged = false;  // Already there, identical: nothing to write.
};

absl::StatusOr<Checked<HostRow>> CheckRegisterHost(const NbState& state, HostRow host);
absl::Status CheckUnregisterHost(const NbState& state, const std::string& name);

// Assigns tunnel_ofport: the lowest free in kFirstTunnelOfport..kLastTunnelOfport.
absl::StatusOr<Checked<GatewayRow>> CheckRegisterGateway(const NbState& state, GatewayRow gateway);
absl::Status CheckUnregisterGateway(const NbState& state, const std::string& name);

// Assigns the id when 0 (or finds the cluster of exactly these members: a
// retry). Members sorted.
absl::StatusOr<Checked<ClusterInput>> CheckCreateCluster(const NbState& state,
                                                         ClusterInput cluster);
absl::Status CheckDeleteCluster(const NbState& state, uint32_t id);
// A move of VPC `id` to cluster `to` (MoveVpc): the row to write (a move
// started, or cancelled when `to` is its own cluster and the move is still
// loading), or nullopt when nothing changes (there already, or moving
// there).
absl::StatusOr<std::optional<VpcRow>> CheckMoveVpc(const NbState& state, const std::string& id,
                                                   uint32_t to);
// UpdateVpc (offload): the VPC exists; the row with its new policy, or
// nullopt when it is the same.
absl::StatusOr<std::optional<VpcRow>> CheckUpdateVpc(const NbState& state, const std::string& id,
                                                     const model::OffloadPolicy& offload);
// The API's offload policy, validated (model::OffloadFromProto) and within
// the database's integers, errors naming `field`.
absl::StatusOr<model::OffloadPolicy> OffloadFromProto(const v1::OffloadPolicy& p,
                                                      std::string_view field);
inline constexpr uint32_t kMaxDirectPathBudget = 10000000;
// add_gw_to_cluster by an operator: the cluster and gateway exist and the
// gateway is a spare; `unchanged` when it is a member already (a retry).
absl::StatusOr<bool> CheckAddClusterMember(const NbState& state, uint32_t cluster,
                                           const std::string& gateway);
// del_gw_from_cluster: the gateway is a member of the cluster; `unchanged`
// (true) when it is draining already.
absl::StatusOr<bool> CheckRemoveClusterMember(const NbState& state, uint32_t cluster,
                                              const std::string& gateway);

// Places the VPC (placement.h) when its cluster_id is 0.
absl::StatusOr<Checked<VpcInput>> CheckCreateVpc(const NbState& state, VpcInput vpc);
absl::Status CheckVpcExists(const NbState& state, std::string_view field, const std::string& id);

absl::StatusOr<Checked<NetworkRow>> CheckCreateNetwork(const NbState& state, NetworkRow network);
absl::Status CheckNetworkExists(const NbState& state, const std::string& vpc,
                                const std::string& id);

absl::StatusOr<Checked<EndpointRow>> CheckCreateEndpoint(const NbState& state,
                                                         EndpointRow endpoint);

struct EndpointUpdate {
  EndpointRow row;     // The endpoint after the update.
  bool moved = false;  // Its host changed: status goes back to pending.
};
absl::StatusOr<Checked<EndpointUpdate>> CheckUpdateEndpoint(const NbState& state,
                                                            const EndpointPatch& patch);
absl::Status CheckEndpointExists(const NbState& state, std::string_view field,
                                 const std::string& key);

// A bulk creation: each endpoint as CheckCreateEndpoint, named
// `endpoints[i]`, and no two sharing a key, or an IPv4 or MAC in a VPC.
struct BulkEndpoints {
  std::vector<EndpointRow> create;
  uint64_t unchanged = 0;
};
absl::StatusOr<BulkEndpoints> CheckCreateEndpoints(const NbState& state,
                                                   std::vector<EndpointRow> endpoints);

}  // namespace shortcut::manager
