#include "src/manager/grpc_gateway_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "shortcut/gateway/v1/gateway.grpc.pb.h"

namespace shortcut::manager {
namespace {

absl::Status FromGrpc(const grpc::Status& s) {
  // absl and gRPC number their codes alike.
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

// The gateway stored the change; a host has not confirmed it yet.
bool StoredButPending(const absl::Status& s) {
  return absl::StrContains(s.message(), "stored but pending");
}

// Runs `fn` (a blocking call) on the pool and resumes the caller on its own
// executor with the result.
template <typename T, typename Fn>
asio::awaitable<T> OffThread(asio::thread_pool& pool, Fn fn) {
  auto ex = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [&pool, ex](auto handler, Fn fn) mutable {
        asio::post(pool, [ex, fn = std::move(fn), handler = std::move(handler)]() mutable {
          T result = fn();
          asio::post(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
            std::move(handler)(std::move(result));
          });
        });
      },
      asio::use_awaitable, std::move(fn));
}

class GrpcGatewayClient final : public GatewayClient {
 public:
  GrpcGatewayClient(GrpcCallPool& pool, const std::string& name, const std::string& address,
                    GrpcGatewayClientOptions options)
      : pool_(pool),
        address_(address),
        options_(options),
        stub_(gwv1::Gateway::NewStub(
            tls::MakeChannel(address, options.tls, grpc::ChannelArguments(), name))) {}

  asio::awaitable<absl::Status> SetCluster(gwv1::SetClusterRequest request) override {
    auto stub = stub_;
    Millis deadline = options_.call_deadline;
    auto call = [stub, deadline, request = std::move(request)]() {
      grpc::ClientContext context;
      SetDeadline(context, deadline);
      gwv1::SetClusterResponse response;
      return FromGrpc(stub->SetCluster(&context, request, &response));
    };
    absl::Status s = co_await OffThread<absl::Status>(pool_.pool(), std::move(call));
    // The cluster is set even when programming a host failed (the gateway
    // keeps its rules wanted): those messages name the host first ("host h1:
    // ..."; the config's own errors name a field: "hosts: h1: ...").
    if (!s.ok() && (absl::StartsWith(s.message(), "host ") || StoredButPending(s))) {
      co_return absl::OkStatus();
    }
    co_return s;
  }

  asio::awaitable<absl::StatusOr<bool>> UpdateEndpoint(gwv1::Endpoint endpoint) override {
    auto stub = stub_;
    Millis deadline = options_.call_deadline;
    auto call = [stub, deadline, endpoint = std::move(endpoint)]() -> absl::StatusOr<bool> {
      grpc::ClientContext context;
      SetDeadline(context, deadline);
      gwv1::UpdateEndpointRequest request;
      *request.mutable_endpoint() = endpoint;
      gwv1::UpdateEndpointResponse response;
      grpc::Status s = stub->UpdateEndpoint(&context, request, &response);
      if (!s.ok()) return FromGrpc(s);
      return response.online();
    };
    absl::StatusOr<bool> r =
        co_await OffThread<absl::StatusOr<bool>>(pool_.pool(), std::move(call));
    if (!r.ok() && StoredButPending(r.status())) co_return false;
    co_return r;
  }

  asio::awaitable<absl::Status> DeleteEndpoint(std::string key) override {
    auto stub = stub_;
    Millis deadline = options_.call_deadline;
    auto call = [stub, deadline, key = std::move(key)]() {
      grpc::ClientContext context;
      SetDeadline(context, deadline);
      gwv1::DeleteEndpointRequest request;
      request.set_key(key);
      gwv1::DeleteEndpointResponse response;
      return FromGrpc(stub->DeleteEndpoint(&context, request, &response));
    };
    absl::Status s = co_await OffThread<absl::Status>(pool_.pool(), std::move(call));
    // Done; the gateway retries the direct-path deletes a host did not confirm.
    if (!s.ok() && StoredButPending(s)) co_return absl::OkStatus();
    co_return s;
  }

  asio::awaitable<absl::Status> AddVpc(std::shared_ptr<const VpcContent> vpc,
                                       size_t batch) override {
    auto stub = stub_;
    Millis deadline = options_.load_deadline;
    if (batch == 0) batch = 1;
    auto call = [stub, deadline, vpc, batch]() {
      grpc::ClientContext context;
      SetDeadline(context, deadline);
      gwv1::AddVpcResponse response;
      auto writer = stub->AddVpc(&context, &response);
      gwv1::AddVpcRequest first;
      *first.mutable_vpc() = vpc->vpc;
      bool open = writer->Write(first);
      for (size_t i = 0; open && i < vpc->endpoints.size(); i += batch) {
        gwv1::AddVpcRequest message;
        auto* endpoints = message.mutable_endpoints()->mutable_endpoints();
        size_t end = std::min(vpc->endpoints.size(), i + batch);
        endpoints->Reserve(static_cast<int>(end - i));
        for (size_t j = i; j < end; ++j) *endpoints->Add() = vpc->endpoints[j];
        open = writer->Write(message);
      }
      if (open) {
        // The gateway applies the stream only once it has seen this.
        gwv1::AddVpcRequest last;
        last.mutable_endpoints()->set_last(true);
        writer->Write(last);
      }
      // A refused write means the server ended the call: Finish says why.
      writer->WritesDone();
      return FromGrpc(writer->Finish());
    };
    absl::Status s = co_await OffThread<absl::Status>(pool_.pool(), std::move(call));
    if (!s.ok() && StoredButPending(s)) co_return absl::OkStatus();
    co_return s;
  }

  asio::awaitable<absl::Status> AddEndpoints(
      std::shared_ptr<const std::vector<gwv1::Endpoint>> endpoints, size_t batch) override {
    auto stub = stub_;
    Millis deadline = options_.load_deadline;
    if (batch == 0) batch = 1;
    auto call = [stub, deadline, endpoints, batch]() {
      grpc::ClientContext context;
      SetDeadline(context, deadline);
      gwv1::AddEndpointsResponse response;
      auto writer = stub->AddEndpoints(&context, &response);
      bool open = true;
      for (size_t i = 0; open && i < endpoints->size(); i += batch) {
        gwv1::EndpointBatch message;
        auto* out = message.mutable_endpoints();
        size_t end = std::min(endpoints->size(), i + batch);
        out->Reserve(static_cast<int>(end - i));
        for (size_t j = i; j < end; ++j) *out->Add() = (*endpoints)[j];
        open = writer->Write(message);
      }
      if (open) {
        // The gateway applies the stream only once it has seen this.
        gwv1::EndpointBatch last;
        last.set_last(true);
        writer->Write(last);
      }
      // A refused write means the server ended the call: Finish says why.
      writer->WritesDone();
      return FromGrpc(writer->Finish());
    };
    absl::Status s = co_await OffThread<absl::Status>(pool_.pool(), std::move(call));
    if (!s.ok() && StoredButPending(s)) co_return absl::OkStatus();
    co_return s;
  }

  asio::awaitable<absl::Status> DeleteVpc(std::string vpc, bool keep_direct_paths) override {
    auto stub = stub_;
    Millis deadline = options_.call_deadline;
    auto call = [stub, deadline, vpc = std::move(vpc), keep_direct_paths]() {
      grpc::ClientContext context;
      SetDeadline(context, deadline);
      gwv1::DeleteVpcRequest request;
      request.set_vpc(vpc);
      request.set_keep_direct_paths(keep_direct_paths);
      gwv1::DeleteVpcResponse response;
      return FromGrpc(stub->DeleteVpc(&context, request, &response));
    };
    absl::Status s = co_await OffThread<absl::Status>(pool_.pool(), std::move(call));
    // Done; the gateway retries the direct-path deletes a host did not confirm.
    if (!s.ok() && StoredButPending(s)) co_return absl::OkStatus();
    co_return s;
  }

  asio::awaitable<absl::Status> CompleteLoad() override {
    auto stub = stub_;
    Millis deadline = options_.load_deadline;  // Programs every designated host.
    auto call = [stub, deadline]() {
      grpc::ClientContext context;
      SetDeadline(context, deadline);
      gwv1::CompleteLoadRequest request;
      gwv1::CompleteLoadResponse response;
      return FromGrpc(stub->CompleteLoad(&context, request, &response));
    };
    absl::Status s = co_await OffThread<absl::Status>(pool_.pool(), std::move(call));
    // Hosts that did not confirm keep their rules wanted; the gateway
    // retries when they come back.
    if (!s.ok() && StoredButPending(s)) co_return absl::OkStatus();
    co_return s;
  }

  asio::awaitable<absl::Status> SetVpcStandby(std::string vpc, bool standby) override {
    auto stub = stub_;
    Millis deadline = options_.load_deadline;  // Programs every host holding the VPC.
    auto call = [stub, deadline, vpc = std::move(vpc), standby]() {
      grpc::ClientContext context;
      SetDeadline(context, deadline);
      gwv1::SetVpcStandbyRequest request;
      request.set_vpc(vpc);
      request.set_standby(standby);
      gwv1::SetVpcStandbyResponse response;
      return FromGrpc(stub->SetVpcStandby(&context, request, &response));
    };
    absl::Status s = co_await OffThread<absl::Status>(pool_.pool(), std::move(call));
    if (!s.ok() && StoredButPending(s)) co_return absl::OkStatus();
    co_return s;
  }

  asio::awaitable<absl::Status> SetVpcOffload(std::string vpc,
                                              gwv1::OffloadPolicy offload) override {
    auto stub = stub_;
    Millis deadline = options_.call_deadline;
    auto call = [stub, deadline, vpc = std::move(vpc), offload = std::move(offload)]() {
      grpc::ClientContext context;
      SetDeadline(context, deadline);
      gwv1::SetVpcOffloadRequest request;
      request.set_vpc(vpc);
      *request.mutable_offload() = offload;
      gwv1::SetVpcOffloadResponse response;
      return FromGrpc(stub->SetVpcOffload(&context, request, &response));
    };
    co_return co_await OffThread<absl::Status>(pool_.pool(), std::move(call));
  }

  asio::awaitable<absl::Status> DeleteNetwork(std::string vpc, std::string network) override {
    auto stub = stub_;
    Millis deadline = options_.call_deadline;
    auto call = [stub, deadline, vpc = std::move(vpc), network = std::move(network)]() {
      grpc::ClientContext context;
      SetDeadline(context, deadline);
      gwv1::DeleteNetworkRequest request;
      request.set_vpc(vpc);
      request.set_network(network);
      gwv1::DeleteNetworkResponse response;
      return FromGrpc(stub->DeleteNetwork(&context, request, &response));
    };
    absl::Status s = co_await OffThread<absl::Status>(pool_.pool(), std::move(call));
    // Done; the gateway retries the direct-path deletes a host did not confirm.
    if (!s.ok() && StoredButPending(s)) co_return absl::OkStatus();
    co_return s;
  }

  asio::awaitable<absl::StatusOr<GatewayStats>> GetStats() override {
    auto stub = stub_;
    Millis deadline = options_.call_deadline;
    auto call = [stub, deadline]() -> absl::StatusOr<GatewayStats> {
      grpc::ClientContext context;
      SetDeadline(context, deadline);
      gwv1::GetStatsResponse response;
      grpc::Status s = stub->GetStats(&context, gwv1::GetStatsRequest(), &response);
      if (!s.ok()) return FromGrpc(s);
      GatewayStats stats;
      stats.instance_id = response.instance_id();
      stats.cluster_id = response.cluster_id();
      stats.cluster_version = response.cluster_version();
      stats.vpcs = response.vpcs();
      stats.endpoints = response.endpoints();
      stats.endpoints_pending = response.endpoints_pending();
      stats.bridge_flows = response.bridge_flows();
      stats.bridge_in_sync = response.bridge_in_sync();
      return stats;
    };
    co_return co_await OffThread<absl::StatusOr<GatewayStats>>(pool_.pool(), std::move(call));
  }

  asio::awaitable<absl::StatusOr<std::vector<ListedEndpoint>>> ListEndpoints(
      std::string vpc, std::string host) override {
    auto stub = stub_;
    Millis deadline = options_.call_deadline;
    auto call = [stub, deadline, vpc = std::move(vpc),
                 host = std::move(host)]() -> absl::StatusOr<std::vector<ListedEndpoint>> {
      grpc::ClientContext context;
      SetDeadline(context, deadline);
      gwv1::ListEndpointsRequest request;
      request.set_vpc(vpc);
      request.set_host(host);
      gwv1::ListEndpointsResponse response;
      grpc::Status s = stub->ListEndpoints(&context, request, &response);
      if (!s.ok()) return FromGrpc(s);
      std::vector<ListedEndpoint> out;
      out.reserve(response.endpoints_size());
      for (auto& e : *response.mutable_endpoints()) {
        ListedEndpoint l;
        l.endpoint = std::move(*e.mutable_endpoint());
        l.online = e.online();
        out.push_back(std::move(l));
      }
      return out;
    };
    co_return co_await OffThread<absl::StatusOr<std::vector<ListedEndpoint>>>(pool_.pool(),
                                                                              std::move(call));
  }

 private:
  static void SetDeadline(grpc::ClientContext& context, Millis ms) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(ms));
    context.set_wait_for_ready(false);
  }

  GrpcCallPool& pool_;
  std::string address_;
  GrpcGatewayClientOptions options_;
  std::shared_ptr<gwv1::Gateway::Stub> stub_;
};

}  // namespace

std::unique_ptr<GatewayClient> MakeGrpcGatewayClient(GrpcCallPool& pool, const std::string& name,
                                                     const std::string& address,
                                                     GrpcGatewayClientOptions options) {
  return std::make_unique<GrpcGatewayClient>(pool, name, address, options);
}

GatewayClientFactory GrpcGatewayClientFactory(GrpcCallPool& pool,
                                              GrpcGatewayClientOptions options) {
  return [&pool, options](const std::string& name, const std::string& address) {
    return MakeGrpcGatewayClient(pool, name, address, options);
  };
}

}  // namespace shortcut::manager
