// What a gateway should hold, as a pure function of the management plane's
// state: for a gateway of cluster C, the SetCluster request (C, itself, the
// cluster's members, standby unless serving, every registered host) and every VPC C holds
// (serves, or loads for a move to C: standby while the move is loading)
// with its networks and endpoints, in the gateway API's messages. Gateways
// of other clusters never see C's VPCs.
//
// The driver (driver.h) sends this content; tests compare a gateway's whole
// content with it, an oracle that does not depend on the driver's
// bookkeeping. Lists are sorted (members and hosts by name, networks by id,
// endpoints by key) so equal states give equal messages.
//
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "shortcut/gateway/v1/gateway.pb.h"
#include "src/manager/nb.h"

namespace shortcut::manager {

namespace gwv1 = ::shortcut::gateway::v1;

struct VpcContent {
  gwv1::Vpc vpc;                          // With its networks.
  std::vector<gwv1::Endpoint> endpoints;  // Sorted by key.
};

struct GatewayContent {
  gwv1::SetClusterRequest cluster;
  std::map<std::string, VpcContent> vpcs;  // By VPC id.
};

gwv1::Endpoint EndpointToProto(const model::Endpoint& e);
gwv1::Host HostToProto(const model::Host& h);

// The SetCluster request for gateway `self` of cluster `cluster_id`.
gwv1::SetClusterRequest DesiredCluster(const NbState& state, uint32_t cluster_id,
                                       const std::string& self);
// The VPC message (networks included) and its endpoints, as cluster
// `cluster_id` holds it (standby when it is the target of a move still
// loading; 0: as served); nullopt if the VPC is unknown.
std::optional<VpcContent> DesiredVpc(const NbState& state, const std::string& vpc_id,
                                     uint32_t cluster_id = 0);
// Only the VPC message, networks included (no endpoints).
std::optional<gwv1::Vpc> DesiredVpcMessage(const NbState& state, const std::string& vpc_id,
                                           uint32_t cluster_id = 0);
// Ids of the VPCs `cluster_id` holds (HeldBy: serves, or loads for a
// move), sorted.
std::vector<std::string> VpcsOfCluster(const NbState& state, uint32_t cluster_id);
// The whole content of gateway `name`; nullopt if it is unknown or in no
// cluster (a spare).
std::optional<GatewayContent> DesiredContent(const NbState& state, const std::string& name);

}  // namespace shortcut::manager
