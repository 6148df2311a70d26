// libFuzzer target for the gateway's gRPC API (shortcut.gateway.v1):
// protobuf bytes in, into the real GatewayService over a real Gateway.
//
// Each input is a fresh gateway (its io_context on a thread of its own, as
// in shortcut-gatewayd) given a base state through the service itself
// (cluster 7 of two members and two hosts, VPC blue with two networks and
// three endpoints), then up to 8 requests:
//   [op] [length, varint] [request bytes]
// The unary RPCs are the service's own handlers, called with a
// grpc::ServerContext; the two client streams (AddVpc, AddEndpoints),
// whose handlers need a live grpc::ServerReader, are read as the handlers
// read them (the same conversions, in the same order, items numbered across
// messages) from length-delimited messages, then run through the same
// Gateway call. SetCluster's hosts keep their fuzzed targets for the
// checks, but the call that is applied has them replaced by Unix sockets
// that do not exist, so that nothing is dialled: every host is unreachable
// (the API then answers UNAVAILABLE, the change stored and pending).
//
// Invariants checked: every error has a code the API documents and a
// message; a refused change (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS,
// FAILED_PRECONDITION) leaves the endpoints, hosts and VPC count exactly as
// they were; an endpoint accepted by UpdateEndpoint is listed as given; no
// call runs into its deadline.
//
// Seeds: tests/fuzz/corpus/gateway_api/.
#include <grpc/grpc.h>
#include <grpcpp/server_context.h>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/stubs/logging.h"
#include "shortcut/gateway/v1/gateway.pb.h"
#include "spdlog/spdlog.h"
#include "src/gateway/api_convert.h"
#include "src/gateway/gateway.h"
#include "src/gateway/service.h"

namespace {

using namespace shortcut::gateway;  // NOLINT: a test of this namespace.

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "gateway_api_fuzz: %s\n", what.c_str());
  std::abort();
}

enum Op : uint8_t {
  kSetCluster,
  kUpdateEndpoint,
  kDeleteEndpoint,
  kAddVpc,
  kDeleteVpc,
  kSetVpcStandby,
  kDeleteNetwork,
  kGetStats,
  kListEndpoints,
  kListHosts,
  kAddEndpoints,
  kListPaths,
  kBindPort,  // What a host's OVSDB reports (ListEndpointsRequest: host, vpc = iface).
  kSetVpcOffload,
  kOpCount,
};

// Length-delimited messages (a varint length, then the bytes).
class Records {
 public:
  explicit Records(std::string_view in)
      : in_(reinterpret_cast<const uint8_t*>(in.data()), static_cast<int>(in.size())) {}
  // The next record's bytes; nullopt at the end or when truncated.
  std::optional<std::string> Next() {
    uint32_t length = 0;
    if (!in_.ReadVarint32(&length)) return std::nullopt;
    std::string bytes;
    if (!in_.ReadString(&bytes, static_cast<int>(length))) return std::nullopt;
    return bytes;
  }
  bool Byte(uint8_t* out) {
    const void* data = nullptr;
    int size = 0;
    if (!in_.GetDirectBufferPointer(&data, &size) || size == 0) return false;
    *out = *static_cast<const uint8_t*>(data);
    in_.Skip(1);
    return true;
  }

 private:
  google::protobuf::io::CodedInputStream in_;
};

// What the gateway holds, through its own views: to prove a refusal
// changed nothing.
struct Snapshot {
  std::string endpoints, hosts;
  uint64_t vpcs = 0;
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

class Harness {
 public:
  Harness() : work_(io_.get_executor()) {
    Gateway::Options options;
    options.session.min_backoff = 1000;
    options.session.connection.probe_interval = 0;
    options.host_timeout = 1;
    gateway_.emplace(io_.get_executor(), options);
    GatewayService::Options service_options;
    service_options.default_deadline_ms = 8000;
    service_.emplace(io_.get_executor(), &*gateway_, service_options);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Harness() {
    work_.reset();
    io_.stop();
    thread_.join();
    service_.reset();
    gateway_.reset();
  }

  GatewayService& service() { return *service_; }
  Gateway* gateway() { return &*gateway_; }

  // Runs a coroutine on the gateway's executor and waits for its status.
  template <typename MakeWork>
  absl::Status OnExecutor(MakeWork make_work) {
    std::promise<absl::Status> done;
    asio::co_spawn(io_, std::move(make_work), [&](std::exception_ptr e, absl::Status s) {
      done.set_value(e ? absl::InternalError("exception") : s);
    });
    return done.get_future().get();
  }

  Snapshot Take() {
    Snapshot s;
    grpc::ServerContext c1, c2, c3;
    v1::ListEndpointsRequest le;
    v1::ListEndpointsResponse endpoints;
    Check(service_->ListEndpoints(&c1, &le, &endpoints), "ListEndpoints");
    // Online-ness may change as the (unreachable) hosts are retried.
    for (auto& e : *endpoints.mutable_endpoints()) e.clear_online();
    s.endpoints = endpoints.SerializeAsString();
    v1::ListHostsRequest lh;
    v1::ListHostsResponse hosts;
    Check(service_->ListHosts(&c2, &lh, &hosts), "ListHosts");
    s.hosts = hosts.SerializeAsString();
    v1::GetStatsRequest gs;
    v1::GetStatsResponse stats;
    Check(service_->GetStats(&c3, &gs, &stats), "GetStats");
    s.vpcs = stats.vpcs();
    return s;
  }

  // A status as the API answers: a documented code, and a message.
  static void Check(const grpc::Status& s, const char* call) {
    if (s.ok()) return;
    switch (s.error_code()) {
      case grpc::StatusCode::INVALID_ARGUMENT:
      case grpc::StatusCode::NOT_FOUND:
      case grpc::StatusCode::ALREADY_EXISTS:
      case grpc::StatusCode::FAILED_PRECONDITION:
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
      case grpc::StatusCode::UNAVAILABLE:
        break;
      default:
        Fail(absl::StrCat(call, ": unexpected code ", s.error_code(), ": ", s.error_message()));
    }
    if (s.error_message().empty()) Fail(absl::StrCat(call, ": an error without a message"));
  }
  static bool Refused(const grpc::Status& s) {
    return !s.ok() && s.error_code() != grpc::StatusCode::UNAVAILABLE;
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::optional<Gateway> gateway_;
  std::optional<GatewayService> service_;
  std::thread thread_;
};

// Hosts' targets replaced by sockets that do not exist (the fuzzed ones
// went through the checks already): nothing is dialled.
v1::SetClusterRequest Unreachable(v1::SetClusterRequest r) {
  for (int i = 0; i < r.hosts_size(); ++i) {
    v1::Host* h = r.mutable_hosts(i);
    std::string path = absl::StrCat("unix:/nonexistent/shortcut-fuzz/", i);
    if (!h->openflow().empty()) h->set_openflow(path + ".mgmt");
    if (!h->ovsdb().empty()) h->set_ovsdb(path + ".db");
  }
  return r;
}

grpc::Status SetCluster(Harness& h, const v1::SetClusterRequest& request) {
  // The checks on the request as given.
  auto config = ClusterFromProto(request);
  if (config.ok()) {
    absl::Status s = CheckClusterConfig(*config);
    Harness::Check(ToGrpcStatus(s), "CheckClusterConfig");
  } else {
    Harness::Check(ToGrpcStatus(config.status()), "ClusterFromProto");
  }
  grpc::ServerContext context;
  v1::SetClusterResponse response;
  v1::SetClusterRequest applied = Unreachable(request);
  return h.service().SetCluster(&context, &applied, &response);
}

// AddVpc's stream, read as GatewayService::AddVpc reads it.
grpc::Status AddVpc(Harness& h, Gateway* gateway, std::string_view bytes) {
  Records records(bytes);
  std::optional<VpcInput> vpc;
  std::vector<Endpoint> endpoints;
  bool ended = false;
  size_t index = 0;
  for (std::optional<std::string> item = records.Next(); item; item = records.Next(), ++index) {
    v1::AddVpcRequest message;
    if (!message.ParseFromString(*item)) return grpc::Status::OK;  // Not a stream gRPC delivers.
    std::string field = absl::StrCat("AddVpcRequest[", index, "]");
    if (ended) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, field + ": after last");
    switch (message.item_case()) {
      case v1::AddVpcRequest::kVpc: {
        if (vpc) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, field + ".vpc: again");
        auto in = VpcFromProto(message.vpc(), "vpc");
        if (!in.ok()) return ToGrpcStatus(in.status());
        vpc = std::move(*in);
        break;
      }
      case v1::AddVpcRequest::kEndpoints:
        if (!vpc) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, field + ": no vpc");
        ended = message.endpoints().last();
        for (const v1::Endpoint& e : message.endpoints().endpoints()) {
          std::string endpoint_field = absl::StrCat("endpoints[", endpoints.size(), "]");
          v1::Endpoint filled = e;
          if (filled.vpc().empty()) filled.set_vpc(vpc->vpc.id);
          auto endpoint = EndpointFromProto(filled, endpoint_field);
          if (!endpoint.ok()) return ToGrpcStatus(endpoint.status());
          endpoints.push_back(std::move(*endpoint));
        }
        break;
      case v1::AddVpcRequest::ITEM_NOT_SET:
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, field + ".item is not set");
    }
  }
  if (!vpc) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "vpc is missing");
  if (!ended) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no batch marked last");
  absl::Status s =
      h.OnExecutor([gateway, v = std::move(*vpc), eps = std::move(endpoints)]() mutable {
        return gateway->LoadVpc(std::move(v.vpc), std::move(v.networks), std::move(eps));
      });
  return ToGrpcStatus(s);
}

// AddEndpoints' stream, read as GatewayService::AddEndpoints reads it.
grpc::Status AddEndpoints(Harness& h, Gateway* gateway, std::string_view bytes) {
  Records records(bytes);
  std::vector<Endpoint> endpoints;
  bool ended = false;
  for (std::optional<std::string> item = records.Next(); item; item = records.Next()) {
    v1::EndpointBatch batch;
    if (!batch.ParseFromString(*item)) return grpc::Status::OK;
    if (ended) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a batch after last");
    ended = batch.last();
    for (const v1::Endpoint& e : batch.endpoints()) {
      auto endpoint = EndpointFromProto(e, absl::StrCat("endpoints[", endpoints.size(), "]"));
      if (!endpoint.ok()) return ToGrpcStatus(endpoint.status());
      endpoints.push_back(std::move(*endpoint));
    }
  }
  if (!ended) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no batch marked last");
  if (endpoints.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "endpoints: the stream carried none");
  }
  absl::Status s = h.OnExecutor([gateway, eps = std::move(endpoints)]() mutable {
    return gateway->AddEndpoints(std::move(eps));
  });
  return ToGrpcStatus(s);
}

// The base state, through the API.
void Base(Harness& h, Gateway* gateway) {
  v1::SetClusterRequest cluster;
  cluster.set_cluster_id(7);
  cluster.set_self("gw1");
  for (int i = 1; i <= 2; ++i) {
    v1::GatewayMember* m = cluster.add_members();
    m->set_name(absl::StrCat("gw", i));
    m->set_underlay_ip(absl::StrCat("172.31.2.", i));
    m->set_tunnel_ofport(60000 + i);
    v1::Host* host = cluster.add_hosts();
    host->set_name(absl::StrCat("h", i));
    host->set_underlay_ip(absl::StrCat("172.31.1.", i));
    host->set_openflow("unix:/nonexistent/h.mgmt");
  }
  grpc::Status s = SetCluster(h, cluster);
  if (s.ok() == false && s.error_code() != grpc::StatusCode::UNAVAILABLE) {
    Fail("base SetCluster: " + s.error_message());
  }
  std::string stream;
  v1::AddVpcRequest first;
  v1::Vpc* vpc = first.mutable_vpc();
  vpc->set_id("blue");
  vpc->set_vni(100);
  vpc->set_router_mac("02:5c:00:00:00:01");
  v1::Network* web = vpc->add_networks();
  web->set_id("web");
  web->set_ipv4_cidr("10.0.0.0/24");
  web->set_ipv6_cidr("fd00::/64");
  v1::Network* db = vpc->add_networks();
  db->set_id("db");
  db->set_ipv4_cidr("10.0.1.0/24");
  v1::AddVpcRequest batch;
  const char* hosts[] = {"h1", "h2", "h1"};
  for (int i = 0; i < 3; ++i) {
    v1::Endpoint* e = batch.mutable_endpoints()->add_endpoints();
    e->set_key(absl::StrCat("e", i + 1));
    e->set_network(i == 2 ? "db" : "web");
    e->set_ipv4(absl::StrCat(i == 2 ? "10.0.1." : "10.0.0.", i + 2));
    e->set_mac(absl::StrCat("02:00:00:00:00:0", i + 2));
    e->set_host(hosts[i]);
    e->set_iface_id(absl::StrCat("vm", i + 1));
  }
  batch.mutable_endpoints()->set_last(true);
  for (const v1::AddVpcRequest* m : {&first, &batch}) {
    std::string bytes = m->SerializeAsString();
    std::string length;
    uint32_t n = static_cast<uint32_t>(bytes.size());
    do {
      uint8_t b = n & 0x7f;
      n >>= 7;
      length.push_back(static_cast<char>(n ? (b | 0x80) : b));
    } while (n);
    stream += length + bytes;
  }
  s = AddVpc(h, gateway, stream);
  if (s.ok() == false && s.error_code() != grpc::StatusCode::UNAVAILABLE) {
    Fail("base AddVpc: " + s.error_message());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool initialized = [] {
    grpc_init();  // Kept for the process: ServerContexts come and go.
    // Unreachable hosts and invalid UTF-8 are expected here, not news.
    spdlog::set_level(spdlog::level::off);
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)initialized;
  Harness h;
  Gateway* gateway = h.gateway();
  Base(h, gateway);
  Records records(std::string_view(reinterpret_cast<const char*>(data), size));
  for (int n = 0; n < 8; ++n) {
    uint8_t op_byte = 0;
    if (!records.Byte(&op_byte)) break;
    std::optional<std::string> bytes = records.Next();
    if (!bytes) break;
    Op op = static_cast<Op>(op_byte % kOpCount);
    Snapshot before = h.Take();
    grpc::ServerContext context;
    grpc::Status s;
    bool mutating = true;
    switch (op) {
      case kSetCluster: {
        v1::SetClusterRequest r;
        if (!r.ParseFromString(*bytes)) return 0;
        s = SetCluster(h, r);
        break;
      }
      case kUpdateEndpoint: {
        v1::UpdateEndpointRequest r;
        if (!r.ParseFromString(*bytes)) return 0;
        v1::UpdateEndpointResponse response;
        s = h.service().UpdateEndpoint(&context, &r, &response);
        Harness::Check(s, "UpdateEndpoint");
        if (s.ok() || s.error_code() == grpc::StatusCode::UNAVAILABLE) {
          // Stored: listed as given.
          grpc::ServerContext lc;
          v1::ListEndpointsRequest lr;
          lr.set_vpc(r.endpoint().vpc());
          v1::ListEndpointsResponse listed;
          Harness::Check(h.service().ListEndpoints(&lc, &lr, &listed), "ListEndpoints");
          bool found = false;
          for (const auto& e : listed.endpoints()) {
            if (e.endpoint().key() != r.endpoint().key()) continue;
            found = true;
            if (s.ok() && (e.endpoint().host() != r.endpoint().host() ||
                           e.endpoint().network() != r.endpoint().network())) {
              Fail("UpdateEndpoint accepted, listed otherwise: " + r.endpoint().key());
            }
          }
          if (s.ok() && !found) Fail("UpdateEndpoint accepted, not listed: " + r.endpoint().key());
        }
        break;
      }
      case kDeleteEndpoint: {
        v1::DeleteEndpointRequest r;
        if (!r.ParseFromString(*bytes)) return 0;
        v1::DeleteEndpointResponse response;
        s = h.service().DeleteEndpoint(&context, &r, &response);
        break;
      }
      case kAddVpc:
        s = AddVpc(h, gateway, *bytes);
        break;
      case kDeleteVpc: {
        v1::DeleteVpcRequest r;
        if (!r.ParseFromString(*bytes)) return 0;
        v1::DeleteVpcResponse response;
        s = h.service().DeleteVpc(&context, &r, &response);
        break;
      }
      case kSetVpcStandby: {
        v1::SetVpcStandbyRequest r;
        if (!r.ParseFromString(*bytes)) return 0;
        v1::SetVpcStandbyResponse response;
        s = h.service().SetVpcStandby(&context, &r, &response);
        break;
      }
      case kSetVpcOffload: {
        v1::SetVpcOffloadRequest r;
        if (!r.ParseFromString(*bytes)) return 0;
        v1::SetVpcOffloadResponse response;
        s = h.service().SetVpcOffload(&context, &r, &response);
        break;
      }
      case kDeleteNetwork: {
        v1::DeleteNetworkRequest r;
        if (!r.ParseFromString(*bytes)) return 0;
        v1::DeleteNetworkResponse response;
        s = h.service().DeleteNetwork(&context, &r, &response);
        break;
      }
      case kGetStats: {
        v1::GetStatsRequest r;
        v1::GetStatsResponse response;
        s = h.service().GetStats(&context, &r, &response);
        mutating = false;
        break;
      }
      case kListEndpoints: {
        v1::ListEndpointsRequest r;
        if (!r.ParseFromString(*bytes)) return 0;
        v1::ListEndpointsResponse response;
        s = h.service().ListEndpoints(&context, &r, &response);
        for (const auto& e : response.endpoints()) {
          if ((!r.vpc().empty() && e.endpoint().vpc() != r.vpc()) ||
              (!r.host().empty() && e.endpoint().host() != r.host())) {
            Fail("ListEndpoints: an endpoint outside the filter");
          }
        }
        mutating = false;
        break;
      }
      case kListHosts: {
        v1::ListHostsRequest r;
        v1::ListHostsResponse response;
        s = h.service().ListHosts(&context, &r, &response);
        mutating = false;
        break;
      }
      case kAddEndpoints:
        s = AddEndpoints(h, gateway, *bytes);
        break;
      case kListPaths: {
        v1::ListPathsRequest r;
        v1::ListPathsResponse response;
        s = h.service().ListPaths(&context, &r, &response);
        mutating = false;
        break;
      }
      case kBindPort: {
        v1::ListEndpointsRequest r;
        if (!r.ParseFromString(*bytes)) return 0;
        std::optional<uint32_t> ofport;
        if (!bytes->empty()) ofport = static_cast<uint8_t>(bytes->back()) * 257u;
        absl::Status b = h.OnExecutor([gateway, host = r.host(), iface = r.vpc(), ofport] {
          return gateway->BindPort(host, iface, ofport);
        });
        s = ToGrpcStatus(b);
        mutating = false;  // Bindings are not what the snapshot compares.
        break;
      }
      case kOpCount:
        return 0;
    }
    Harness::Check(s, "request");
    if (mutating && Harness::Refused(s) && !(h.Take() == before)) {
      Fail(absl::StrCat("a refused request (op ", static_cast<int>(op), ": ", s.error_message(),
                        ") changed the gateway"));
    }
  }
  return 0;
}
