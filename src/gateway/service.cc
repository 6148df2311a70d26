#include "src/gateway/service.h"

#include <asio/co_spawn.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "src/apiserver/call.h"
#include "src/gateway/api_views.h"
#include "src/model/offload_proto.h"

namespace shortcut::gateway {
namespace {

grpc::Status Invalid(const absl::Status& status) { return ToGrpcStatus(status); }
grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// ---- Work run on the executor. Parameters are taken by value: they live
// in the coroutine frame for as long as the call runs. ----

v1::UpdateEndpointResponse UpdateResponse(const Gateway::EndpointResult& result) {
  v1::UpdateEndpointResponse response;
  response.set_change(ChangeOf(result.update));
  response.set_online(result.online);
  return response;
}

asio::awaitable<absl::StatusOr<v1::UpdateEndpointResponse>> DoUpdateEndpoint(Gateway* gateway,
                                                                             Endpoint endpoint) {
  auto result = co_await gateway->UpdateEndpoint(std::move(endpoint));
  if (!result.ok()) co_return result.status();
  co_return UpdateResponse(*result);
}

asio::awaitable<absl::StatusOr<v1::DeleteEndpointResponse>> DoDeleteEndpoint(Gateway* gateway,
                                                                             std::string key) {
  absl::Status s = co_await gateway->DeleteEndpoint(std::move(key));
  if (!s.ok()) co_return s;
  v1::DeleteEndpointResponse response;
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::AddVpcResponse>> DoLoadVpc(Gateway* gateway, VpcInput vpc,
                                                              std::vector<Endpoint> endpoints) {
  uint64_t n = endpoints.size();
  absl::Status s =
      co_await gateway->LoadVpc(std::move(vpc.vpc), std::move(vpc.networks), std::move(endpoints));
  if (!s.ok()) co_return s;
  v1::AddVpcResponse response;
  response.set_endpoints(n);
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::DeleteVpcResponse>> DoDeleteVpc(Gateway* gateway, std::string id,
                                                                   bool keep_direct_paths) {
  auto removed = co_await gateway->DeleteVpc(std::move(id), keep_direct_paths);
  if (!removed.ok()) co_return removed.status();
  v1::DeleteVpcResponse response;
  response.set_endpoints(*removed);
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::SetVpcStandbyResponse>> DoSetVpcStandby(Gateway* gateway,
                                                                           std::string vpc,
                                                                           bool standby) {
  absl::Status s = co_await gateway->SetVpcStandby(std::move(vpc), standby);
  if (!s.ok()) co_return s;
  v1::SetVpcStandbyResponse response;
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::SetVpcOffloadResponse>> DoSetVpcOffload(
    Gateway* gateway, std::string vpc, model::OffloadPolicy policy) {
  absl::Status s = gateway->SetVpcOffload(vpc, policy);
  if (!s.ok()) co_return s;
  co_return v1::SetVpcOffloadResponse{};
}

asio::awaitable<absl::StatusOr<v1::CompleteLoadResponse>> DoCompleteLoad(Gateway* gateway) {
  absl::Status s = co_await gateway->CompleteLoad();
  if (!s.ok()) co_return s;
  co_return v1::CompleteLoadResponse();
}

asio::awaitable<absl::StatusOr<v1::DeleteNetworkResponse>> DoDeleteNetwork(Gateway* gateway,
                                                                           std::string vpc,
                                                                           std::string network) {
  auto removed = co_await gateway->DeleteNetwork(std::move(vpc), std::move(network));
  if (!removed.ok()) co_return removed.status();
  v1::DeleteNetworkResponse response;
  response.set_endpoints(*removed);
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::ListEndpointsResponse>> DoListEndpoints(const Gateway* gateway,
                                                                           std::string vpc,
                                                                           std::string host) {
  co_return ListEndpointsOf(*gateway, vpc, host);
}

asio::awaitable<absl::StatusOr<v1::ListHostsResponse>> DoListHosts(const Gateway* gateway) {
  co_return ListHostsOf(*gateway);
}

asio::awaitable<absl::StatusOr<v1::AddEndpointsResponse>> DoAddEndpoints(
    Gateway* gateway, std::vector<Endpoint> endpoints) {
  uint64_t n = endpoints.size();
  absl::Status s = co_await gateway->AddEndpoints(std::move(endpoints));
  if (!s.ok()) co_return s;
  v1::AddEndpointsResponse response;
  response.set_endpoints(n);
  co_return response;
}

}  // namespace

GatewayService::GatewayService(asio::any_io_executor ex, Gateway* gateway, Options options)
    : ex_(std::move(ex)),
      gateway_(gateway),
      options_(options),
      calls_(options.max_calls),
      streams_(options.max_streams) {}

template <typename T, typename MakeWork>
grpc::Status GatewayService::RunOnExecutor(grpc::ServerContext* context, MakeWork make_work,
                                           T* out) {
  apiserver::Admission::Ticket ticket = calls_.TryAdmit();
  if (ticket == nullptr) return apiserver::Refused("gateway", "calls", calls_, "max_calls");
  return apiserver::RunOnExecutor(ex_, context, {options_.default_deadline_ms, "gateway"},
                                  std::move(ticket), std::move(make_work), out);
}

void GatewayService::AttachHealth(grpc::HealthCheckServiceInterface* health) {
  std::lock_guard<std::mutex> lock(health_mu_);
  health_ = health;
  PublishHealthLocked();
}

void GatewayService::PublishHealth(bool serving) {
  std::lock_guard<std::mutex> lock(health_mu_);
  serving_ = serving;
  PublishHealthLocked();
}

void GatewayService::PublishHealthLocked() {
  if (health_ == nullptr) return;
  // The server as a whole ("") and this service by name: clients ask either.
  health_->SetServingStatus("", serving_);
  health_->SetServingStatus(v1::Gateway::service_full_name(), serving_);
}

asio::awaitable<absl::StatusOr<v1::SetClusterResponse>> GatewayService::DoSetCluster(
    ClusterConfig config) {
  absl::Status s = co_await gateway_->SetCluster(std::move(config));
  // A refused config changes nothing; an accepted one may still report a
  // host it could not program (UNAVAILABLE), but the cluster is set.
  PublishHealth(gateway_->cluster().cluster_id != 0);
  if (!s.ok()) co_return s;
  v1::SetClusterResponse response;
  co_return response;
}

asio::awaitable<absl::Status> GatewayService::ApplyCluster(v1::SetClusterRequest request) {
  auto config = ClusterFromProto(request);
  if (!config.ok()) co_return config.status();
  auto done = co_await DoSetCluster(std::move(*config));
  co_return done.status();
}

grpc::Status GatewayService::SetCluster(grpc::ServerContext* context,
                                        const v1::SetClusterRequest* request,
                                        v1::SetClusterResponse* response) {
  auto config = ClusterFromProto(*request);
  if (!config.ok()) return Invalid(config.status());
  return RunOnExecutor(
      context, [this, c = std::move(*config)]() mutable { return DoSetCluster(std::move(c)); },
      response);
}

grpc::Status GatewayService::UpdateEndpoint(grpc::ServerContext* context,
                                            const v1::UpdateEndpointRequest* request,
                                            v1::UpdateEndpointResponse* response) {
  if (!request->has_endpoint()) return Invalid("endpoint is missing");
  auto endpoint = EndpointFromProto(request->endpoint(), "endpoint");
  if (!endpoint.ok()) return Invalid(endpoint.status());
  Gateway* gateway = gateway_;
  return RunOnExecutor(
      context,
      [gateway, e = std::move(*endpoint)]() mutable {
        return DoUpdateEndpoint(gateway, std::move(e));
      },
      response);
}

grpc::Status GatewayService::DeleteEndpoint(grpc::ServerContext* context,
                                            const v1::DeleteEndpointRequest* request,
                                            v1::DeleteEndpointResponse* response) {
  if (request->key().empty()) return Invalid("key is empty");
  Gateway* gateway = gateway_;
  return RunOnExecutor(
      context, [gateway, key = request->key()] { return DoDeleteEndpoint(gateway, key); },
      response);
}

grpc::Status GatewayService::AddVpc(grpc::ServerContext* context,
                                    grpc::ServerReader<v1::AddVpcRequest>* reader,
                                    v1::AddVpcResponse* response) {
  // The whole stream is read before anything is applied: all or nothing.
  apiserver::Admission::Ticket stream = streams_.TryAdmit();
  if (stream == nullptr) return apiserver::Refused("gateway", "streams", streams_, "max_streams");
  std::optional<VpcInput> vpc;
  std::vector<Endpoint> endpoints;
  bool ended = false;
  v1::AddVpcRequest message;
  for (size_t index = 0; reader->Read(&message); ++index) {
    std::string field = absl::StrCat("AddVpcRequest[", index, "]");
    if (ended) return Invalid(field + ": a message after the batch marked last");
    switch (message.item_case()) {
      case v1::AddVpcRequest::kVpc: {
        if (vpc) return Invalid(field + ".vpc: the vpc was already given by message 0");
        auto in = VpcFromProto(message.vpc(), "vpc");
        if (!in.ok()) return Invalid(in.status());
        vpc = std::move(*in);
        break;
      }
      case v1::AddVpcRequest::kEndpoints: {
        if (!vpc) return Invalid(field + ": the first message must carry the vpc");
        ended = message.endpoints().last();
        const auto& batch = message.endpoints().endpoints();
        if (endpoints.size() + batch.size() > options_.max_vpc_endpoints) {
          return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                              absl::StrCat("endpoints: more than ", options_.max_vpc_endpoints,
                                           " in one AddVpc stream"));
        }
        for (const v1::Endpoint& e : batch) {
          // Endpoints are numbered across batches, as LoadVpc numbers them.
          std::string endpoint_field = absl::StrCat("endpoints[", endpoints.size(), "]");
          absl::StatusOr<Endpoint> endpoint;
          if (e.vpc().empty()) {
            // An endpoint may leave out its VPC: it is the stream's.
            v1::Endpoint filled = e;
            filled.set_vpc(vpc->vpc.id);
            endpoint = EndpointFromProto(filled, endpoint_field);
          } else {
            endpoint = EndpointFromProto(e, endpoint_field);
          }
          if (!endpoint.ok()) return Invalid(endpoint.status());
          endpoints.push_back(std::move(*endpoint));
        }
        break;
      }
      case v1::AddVpcRequest::ITEM_NOT_SET:
        return Invalid(field + ".item is not set: neither vpc nor endpoints");
    }
  }
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  if (!vpc) return Invalid("vpc is missing: the stream carried no message");
  if (!ended) return apiserver::StreamCutShort("applied");
  Gateway* gateway = gateway_;
  return RunOnExecutor(
      context,
      [gateway, v = std::move(*vpc), eps = std::move(endpoints)]() mutable {
        return DoLoadVpc(gateway, std::move(v), std::move(eps));
      },
      response);
}

grpc::Status GatewayService::DeleteVpc(grpc::ServerContext* context,
                                       const v1::DeleteVpcRequest* request,
                                       v1::DeleteVpcResponse* response) {
  if (request->vpc().empty()) return Invalid("vpc is empty");
  Gateway* gateway = gateway_;
  return RunOnExecutor(
      context,
      [gateway, id = request->vpc(), keep = request->keep_direct_paths()] {
        return DoDeleteVpc(gateway, id, keep);
      },
      response);
}

grpc::Status GatewayService::SetVpcStandby(grpc::ServerContext* context,
                                           const v1::SetVpcStandbyRequest* request,
                                           v1::SetVpcStandbyResponse* response) {
  if (request->vpc().empty()) return Invalid("vpc is empty");
  Gateway* gateway = gateway_;
  return RunOnExecutor(
      context,
      [gateway, vpc = request->vpc(), standby = request->standby()] {
        return DoSetVpcStandby(gateway, vpc, standby);
      },
      response);
}

grpc::Status GatewayService::SetVpcOffload(grpc::ServerContext* context,
                                           const v1::SetVpcOffloadRequest* request,
                                           v1::SetVpcOffloadResponse* response) {
  if (request->vpc().empty()) return Invalid("vpc is empty");
  auto policy = model::OffloadFromProto(request->offload(), "offload");
  if (!policy.ok()) return Invalid(policy.status());
  Gateway* gateway = gateway_;
  return RunOnExecutor(
      context,
      [gateway, vpc = request->vpc(), p = *policy] { return DoSetVpcOffload(gateway, vpc, p); },
      response);
}

grpc::Status GatewayService::CompleteLoad(grpc::ServerContext* context,
                                          const v1::CompleteLoadRequest*,
                                          v1::CompleteLoadResponse* response) {
  Gateway* gateway = gateway_;
  return RunOnExecutor(
      context, [gateway] { return DoCompleteLoad(gateway); }, response);
}

grpc::Status GatewayService::DeleteNetwork(grpc::ServerContext* context,
                                           const v1::DeleteNetworkRequest* request,
                                           v1::DeleteNetworkResponse* response) {
  if (request->vpc().empty()) return Invalid("vpc is empty");
  if (request->network().empty()) return Invalid("network is empty");
  Gateway* gateway = gateway_;
  return RunOnExecutor(
      context,
      [gateway, vpc = request->vpc(), network = request->network()] {
        return DoDeleteNetwork(gateway, vpc, network);
      },
      response);
}

asio::awaitable<absl::StatusOr<v1::GetStatsResponse>> GatewayService::DoGetStats() {
  v1::GetStatsResponse stats = StatsOf(*gateway_);
  if (stats_hook_) stats_hook_(stats);
  ApiCounters api = api_counters();
  stats.set_api_calls_refused(api.calls_refused);
  stats.set_api_streams_refused(api.streams_refused);
  stats.set_api_calls_in_flight(api.calls_in_flight);
  co_return stats;
}

asio::awaitable<absl::StatusOr<v1::ListPathsResponse>> GatewayService::DoListPaths() {
  v1::ListPathsResponse paths;
  if (paths_hook_) paths_hook_(paths);
  co_return paths;
}

grpc::Status GatewayService::ListPaths(grpc::ServerContext* context,
                                       [[maybe_unused]] const v1::ListPathsRequest* request,
                                       v1::ListPathsResponse* response) {
  return RunOnExecutor(
      context, [this] { return DoListPaths(); }, response);
}

grpc::Status GatewayService::AddEndpoints(grpc::ServerContext* context,
                                          grpc::ServerReader<v1::EndpointBatch>* reader,
                                          v1::AddEndpointsResponse* response) {
  // Read whole before anything is applied: all or nothing.
  apiserver::Admission::Ticket stream = streams_.TryAdmit();
  if (stream == nullptr) return apiserver::Refused("gateway", "streams", streams_, "max_streams");
  std::vector<Endpoint> endpoints;
  bool ended = false;
  v1::EndpointBatch batch;
  while (reader->Read(&batch)) {
    if (ended) return Invalid("a batch after the batch marked last");
    ended = batch.last();
    if (endpoints.size() + batch.endpoints_size() > options_.max_vpc_endpoints) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          absl::StrCat("endpoints: more than ", options_.max_vpc_endpoints,
                                       " in one AddEndpoints stream"));
    }
    for (const v1::Endpoint& e : batch.endpoints()) {
      auto endpoint = EndpointFromProto(e, absl::StrCat("endpoints[", endpoints.size(), "]"));
      if (!endpoint.ok()) return Invalid(endpoint.status());
      endpoints.push_back(std::move(*endpoint));
    }
  }
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  if (!ended) return apiserver::StreamCutShort("applied");
  if (endpoints.empty()) return Invalid("endpoints: the stream carried none");
  Gateway* gateway = gateway_;
  return RunOnExecutor(
      context,
      [gateway, eps = std::move(endpoints)]() mutable {
        return DoAddEndpoints(gateway, std::move(eps));
      },
      response);
}

grpc::Status GatewayService::GetStats(grpc::ServerContext* context,
                                      [[maybe_unused]] const v1::GetStatsRequest* request,
                                      v1::GetStatsResponse* response) {
  return RunOnExecutor(
      context, [this] { return DoGetStats(); }, response);
}

grpc::Status GatewayService::ListEndpoints(grpc::ServerContext* context,
                                           const v1::ListEndpointsRequest* request,
                                           v1::ListEndpointsResponse* response) {
  const Gateway* gateway = gateway_;
  return RunOnExecutor(
      context,
      [gateway, vpc = request->vpc(), host = request->host()] {
        return DoListEndpoints(gateway, vpc, host);
      },
      response);
}

grpc::Status GatewayService::ListHosts(grpc::ServerContext* context,
                                       [[maybe_unused]] const v1::ListHostsRequest* request,
                                       v1::ListHostsResponse* response) {
  const Gateway* gateway = gateway_;
  return RunOnExecutor(
      context, [gateway] { return DoListHosts(gateway); }, response);
}

}  // namespace shortcut::gateway
