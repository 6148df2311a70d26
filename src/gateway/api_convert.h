// Conversions from the gRPC API's requests (shortcut.gateway.v1) to the
// gateway's own values, with the checks only the API layer can make: a
// message missing, a required field empty, a oneof not set. Formats
// (addresses, CIDRs, VNIs) and references (VPC, host) are left to the
// Gateway and its DB, whose messages already name the object and field.
//
// Errors are InvalidArgument naming the field as the request spells it
// ("endpoint.key", "vpc.networks[1].ipv4_cidr", "members[0].underlay_ip").
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <grpcpp/support/status.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shortcut/gateway/v1/gateway.pb.h"
#include "src/apiserver/call.h"
#include "src/gateway/gateway.h"

namespace shortcut::gateway {

absl::StatusOr<ClusterConfig> ClusterFromProto(const v1::SetClusterRequest& request);

// `field` names the message in errors: "endpoint", "endpoints[12]".
absl::StatusOr<Endpoint> EndpointFromProto(const v1::Endpoint& endpoint, const std::string& field);

struct VpcInput {
  Vpc vpc;
  std::vector<Network> networks;
};
absl::StatusOr<VpcInput> VpcFromProto(const v1::Vpc& vpc, const std::string& field);

// CREATED, UNCHANGED, MOVED (also when readdressed by the same update),
// READDRESSED, or REBOUND (only the iface_id changed).
v1::UpdateEndpointResponse::Change ChangeOf(const EndpointUpdate& update);

// absl and gRPC number their codes alike (both follow google.rpc.Code).
using apiserver::ToGrpcStatus;

}  // namespace shortcut::gateway
