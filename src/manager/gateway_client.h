// GatewayClient: managerd's calls toward one gateway (shortcut.gateway.v1),
// as coroutines on the caller's executor. The seed's gw_update_endpoint,
// gw_delete_endpoint, gw_add_vpc, gw_delete_vpc and gw_delete_network,
// plus SetCluster, SetVpcStandby (a VPC moving between clusters), GetStats
// and ListEndpoints.
//
// Contract of the results, which the driver relies on:
// - OK means the gateway applied the call. A change the gateway stored but
//   could not yet confirm on a host ("stored but pending") is OK; for
//   UpdateEndpoint `online` is then false.
// - A refusal by the gateway keeps the gateway's code: InvalidArgument,
//   NotFound (a delete of something gone), AlreadyExists (an AddVpc of a VPC
//   it holds), FailedPrecondition.
// - Anything else (Unavailable, DeadlineExceeded, Cancelled, Internal,
//   Unknown) means the outcome is unknown: the call may or may not have
//   been applied. See IsTransportFailure().
//
// Implementations: GrpcGatewayClient (grpc_gateway_client.h) and the tests'
// FakeGateway.
//
// Thread-safety: an instance is used from one executor.
#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/manager/gateway_content.h"

namespace shortcut::manager {

struct GatewayStats {
  std::string instance_id;  // Empty from a gateway that does not report one.
  uint32_t cluster_id = 0;
  uint64_t cluster_version = 0;
  uint64_t vpcs = 0;
  uint64_t endpoints = 0;
  uint64_t endpoints_pending = 0;
  // Its own bridge: the flows it should hold, and whether it holds them.
  uint64_t bridge_flows = 0;
  bool bridge_in_sync = false;
};

struct ListedEndpoint {
  gwv1::Endpoint endpoint;
  bool online = false;
};

class GatewayClient {
 public:
  virtual ~GatewayClient() = default;

  virtual asio::awaitable<absl::Status> SetCluster(gwv1::SetClusterRequest request) = 0;
  // The endpoint's `online` as the gateway answers it (true only from the
  // member designated for its host, once its rules are confirmed).
  virtual asio::awaitable<absl::StatusOr<bool>> UpdateEndpoint(gwv1::Endpoint endpoint) = 0;
  virtual asio::awaitable<absl::Status> DeleteEndpoint(std::string key) = 0;
  // New endpoints of VPCs the gateway holds, streamed in batches of
  // `batch`; all or nothing on the gateway (its AddEndpoints). Their
  // `online` is not answered: the driver's poll finds it.
  virtual asio::awaitable<absl::Status> AddEndpoints(
      std::shared_ptr<const std::vector<gwv1::Endpoint>> endpoints, size_t batch) = 0;
  // The VPC, then its endpoints in batches of `batch`; all or nothing on the
  // gateway. Shared so that every member of a cluster loads from one copy.
  virtual asio::awaitable<absl::Status> AddVpc(std::shared_ptr<const VpcContent> vpc,
                                               size_t batch) = 0;
  // `keep_direct_paths`: the VPC still exists (served by another cluster,
  // or by this gateway's cluster without it): its direct paths on hosts
  // stay valid and are not deleted.
  virtual asio::awaitable<absl::Status> DeleteVpc(std::string vpc, bool keep_direct_paths) = 0;
  // A VPC held as standby becomes served (its hosts programmed), or the
  // other way round (a move's target, cancelled). OK once the hosts
  // confirmed (or stored but pending).
  // The end of a full load: the gateway may bring its hosts to exactly
  // what it holds (gwv1::CompleteLoadRequest).
  virtual asio::awaitable<absl::Status> CompleteLoad() = 0;
  virtual asio::awaitable<absl::Status> SetVpcStandby(std::string vpc, bool standby) = 0;
  virtual asio::awaitable<absl::Status> SetVpcOffload(std::string vpc,
                                                      gwv1::OffloadPolicy offload) = 0;
  virtual asio::awaitable<absl::Status> DeleteNetwork(std::string vpc, std::string network) = 0;
  virtual asio::awaitable<absl::StatusOr<GatewayStats>> GetStats() = 0;
  // Filters may be empty (all).
  virtual asio::awaitable<absl::StatusOr<std::vector<ListedEndpoint>>> ListEndpoints(
      std::string vpc, std::string host) = 0;
};

// Makes the client of a gateway from its grpc_address.
using GatewayClientFactory = std::function<std::unique_ptr<GatewayClient>(
    const std::string& name, const std::string& grpc_address)>;

// Whether a call's outcome is unknown (see above): the driver then treats
// the gateway as unreachable and checks its instance before resending.
inline bool IsTransportFailure(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return false;
    default:
      return true;
  }
}

}  // namespace shortcut::manager
