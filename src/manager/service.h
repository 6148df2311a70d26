// ManagerService: the gRPC service shortcut.manager.v1.Manager in front of
// one Northbound (the API's logic, on managerd's io_context).
//
// Threading as in src/gateway/service.h: gRPC runs handlers on its own
// threads; each RPC checks its request's syntax there (validate.h: a
// malformed field is INVALID_ARGUMENT naming it, and reaches nothing), then
// runs the Northbound call as a coroutine on the executor (co_spawn of a
// coroutine owning its inputs by value) and blocks its gRPC thread on the
// result: up to the client's deadline, or Options::default_deadline_ms when
// the client set none. Past that the RPC is DEADLINE_EXCEEDED while the
// call, already running, may still complete. absl::Status codes become gRPC
// codes one to one.
//
// CreateEndpoint and a move wait for ONLINE at most min(online_timeout_ms
// (0: Options::default_online_timeout_ms), the deadline minus a margin), so
// that the answer (ONLINE or PENDING) arrives before the deadline.
//
// CreateEndpoints reads the whole client stream first (at most
// Options::max_stream_endpoints endpoints: RESOURCE_EXHAUSTED beyond),
// checking each endpoint's syntax as `endpoints[i]` numbered across
// batches, then hands it to Northbound::CreateEndpoints (see there for the
// transactions).
//
// WatchEndpoints: a watcher registered on the executor puts events on a
// queue this call's gRPC thread drains and writes; the queue is bounded
// (Options::max_watch_backlog events of changes): a client that falls that
// far behind gets RESOURCE_EXHAUSTED rather than the server's memory.
//
// Admission (apiserver/admission.h): at most Options::max_calls calls at
// once (counted until their work on the executor is done), max_streams
// CreateEndpoints streams and max_watchers WatchEndpoints calls; beyond,
// RESOURCE_EXHAUSTED naming the setting, at no cost to the executor.
//
// GetManagerStatus: this manager's role (northbound.h, role.h); every
// RPC is served by a standby too, mutating ones answering UNAVAILABLE.
//
// Health: SERVING from the start (managerd starts the server once its
// store is synced), for the server ("") and for the service by name.
//
// Ownership: borrows the Northbound, which must outlive it and every call
// in flight. Thread-safety: RPC methods from any gRPC thread.
#pragma once

#include <grpcpp/health_check_service_interface.h>

#include <asio/any_io_executor.hpp>
#include <cstddef>

#include "shortcut/manager/v1/manager.grpc.pb.h"
#include "src/apiserver/admission.h"
#include "src/apiserver/call.h"
#include "src/apiserver/limits.h"
#include "src/common/clock.h"
#include "src/manager/northbound.h"

namespace shortcut::manager {

// absl::Status → grpc::Status, code for code.
using apiserver::ToGrpcStatus;

class ManagerService final : public v1::Manager::Service {
 public:
  struct Options {
    Millis default_deadline_ms = 30000;        // When the client sets no deadline.
    Millis default_online_timeout_ms = 10000;  // online_timeout_ms 0.
    Millis deadline_margin_ms = 200;           // Kept between the answer and the deadline.
    size_t max_stream_endpoints = 2'000'000;   // One CreateEndpoints stream.
    size_t max_watch_backlog = 1'000'000;      // Events queued for one watcher.
    // Calls admitted at once, CreateEndpoints streams read at once, and
    // WatchEndpoints calls at once (apiserver/limits.h).
    size_t max_calls = apiserver::ApiLimits{}.max_calls;
    size_t max_streams = apiserver::ApiLimits{}.max_streams;
    size_t max_watchers = apiserver::ApiLimits{}.max_watchers;
  };
  // What the admission bounds refused so far, and what is in flight.
  struct ApiCounters {
    uint64_t calls_refused = 0;
    uint64_t streams_refused = 0;
    uint64_t watchers_refused = 0;
    size_t calls_in_flight = 0;
    size_t watchers = 0;
    size_t streams_in_flight = 0;
  };

  ManagerService(asio::any_io_executor ex, Northbound* northbound, Options options);
  ManagerService(asio::any_io_executor ex, Northbound* northbound)
      : ManagerService(std::move(ex), northbound, Options{}) {}

  void AttachHealth(grpc::HealthCheckServiceInterface* health);

  // Any thread.
  ApiCounters api_counters() const {
    return {calls_.refused(),   streams_.refused(),    watchers_.refused(),
            calls_.in_flight(), watchers_.in_flight(), streams_.in_flight()};
  }

  grpc::Status RegisterHost(grpc::ServerContext* c, const v1::RegisterHostRequest* r,
                            v1::Host* out) override;
  grpc::Status UnregisterHost(grpc::ServerContext* c, const v1::UnregisterHostRequest* r,
                              v1::UnregisterHostResponse* out) override;
  grpc::Status GetHost(grpc::ServerContext* c, const v1::GetHostRequest* r, v1::Host* out) override;
  grpc::Status ListHosts(grpc::ServerContext* c, const v1::ListHostsRequest* r,
                         v1::ListHostsResponse* out) override;

  grpc::Status RegisterGateway(grpc::ServerContext* c, const v1::RegisterGatewayRequest* r,
                               v1::Gateway* out) override;
  grpc::Status UnregisterGateway(grpc::ServerContext* c, const v1::UnregisterGatewayRequest* r,
                                 v1::UnregisterGatewayResponse* out) override;
  grpc::Status GetGateway(grpc::ServerContext* c, const v1::GetGatewayRequest* r,
                          v1::Gateway* out) override;
  grpc::Status ListGateways(grpc::ServerContext* c, const v1::ListGatewaysRequest* r,
                            v1::ListGatewaysResponse* out) override;

  grpc::Status CreateCluster(grpc::ServerContext* c, const v1::CreateClusterRequest* r,
                             v1::Cluster* out) override;
  grpc::Status DeleteCluster(grpc::ServerContext* c, const v1::DeleteClusterRequest* r,
                             v1::DeleteClusterResponse* out) override;
  grpc::Status GetCluster(grpc::ServerContext* c, const v1::GetClusterRequest* r,
                          v1::Cluster* out) override;
  grpc::Status ListClusters(grpc::ServerContext* c, const v1::ListClustersRequest* r,
                            v1::ListClustersResponse* out) override;
  grpc::Status AddClusterMember(grpc::ServerContext* c, const v1::AddClusterMemberRequest* r,
                                v1::Cluster* out) override;
  grpc::Status RemoveClusterMember(grpc::ServerContext* c, const v1::RemoveClusterMemberRequest* r,
                                   v1::Cluster* out) override;
  grpc::Status Rebalance(grpc::ServerContext* c, const v1::RebalanceRequest* r,
                         v1::RebalanceResponse* out) override;
  grpc::Status MoveVpc(grpc::ServerContext* c, const v1::MoveVpcRequest* r, v1::Vpc* out) override;
  grpc::Status UpdateVpc(grpc::ServerContext* c, const v1::UpdateVpcRequest* r,
                         v1::Vpc* out) override;

  grpc::Status CreateVpc(grpc::ServerContext* c, const v1::CreateVpcRequest* r,
                         v1::Vpc* out) override;
  grpc::Status DeleteVpc(grpc::ServerContext* c, const v1::DeleteVpcRequest* r,
                         v1::DeleteVpcResponse* out) override;
  grpc::Status GetVpc(grpc::ServerContext* c, const v1::GetVpcRequest* r, v1::Vpc* out) override;
  grpc::Status ListVpcs(grpc::ServerContext* c, const v1::ListVpcsRequest* r,
                        v1::ListVpcsResponse* out) override;

  grpc::Status CreateNetwork(grpc::ServerContext* c, const v1::CreateNetworkRequest* r,
                             v1::Network* out) override;
  grpc::Status DeleteNetwork(grpc::ServerContext* c, const v1::DeleteNetworkRequest* r,
                             v1::DeleteNetworkResponse* out) override;
  grpc::Status GetNetwork(grpc::ServerContext* c, const v1::GetNetworkRequest* r,
                          v1::Network* out) override;
  grpc::Status ListNetworks(grpc::ServerContext* c, const v1::ListNetworksRequest* r,
                            v1::ListNetworksResponse* out) override;

  grpc::Status CreateEndpoint(grpc::ServerContext* c, const v1::CreateEndpointRequest* r,
                              v1::Endpoint* out) override;
  grpc::Status UpdateEndpoint(grpc::ServerContext* c, const v1::UpdateEndpointRequest* r,
                              v1::Endpoint* out) override;
  grpc::Status DeleteEndpoint(grpc::ServerContext* c, const v1::DeleteEndpointRequest* r,
                              v1::DeleteEndpointResponse* out) override;
  grpc::Status GetEndpoint(grpc::ServerContext* c, const v1::GetEndpointRequest* r,
                           v1::Endpoint* out) override;
  grpc::Status ListEndpoints(grpc::ServerContext* c, const v1::ListEndpointsRequest* r,
                             v1::ListEndpointsResponse* out) override;
  grpc::Status CreateEndpoints(grpc::ServerContext* c,
                               grpc::ServerReader<v1::CreateEndpointsRequest>* reader,
                               v1::CreateEndpointsResponse* out) override;
  grpc::Status WatchEndpoints(grpc::ServerContext* c, const v1::WatchEndpointsRequest* r,
                              grpc::ServerWriter<v1::EndpointEvent>* writer) override;

  grpc::Status GetManagerStatus(grpc::ServerContext* c, const v1::GetManagerStatusRequest* r,
                                v1::ManagerStatus* out) override;

 private:
  // Admits the call (max_calls), runs make_work() (a coroutine returning
  // absl::StatusOr<T>) on the executor and waits for it within the call's
  // deadline (apiserver/call.h).
  template <typename T, typename MakeWork>
  grpc::Status Run(grpc::ServerContext* context, MakeWork make_work, T* out);
  // The same for a coroutine returning absl::Status.
  template <typename MakeWork>
  grpc::Status RunStatus(grpc::ServerContext* context, MakeWork make_work);
  // How long a CreateEndpoint/move may wait for ONLINE.
  Millis OnlineWait(grpc::ServerContext* context, uint32_t online_timeout_ms) const;

  asio::any_io_executor ex_;
  Northbound* nb_;
  Options options_;
  apiserver::Admission calls_;
  apiserver::Admission streams_;
  apiserver::Admission watchers_;
};

}  // namespace shortcut::manager
