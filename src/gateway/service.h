// GatewayService: the gateway's gRPC API (shortcut.gateway.v1.Gateway) in
// front of one Gateway.
//
// The Gateway lives on one asio executor and is not thread-safe, while gRPC
// runs handlers on its own threads. So each RPC converts and validates its
// request on the gRPC thread (api_convert.h: a missing message or empty
// field is INVALID_ARGUMENT naming it, and reaches nothing), then runs the
// Gateway call as a coroutine on the executor and waits for its result: up
// to the client's deadline, or Options::default_deadline_ms when the client
// set none. Past that the RPC is DEADLINE_EXCEEDED, but the call, already
// running on the executor, may still complete. absl::Status codes become
// gRPC codes one to one.
//
// AddVpc reads the whole stream first (the Vpc, then endpoint batches, at
// most Options::max_vpc_endpoints endpoints: RESOURCE_EXHAUSTED beyond) and
// applies it in one Gateway::LoadVpc, so a bad endpoint in any batch leaves
// no VPC behind.
//
// Admission (apiserver/admission.h): at most Options::max_calls calls at
// once, counted until their work on the executor is done, and at most
// Options::max_streams AddVpc/AddEndpoints streams read at once; beyond,
// RESOURCE_EXHAUSTED with a message naming the setting, at no cost to the
// executor, which also serves the packet path.
//
// Health: once attached to the server's health service (GatewayServer does
// it), the service reports NOT_SERVING until a cluster is set, SERVING after.
//
// Ownership: the service borrows the Gateway, which must outlive it and
// every call in flight. Thread-safety: the RPC methods are called by gRPC
// from any thread; AttachHealth from any thread; set_stats_hook and
// ApplyCluster on the Gateway's executor.
#pragma once

#include <grpcpp/health_check_service_interface.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <mutex>

#include "absl/status/status.h"
#include "shortcut/gateway/v1/gateway.grpc.pb.h"
#include "src/apiserver/admission.h"
#include "src/apiserver/limits.h"
#include "src/common/clock.h"
#include "src/gateway/api_convert.h"
#include "src/gateway/gateway.h"

namespace shortcut::gateway {

class GatewayService final : public v1::Gateway::Service {
 public:
  struct Options {
    Millis default_deadline_ms = 30000;  // When the client sets no deadline.
    // Bounds one AddVpc stream, which is held in memory until applied.
    size_t max_vpc_endpoints = 20'000'000;
    // Calls admitted at once, and AddVpc/AddEndpoints streams read at once
    // (apiserver/limits.h); beyond, RESOURCE_EXHAUSTED naming the setting.
    size_t max_calls = apiserver::ApiLimits{}.max_calls;
    size_t max_streams = apiserver::ApiLimits{}.max_streams;
  };
  // What the admission bounds refused so far, and what is in flight.
  struct ApiCounters {
    uint64_t calls_refused = 0;
    uint64_t streams_refused = 0;
    size_t calls_in_flight = 0;
    size_t streams_in_flight = 0;
  };
  // Fills the counters the Gateway does not keep (the forwarding module's:
  // packet_ins, direct_paths_installed, ...). Called on the executor.
  using StatsHook = std::function<void(v1::GetStatsResponse&)>;

  GatewayService(asio::any_io_executor ex, Gateway* gateway, Options options);
  GatewayService(asio::any_io_executor ex, Gateway* gateway)
      : GatewayService(std::move(ex), gateway, Options{}) {}

  // Fills ListPaths (the forwarding module's recent setups). Called on the
  // executor; empty: no paths.
  using PathsHook = std::function<void(v1::ListPathsResponse&)>;

  // May be empty. Call on the executor, or before serving.
  void set_stats_hook(StatsHook hook) { stats_hook_ = std::move(hook); }
  void set_paths_hook(PathsHook hook) { paths_hook_ = std::move(hook); }

  // Any thread.
  ApiCounters api_counters() const {
    return {calls_.refused(), streams_.refused(), calls_.in_flight(), streams_.in_flight()};
  }

  // The server's health service; its status follows the cluster from now on.
  void AttachHealth(grpc::HealthCheckServiceInterface* health);

  // SetCluster as the RPC does it, for an owner on the executor (a daemon
  // applying its config file): validation, Gateway::SetCluster, health.
  asio::awaitable<absl::Status> ApplyCluster(v1::SetClusterRequest request);

  grpc::Status SetCluster(grpc::ServerContext* context, const v1::SetClusterRequest* request,
                          v1::SetClusterResponse* response) override;
  grpc::Status UpdateEndpoint(grpc::ServerContext* context,
                              const v1::UpdateEndpointRequest* request,
                              v1::UpdateEndpointResponse* response) override;
  grpc::Status DeleteEndpoint(grpc::ServerContext* context,
                              const v1::DeleteEndpointRequest* request,
                              v1::DeleteEndpointResponse* response) override;
  grpc::Status AddVpc(grpc::ServerContext* context, grpc::ServerReader<v1::AddVpcRequest>* reader,
                      v1::AddVpcResponse* response) override;
  grpc::Status DeleteVpc(grpc::ServerContext* context, const v1::DeleteVpcRequest* request,
                         v1::DeleteVpcResponse* response) override;
  grpc::Status SetVpcStandby(grpc::ServerContext* context, const v1::SetVpcStandbyRequest* request,
                             v1::SetVpcStandbyResponse* response) override;
  grpc::Status SetVpcOffload(grpc::ServerContext* context, const v1::SetVpcOffloadRequest* request,
                             v1::SetVpcOffloadResponse* response) override;
  grpc::Status CompleteLoad(grpc::ServerContext* context, const v1::CompleteLoadRequest* request,
                            v1::CompleteLoadResponse* response) override;
  grpc::Status DeleteNetwork(grpc::ServerContext* context, const v1::DeleteNetworkRequest* request,
                             v1::DeleteNetworkResponse* response) override;
  grpc::Status GetStats(grpc::ServerContext* context, const v1::GetStatsRequest* request,
                        v1::GetStatsResponse* response) override;
  grpc::Status ListEndpoints(grpc::ServerContext* context, const v1::ListEndpointsRequest* request,
                             v1::ListEndpointsResponse* response) override;
  grpc::Status ListHosts(grpc::ServerContext* context, const v1::ListHostsRequest* request,
                         v1::ListHostsResponse* response) override;
  grpc::Status AddEndpoints(grpc::ServerContext* context,
                            grpc::ServerReader<v1::EndpointBatch>* reader,
                            v1::AddEndpointsResponse* response) override;
  grpc::Status ListPaths(grpc::ServerContext* context, const v1::ListPathsRequest* request,
                         v1::ListPathsResponse* response) override;

 private:
  // Admits the call (max_calls), runs make_work() (a coroutine) on the
  // executor and waits for its result, within the call's deadline; on
  // success moves it to *out. See apiserver/call.h.
  template <typename T, typename MakeWork>
  grpc::Status RunOnExecutor(grpc::ServerContext* context, MakeWork make_work, T* out);

  // On the executor.
  asio::awaitable<absl::StatusOr<v1::SetClusterResponse>> DoSetCluster(ClusterConfig config);
  asio::awaitable<absl::StatusOr<v1::GetStatsResponse>> DoGetStats();
  asio::awaitable<absl::StatusOr<v1::ListPathsResponse>> DoListPaths();
  void PublishHealth(bool serving);
  void PublishHealthLocked();

  asio::any_io_executor ex_;
  Gateway* gateway_;
  Options options_;
  apiserver::Admission calls_;
  apiserver::Admission streams_;
  StatsHook stats_hook_;  // Used on the executor only.
  PathsHook paths_hook_;  // Likewise.

  std::mutex health_mu_;  // Guards the two below (gRPC threads and the executor).
  grpc::HealthCheckServiceInterface* health_ = nullptr;
  bool serving_ = false;
};

}  // namespace shortcut::gateway
