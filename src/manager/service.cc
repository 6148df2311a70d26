#include "src/manager/service.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/manager/views.h"

namespace shortcut::manager {
namespace {

using Clock = std::chrono::system_clock;

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// ---- Adapters from the Northbound's results to the responses. ----

asio::awaitable<absl::StatusOr<bool>> Done(asio::awaitable<absl::Status> work) {
  absl::Status s = co_await std::move(work);
  if (!s.ok()) co_return s;
  co_return true;
}

template <typename Response>
asio::awaitable<absl::StatusOr<Response>> Count(asio::awaitable<absl::StatusOr<uint64_t>> work) {
  absl::StatusOr<uint64_t> n = co_await std::move(work);
  if (!n.ok()) co_return n.status();
  Response response;
  response.set_endpoints(*n);
  co_return response;
}

asio::awaitable<absl::StatusOr<uint64_t>> AddWatcher(Northbound* nb, std::string vpc,
                                                     std::string host, bool initial,
                                                     Northbound::EventSink sink) {
  co_return nb->AddWatcher(std::move(vpc), std::move(host), initial, std::move(sink));
}

// Events from the executor to one WatchEndpoints call's gRPC thread.
struct WatchQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<v1::EndpointEvent> events;
  bool bounded = false;  // Off while the initial events are queued.
  bool overflow = false;
  size_t max = 0;

  void Push(v1::EndpointEvent event) {
    std::lock_guard<std::mutex> lock(mu);
    if (overflow) return;
    if (bounded && events.size() >= max) {
      overflow = true;
      events.clear();
    } else {
      events.push_back(std::move(event));
    }
    cv.notify_one();
  }
};

// The page token of a request, as the key to continue after.
absl::StatusOr<std::string> After(const std::string& token) { return ParsePageToken(token); }

}  // namespace

ManagerService::ManagerService(asio::any_io_executor ex, Northbound* northbound, Options options)
    : ex_(std::move(ex)),
      nb_(northbound),
      options_(options),
      calls_(options.max_calls),
      streams_(options.max_streams),
      watchers_(options.max_watchers) {}

void ManagerService::AttachHealth(grpc::HealthCheckServiceInterface* health) {
  if (health == nullptr) return;
  health->SetServingStatus("", true);
  health->SetServingStatus(v1::Manager::service_full_name(), true);
}

template <typename T, typename MakeWork>
grpc::Status ManagerService::Run(grpc::ServerContext* context, MakeWork make_work, T* out) {
  apiserver::Admission::Ticket ticket = calls_.TryAdmit();
  if (ticket == nullptr) return apiserver::Refused("manager", "calls", calls_, "max_calls");
  return apiserver::RunOnExecutor(ex_, context, {options_.default_deadline_ms, "manager"},
                                  std::move(ticket), std::move(make_work), out);
}

template <typename MakeWork>
grpc::Status ManagerService::RunStatus(grpc::ServerContext* context, MakeWork make_work) {
  bool ignored = false;
  return Run<bool>(
      context, [mw = std::move(make_work)]() mutable { return Done(mw()); }, &ignored);
}

Millis ManagerService::OnlineWait(grpc::ServerContext* context, uint32_t online_timeout_ms) const {
  Millis want = online_timeout_ms == 0 ? options_.default_online_timeout_ms : online_timeout_ms;
  Clock::time_point deadline = context->deadline();
  if (deadline == Clock::time_point::max()) {
    deadline = Clock::now() + std::chrono::milliseconds(options_.default_deadline_ms);
  }
  Millis remaining =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  Millis margin = std::min(options_.deadline_margin_ms, std::max<Millis>(remaining / 10, 1));
  return std::clamp<Millis>(std::min(want, remaining - margin), 0, want);
}

// ---- Hosts. ----

grpc::Status ManagerService::RegisterHost(grpc::ServerContext* c, const v1::RegisterHostRequest* r,
                                          v1::Host* out) {
  if (!r->has_host()) return Invalid("host: missing");
  auto row = HostFromProto(r->host(), "host");
  if (!row.ok()) return ToGrpcStatus(row.status());
  Northbound* nb = nb_;
  return Run(
      c, [nb, h = std::move(*row)]() mutable { return nb->RegisterHost(std::move(h)); }, out);
}

grpc::Status ManagerService::UnregisterHost(grpc::ServerContext* c,
                                            const v1::UnregisterHostRequest* r,
                                            v1::UnregisterHostResponse*) {
  if (absl::Status s = CheckName("name", r->name()); !s.ok()) return ToGrpcStatus(s);
  Northbound* nb = nb_;
  return RunStatus(c, [nb, name = r->name()] { return nb->UnregisterHost(name); });
}

grpc::Status ManagerService::GetHost(grpc::ServerContext* c, const v1::GetHostRequest* r,
                                     v1::Host* out) {
  if (absl::Status s = CheckName("name", r->name()); !s.ok()) return ToGrpcStatus(s);
  Northbound* nb = nb_;
  return Run(
      c, [nb, name = r->name()] { return nb->GetHost(name); }, out);
}

grpc::Status ManagerService::ListHosts(grpc::ServerContext* c, const v1::ListHostsRequest* r,
                                       v1::ListHostsResponse* out) {
  auto size = ParsePageSize(r->page_size());
  if (!size.ok()) return ToGrpcStatus(size.status());
  auto after = After(r->page_token());
  if (!after.ok()) return ToGrpcStatus(after.status());
  Northbound* nb = nb_;
  return Run(
      c, [nb, n = *size, a = *after] { return nb->ListHosts(n, a); }, out);
}

// ---- Gateways. ----

grpc::Status ManagerService::RegisterGateway(grpc::ServerContext* c,
                                             const v1::RegisterGatewayRequest* r,
                                             v1::Gateway* out) {
  if (!r->has_gateway()) return Invalid("gateway: missing");
  auto row = GatewayFromProto(r->gateway(), "gateway");
  if (!row.ok()) return ToGrpcStatus(row.status());
  Northbound* nb = nb_;
  return Run(
      c, [nb, g = std::move(*row)]() mutable { return nb->RegisterGateway(std::move(g)); }, out);
}

grpc::Status ManagerService::UnregisterGateway(grpc::ServerContext* c,
                                               const v1::UnregisterGatewayRequest* r,
                                               v1::UnregisterGatewayResponse*) {
  if (absl::Status s = CheckName("name", r->name()); !s.ok()) return ToGrpcStatus(s);
  Northbound* nb = nb_;
  return RunStatus(c, [nb, name = r->name()] { return nb->UnregisterGateway(name); });
}

grpc::Status ManagerService::GetGateway(grpc::ServerContext* c, const v1::GetGatewayRequest* r,
                                        v1::Gateway* out) {
  if (absl::Status s = CheckName("name", r->name()); !s.ok()) return ToGrpcStatus(s);
  Northbound* nb = nb_;
  return Run(
      c, [nb, name = r->name()] { return nb->GetGateway(name); }, out);
}

grpc::Status ManagerService::ListGateways(grpc::ServerContext* c, const v1::ListGatewaysRequest* r,
                                          v1::ListGatewaysResponse* out) {
  auto size = ParsePageSize(r->page_size());
  if (!size.ok()) return ToGrpcStatus(size.status());
  auto after = After(r->page_token());
  if (!after.ok()) return ToGrpcStatus(after.status());
  Northbound* nb = nb_;
  return Run(
      c, [nb, n = *size, a = *after] { return nb->ListGateways(n, a); }, out);
}

// ---- Clusters. ----

grpc::Status ManagerService::CreateCluster(grpc::ServerContext* c,
                                           const v1::CreateClusterRequest* r, v1::Cluster* out) {
  if (!r->has_cluster()) return Invalid("cluster: missing");
  auto in = ClusterFromProto(r->cluster(), "cluster");
  if (!in.ok()) return ToGrpcStatus(in.status());
  Northbound* nb = nb_;
  return Run(
      c, [nb, k = std::move(*in)]() mutable { return nb->CreateCluster(std::move(k)); }, out);
}

namespace {
// A member change names an existing cluster and a gateway.
absl::Status CheckMemberRequest(uint32_t cluster_id, const std::string& gateway) {
  if (cluster_id < 1 || cluster_id > kMaxClusterId) {
    return absl::InvalidArgumentError(
        absl::StrCat("cluster_id: ", cluster_id, " is not in 1..", kMaxClusterId));
  }
  return CheckName("gateway", gateway);
}
}  // namespace

grpc::Status ManagerService::AddClusterMember(grpc::ServerContext* c,
                                              const v1::AddClusterMemberRequest* r,
                                              v1::Cluster* out) {
  if (absl::Status s = CheckMemberRequest(r->cluster_id(), r->gateway()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  Northbound* nb = nb_;
  return Run(
      c, [nb, id = r->cluster_id(), g = r->gateway()] { return nb->AddClusterMember(id, g); }, out);
}

grpc::Status ManagerService::RemoveClusterMember(grpc::ServerContext* c,
                                                 const v1::RemoveClusterMemberRequest* r,
                                                 v1::Cluster* out) {
  if (absl::Status s = CheckMemberRequest(r->cluster_id(), r->gateway()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  Northbound* nb = nb_;
  return Run(
      c, [nb, id = r->cluster_id(), g = r->gateway()] { return nb->RemoveClusterMember(id, g); },
      out);
}

grpc::Status ManagerService::Rebalance(grpc::ServerContext* c, const v1::RebalanceRequest* r,
                                       v1::RebalanceResponse* out) {
  Northbound* nb = nb_;
  return Run(
      c, [nb, dry = r->dry_run()] { return nb->Rebalance(dry); }, out);
}

grpc::Status ManagerService::DeleteCluster(grpc::ServerContext* c,
                                           const v1::DeleteClusterRequest* r,
                                           v1::DeleteClusterResponse*) {
  if (r->id() < 1 || r->id() > kMaxClusterId) {
    return Invalid(absl::StrCat("id: ", r->id(), " is not in 1..", kMaxClusterId));
  }
  Northbound* nb = nb_;
  return RunStatus(c, [nb, id = r->id()] { return nb->DeleteCluster(id); });
}

grpc::Status ManagerService::GetCluster(grpc::ServerContext* c, const v1::GetClusterRequest* r,
                                        v1::Cluster* out) {
  if (r->id() < 1 || r->id() > kMaxClusterId) {
    return Invalid(absl::StrCat("id: ", r->id(), " is not in 1..", kMaxClusterId));
  }
  Northbound* nb = nb_;
  return Run(
      c, [nb, id = r->id()] { return nb->GetCluster(id); }, out);
}

grpc::Status ManagerService::ListClusters(grpc::ServerContext* c, const v1::ListClustersRequest* r,
                                          v1::ListClustersResponse* out) {
  auto size = ParsePageSize(r->page_size());
  if (!size.ok()) return ToGrpcStatus(size.status());
  auto after = After(r->page_token());
  if (!after.ok()) return ToGrpcStatus(after.status());
  Northbound* nb = nb_;
  return Run(
      c, [nb, n = *size, a = *after] { return nb->ListClusters(n, a); }, out);
}

// ---- VPCs and networks. ----

grpc::Status ManagerService::CreateVpc(grpc::ServerContext* c, const v1::CreateVpcRequest* r,
                                       v1::Vpc* out) {
  if (!r->has_vpc()) return Invalid("vpc: missing");
  auto in = VpcFromProto(r->vpc(), "vpc");
  if (!in.ok()) return ToGrpcStatus(in.status());
  Northbound* nb = nb_;
  return Run(
      c, [nb, v = std::move(*in)]() mutable { return nb->CreateVpc(std::move(v)); }, out);
}

grpc::Status ManagerService::DeleteVpc(grpc::ServerContext* c, const v1::DeleteVpcRequest* r,
                                       v1::DeleteVpcResponse* out) {
  if (absl::Status s = CheckName("id", r->id()); !s.ok()) return ToGrpcStatus(s);
  Northbound* nb = nb_;
  return Run(
      c, [nb, id = r->id()] { return Count<v1::DeleteVpcResponse>(nb->DeleteVpc(id)); }, out);
}

grpc::Status ManagerService::GetVpc(grpc::ServerContext* c, const v1::GetVpcRequest* r,
                                    v1::Vpc* out) {
  if (absl::Status s = CheckName("id", r->id()); !s.ok()) return ToGrpcStatus(s);
  Northbound* nb = nb_;
  return Run(
      c, [nb, id = r->id()] { return nb->GetVpc(id); }, out);
}

grpc::Status ManagerService::UpdateVpc(grpc::ServerContext* c, const v1::UpdateVpcRequest* r,
                                       v1::Vpc* out) {
  if (!r->has_vpc()) return Invalid("vpc: missing");
  if (absl::Status s = CheckName("vpc.id", r->vpc().id()); !s.ok()) return ToGrpcStatus(s);
  for (int i = 0; i < r->update_mask().paths_size(); ++i) {
    if (r->update_mask().paths(i) != "offload") {
      return Invalid(absl::StrCat("update_mask.paths[", i, "]: '", r->update_mask().paths(i),
                                  "' cannot be updated (only offload)"));
    }
  }
  auto offload = OffloadFromProto(r->vpc().offload(), "vpc.offload");
  if (!offload.ok()) return ToGrpcStatus(offload.status());
  Northbound* nb = nb_;
  return Run(
      c, [nb, id = r->vpc().id(), o = *offload] { return nb->UpdateVpc(id, o); }, out);
}

grpc::Status ManagerService::MoveVpc(grpc::ServerContext* c, const v1::MoveVpcRequest* r,
                                     v1::Vpc* out) {
  if (absl::Status s = CheckName("id", r->id()); !s.ok()) return ToGrpcStatus(s);
  if (r->cluster_id() < 1 || r->cluster_id() > kMaxClusterId) {
    return Invalid(absl::StrCat("cluster_id: ", r->cluster_id(), " is not in 1..", kMaxClusterId));
  }
  Northbound* nb = nb_;
  return Run(
      c, [nb, id = r->id(), to = r->cluster_id()] { return nb->MoveVpc(id, to); }, out);
}

grpc::Status ManagerService::ListVpcs(grpc::ServerContext* c, const v1::ListVpcsRequest* r,
                                      v1::ListVpcsResponse* out) {
  auto size = ParsePageSize(r->page_size());
  if (!size.ok()) return ToGrpcStatus(size.status());
  auto after = After(r->page_token());
  if (!after.ok()) return ToGrpcStatus(after.status());
  if (r->cluster_id() > kMaxClusterId) {
    return Invalid(absl::StrCat("cluster_id: ", r->cluster_id(), " is not in 0..", kMaxClusterId));
  }
  Northbound* nb = nb_;
  return Run(
      c, [nb, n = *size, a = *after, k = r->cluster_id()] { return nb->ListVpcs(n, a, k); }, out);
}

grpc::Status ManagerService::CreateNetwork(grpc::ServerContext* c,
                                           const v1::CreateNetworkRequest* r, v1::Network* out) {
  if (!r->has_network()) return Invalid("network: missing");
  auto row = NetworkFromProto(r->network(), "network");
  if (!row.ok()) return ToGrpcStatus(row.status());
  Northbound* nb = nb_;
  return Run(
      c, [nb, n = std::move(*row)]() mutable { return nb->CreateNetwork(std::move(n)); }, out);
}

grpc::Status ManagerService::DeleteNetwork(grpc::ServerContext* c,
                                           const v1::DeleteNetworkRequest* r,
                                           v1::DeleteNetworkResponse* out) {
  if (absl::Status s = CheckName("vpc", r->vpc()); !s.ok()) return ToGrpcStatus(s);
  if (absl::Status s = CheckName("id", r->id()); !s.ok()) return ToGrpcStatus(s);
  Northbound* nb = nb_;
  return Run(
      c,
      [nb, vpc = r->vpc(), id = r->id()] {
        return Count<v1::DeleteNetworkResponse>(nb->DeleteNetwork(vpc, id));
      },
      out);
}

grpc::Status ManagerService::GetNetwork(grpc::ServerContext* c, const v1::GetNetworkRequest* r,
                                        v1::Network* out) {
  if (absl::Status s = CheckName("vpc", r->vpc()); !s.ok()) return ToGrpcStatus(s);
  if (absl::Status s = CheckName("id", r->id()); !s.ok()) return ToGrpcStatus(s);
  Northbound* nb = nb_;
  return Run(
      c, [nb, vpc = r->vpc(), id = r->id()] { return nb->GetNetwork(vpc, id); }, out);
}

grpc::Status ManagerService::ListNetworks(grpc::ServerContext* c, const v1::ListNetworksRequest* r,
                                          v1::ListNetworksResponse* out) {
  if (absl::Status s = CheckName("vpc", r->vpc()); !s.ok()) return ToGrpcStatus(s);
  auto size = ParsePageSize(r->page_size());
  if (!size.ok()) return ToGrpcStatus(size.status());
  auto after = After(r->page_token());
  if (!after.ok()) return ToGrpcStatus(after.status());
  Northbound* nb = nb_;
  return Run(
      c, [nb, vpc = r->vpc(), n = *size, a = *after] { return nb->ListNetworks(vpc, n, a); }, out);
}

// ---- Endpoints. ----

grpc::Status ManagerService::CreateEndpoint(grpc::ServerContext* c,
                                            const v1::CreateEndpointRequest* r, v1::Endpoint* out) {
  if (!r->has_endpoint()) return Invalid("endpoint: missing");
  auto row = EndpointFromProto(r->endpoint(), "endpoint");
  if (!row.ok()) return ToGrpcStatus(row.status());
  Millis wait = OnlineWait(c, r->online_timeout_ms());
  Northbound* nb = nb_;
  return Run(
      c,
      [nb, e = std::move(*row), wait]() mutable { return nb->CreateEndpoint(std::move(e), wait); },
      out);
}

grpc::Status ManagerService::UpdateEndpoint(grpc::ServerContext* c,
                                            const v1::UpdateEndpointRequest* r, v1::Endpoint* out) {
  if (!r->has_endpoint()) return Invalid("endpoint: missing");
  auto patch = PatchFromProto(r->endpoint(), r->update_mask());
  if (!patch.ok()) return ToGrpcStatus(patch.status());
  Millis wait = OnlineWait(c, r->online_timeout_ms());
  Northbound* nb = nb_;
  return Run(
      c,
      [nb, p = std::move(*patch), wait]() mutable {
        return nb->UpdateEndpoint(std::move(p), wait);
      },
      out);
}

grpc::Status ManagerService::DeleteEndpoint(grpc::ServerContext* c,
                                            const v1::DeleteEndpointRequest* r,
                                            v1::DeleteEndpointResponse*) {
  if (r->key().empty()) return Invalid("key: missing");
  Northbound* nb = nb_;
  return RunStatus(c, [nb, key = r->key()] { return nb->DeleteEndpoint(key); });
}

grpc::Status ManagerService::GetEndpoint(grpc::ServerContext* c, const v1::GetEndpointRequest* r,
                                         v1::Endpoint* out) {
  if (r->key().empty()) return Invalid("key: missing");
  Northbound* nb = nb_;
  return Run(
      c, [nb, key = r->key()] { return nb->GetEndpoint(key); }, out);
}

grpc::Status ManagerService::ListEndpoints(grpc::ServerContext* c,
                                           const v1::ListEndpointsRequest* r,
                                           v1::ListEndpointsResponse* out) {
  auto size = ParsePageSize(r->page_size());
  if (!size.ok()) return ToGrpcStatus(size.status());
  auto after = After(r->page_token());
  if (!after.ok()) return ToGrpcStatus(after.status());
  if (!r->vpc().empty()) {
    if (absl::Status s = CheckName("vpc", r->vpc()); !s.ok()) return ToGrpcStatus(s);
  }
  if (!r->host().empty()) {
    if (absl::Status s = CheckName("host", r->host()); !s.ok()) return ToGrpcStatus(s);
  }
  Northbound* nb = nb_;
  return Run(
      c,
      [nb, vpc = r->vpc(), host = r->host(), n = *size, a = *after] {
        return nb->ListEndpoints(vpc, host, n, a);
      },
      out);
}

grpc::Status ManagerService::CreateEndpoints(grpc::ServerContext* c,
                                             grpc::ServerReader<v1::CreateEndpointsRequest>* reader,
                                             v1::CreateEndpointsResponse* out) {
  // The whole stream first: all of it is checked before anything is written.
  apiserver::Admission::Ticket stream = streams_.TryAdmit();
  if (stream == nullptr) return apiserver::Refused("manager", "streams", streams_, "max_streams");
  std::vector<EndpointRow> rows;
  bool ended = false;
  v1::CreateEndpointsRequest message;
  while (reader->Read(&message)) {
    if (ended) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "a batch after the batch marked last");
    }
    ended = message.last();
    if (rows.size() + message.endpoints_size() > options_.max_stream_endpoints) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          absl::StrCat("endpoints: more than ", options_.max_stream_endpoints,
                                       " in one CreateEndpoints stream"));
    }
    for (const v1::Endpoint& e : message.endpoints()) {
      auto row = EndpointFromProto(e, absl::StrCat("endpoints[", rows.size(), "]"));
      if (!row.ok()) return ToGrpcStatus(row.status());
      rows.push_back(std::move(*row));
    }
  }
  if (!ended) return apiserver::StreamCutShort("written");
  Northbound* nb = nb_;
  return Run(
      c, [nb, e = std::move(rows)]() mutable { return nb->CreateEndpoints(std::move(e)); }, out);
}

grpc::Status ManagerService::WatchEndpoints(grpc::ServerContext* c,
                                            const v1::WatchEndpointsRequest* r,
                                            grpc::ServerWriter<v1::EndpointEvent>* writer) {
  if (!r->vpc().empty()) {
    if (absl::Status s = CheckName("vpc", r->vpc()); !s.ok()) return ToGrpcStatus(s);
  }
  if (!r->host().empty()) {
    if (absl::Status s = CheckName("host", r->host()); !s.ok()) return ToGrpcStatus(s);
  }
  // A watcher holds a gRPC thread for as long as it lasts.
  apiserver::Admission::Ticket watching = watchers_.TryAdmit();
  if (watching == nullptr) {
    return apiserver::Refused("manager", "watchers", watchers_, "max_watchers");
  }
  auto queue = std::make_shared<WatchQueue>();
  queue->max = options_.max_watch_backlog;
  Northbound::EventSink sink = [queue](v1::EndpointEvent event) { queue->Push(std::move(event)); };
  uint64_t id = 0;
  Northbound* nb = nb_;
  grpc::Status added = Run(
      c,
      [nb, vpc = r->vpc(), host = r->host(), initial = r->initial(), sink] {
        return AddWatcher(nb, vpc, host, initial, sink);
      },
      &id);
  if (!added.ok()) return added;
  {
    std::lock_guard<std::mutex> lock(queue->mu);
    queue->bounded = true;
  }
  grpc::Status status = grpc::Status::OK;
  for (;;) {
    std::deque<v1::EndpointEvent> batch;
    {
      std::unique_lock<std::mutex> lock(queue->mu);
      queue->cv.wait_for(lock, std::chrono::milliseconds(50),
                         [&] { return !queue->events.empty() || queue->overflow; });
      if (queue->overflow) {
        status =
            grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                         absl::StrCat("the watcher fell more than ", queue->max, " events behind"));
        break;
      }
      batch.swap(queue->events);
    }
    bool open = true;
    for (v1::EndpointEvent& event : batch) {
      if (!writer->Write(event)) {
        open = false;
        break;
      }
    }
    if (!open || c->IsCancelled()) break;
  }
  asio::post(ex_, [nb, id] { nb->RemoveWatcher(id); });
  return status;
}

grpc::Status ManagerService::GetManagerStatus(grpc::ServerContext* c,
                                              const v1::GetManagerStatusRequest* /*r*/,
                                              v1::ManagerStatus* out) {
  Northbound* nb = nb_;
  return Run(
      c, [nb] { return nb->GetManagerStatus(); }, out);
}

}  // namespace shortcut::manager
