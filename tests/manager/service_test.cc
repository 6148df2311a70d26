// The northbound API end to end: a real gRPC client against ManagerService
// over a real NbStore and ovsdb-server (manager_fixture.h). Every RPC's
// success path, every error path with its code and message, and for each
// error the database dumped before and after: unchanged.
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <asio/detached.hpp>
#include <future>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "src/manager/validate.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/manager/manager_fixture.h"

namespace shortcut::manager {
namespace {

using ::testing::ElementsAre;

class ServiceTest : public testing::ManagerFixture {
 protected:
  ManagerService::Options ServiceOptions() override {
    ManagerService::Options o;
    o.max_stream_endpoints = 20;
    return o;
  }
  Northbound::Options NorthboundOptions() override {
    Northbound::Options o;
    o.max_txn_endpoints = 4;  // Bulk loads span several transactions.
    return o;
  }

  std::unique_ptr<grpc::ClientContext> Ctx(int timeout_ms = 20000) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
    return c;
  }

  grpc::Status RegisterHost(const std::string& name, const std::string& ip, v1::Host* out) {
    v1::RegisterHostRequest r;
    r.mutable_host()->set_name(name);
    r.mutable_host()->set_underlay_ip(ip);
    r.mutable_host()->set_openflow("tcp:" + ip + ":6653");
    return stub_->RegisterHost(Ctx().get(), r, out);
  }
  grpc::Status RegisterGateway(const std::string& name, const std::string& ip, uint64_t capacity,
                               v1::Gateway* out) {
    v1::RegisterGatewayRequest r;
    r.mutable_gateway()->set_name(name);
    r.mutable_gateway()->set_underlay_ip(ip);
    r.mutable_gateway()->set_grpc_address("unix:/run/" + name + ".sock");
    r.mutable_gateway()->set_capacity(capacity);
    return stub_->RegisterGateway(Ctx().get(), r, out);
  }
  grpc::Status CreateCluster(uint32_t id, std::vector<std::string> members, v1::Cluster* out) {
    v1::CreateClusterRequest r;
    r.mutable_cluster()->set_id(id);
    for (auto& m : members) r.mutable_cluster()->add_members(m);
    return stub_->CreateCluster(Ctx().get(), r, out);
  }
  v1::CreateVpcRequest VpcRequest(const std::string& id, uint32_t vni, uint32_t cluster) {
    v1::CreateVpcRequest r;
    r.mutable_vpc()->set_id(id);
    r.mutable_vpc()->set_vni(vni);
    r.mutable_vpc()->set_router_mac("02:00:00:00:00:01");
    r.mutable_vpc()->set_cluster_id(cluster);
    auto* n = r.mutable_vpc()->add_networks();
    n->set_id("web");
    n->set_ipv4_cidr("10.0.0.0/24");
    n->set_ipv6_cidr("fd00::/64");
    return r;
  }
  v1::Endpoint Ep(const std::string& key, int n, const std::string& host = "h1") {
    v1::Endpoint e;
    e.set_key(key);
    e.set_vpc("blue");
    e.set_network("web");
    e.set_ipv4("10.0.0." + std::to_string(n));
    e.set_mac(absl::StrFormat("02:00:00:00:00:%02x", n));
    e.set_host(host);
    return e;
  }

  // h1, h2; g1 (cap 100), g2 (cap 50); cluster 1 = g1; VPC blue (VNI 100)
  // with network web on cluster 1.
  void Basic() {
    v1::Host h;
    ASSERT_TRUE(RegisterHost("h1", "172.31.1.1", &h).ok());
    ASSERT_TRUE(RegisterHost("h2", "172.31.1.2", &h).ok());
    v1::Gateway g;
    ASSERT_TRUE(RegisterGateway("g1", "172.31.2.1", 100, &g).ok());
    ASSERT_TRUE(RegisterGateway("g2", "172.31.2.2", 50, &g).ok());
    v1::Cluster c;
    ASSERT_TRUE(CreateCluster(1, {"g1"}, &c).ok());
    v1::Vpc v;
    grpc::Status s = stub_->CreateVpc(Ctx().get(), VpcRequest("blue", 100, 1), &v);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // The endpoint's status as the database holds it.
  std::string DbStatus(const std::string& key) {
    nlohmann::json rows = Select("Endpoint", "key", key);
    if (rows.size() != 1) return "<none>";
    return rows[0]["status"].get<std::string>();
  }
  // What the gateway driver does once the host confirmed the rules.
  void SetOnline(const std::string& key) {
    Transact(nlohmann::json::array({{{"op", "update"},
                                     {"table", "Endpoint"},
                                     {"where", nlohmann::json::array({{"key", "==", key}})},
                                     {"row", {{"status", "online"}}}}}));
  }

  // Runs call() and expects `code` and `message`, and the database as it was.
  void ExpectRefused(std::function<grpc::Status()> call, grpc::StatusCode code,
                     const std::string& message) {
    std::string before = Dump();
    grpc::Status s = call();
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    EXPECT_EQ(s.error_message(), message);
    EXPECT_EQ(Dump(), before) << "a refused call changed the database";
  }
};

TEST_F(ServiceTest, HostsRegisterGetListUnregister) {
  v1::Host h;
  ASSERT_TRUE(RegisterHost("h1", "172.31.1.1", &h).ok());
  EXPECT_EQ(h.name(), "h1");
  EXPECT_EQ(h.endpoints(), 0u);
  nlohmann::json rows = Select("Host", "name", "h1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["underlay_ip"], "172.31.1.1");

  // Idempotent: the same again changes nothing.
  std::string before = Dump();
  ASSERT_TRUE(RegisterHost("h1", "172.31.1.1", &h).ok());
  EXPECT_EQ(Dump(), before);

  ExpectRefused([&] { return RegisterHost("h1", "172.31.1.9", &h); },
                grpc::StatusCode::ALREADY_EXISTS,
                "host.underlay_ip: host h1 exists with underlay_ip '172.31.1.1'");
  ExpectRefused([&] { return RegisterHost("h2", "172.31.1.1", &h); },
                grpc::StatusCode::ALREADY_EXISTS,
                "host.underlay_ip: 172.31.1.1 is used by host h1");
  ExpectRefused([&] { return RegisterHost("h 2", "172.31.1.2", &h); },
                grpc::StatusCode::INVALID_ARGUMENT,
                "host.name: 'h 2' is not 1 to 64 characters of [A-Za-z0-9._-]");
  ExpectRefused([&] { return RegisterHost("h2", "300.1.1.1", &h); },
                grpc::StatusCode::INVALID_ARGUMENT,
                "host.underlay_ip: '300.1.1.1' is not an IPv4 address");
  ExpectRefused(
      [&] {
        v1::RegisterHostRequest r;
        return stub_->RegisterHost(Ctx().get(), r, &h);
      },
      grpc::StatusCode::INVALID_ARGUMENT, "host: missing");

  v1::GetHostRequest get;
  get.set_name("h1");
  ASSERT_TRUE(stub_->GetHost(Ctx().get(), get, &h).ok());
  EXPECT_EQ(h.openflow(), "tcp:172.31.1.1:6653");
  get.set_name("h9");
  EXPECT_EQ(stub_->GetHost(Ctx().get(), get, &h).error_message(), "name: no host 'h9'");

  v1::UnregisterHostRequest un;
  v1::UnregisterHostResponse unr;
  un.set_name("h9");
  ExpectRefused([&] { return stub_->UnregisterHost(Ctx().get(), un, &unr); },
                grpc::StatusCode::NOT_FOUND, "name: no host 'h9'");
  un.set_name("h1");
  ASSERT_TRUE(stub_->UnregisterHost(Ctx().get(), un, &unr).ok());
  EXPECT_EQ(Count("Host"), 0u);
}

TEST_F(ServiceTest, GatewaysGetTheLowestFreeOfport) {
  v1::Gateway g;
  ASSERT_TRUE(RegisterGateway("g1", "172.31.2.1", 100, &g).ok());
  EXPECT_EQ(g.tunnel_ofport(), 60001u);
  ASSERT_TRUE(RegisterGateway("g2", "172.31.2.2", 100, &g).ok());
  EXPECT_EQ(g.tunnel_ofport(), 60002u);
  EXPECT_EQ(Select("Gateway", "name", "g2")[0]["tunnel_ofport"], 60002);
  v1::UnregisterGatewayRequest un;
  v1::UnregisterGatewayResponse unr;
  un.set_name("g1");
  ASSERT_TRUE(stub_->UnregisterGateway(Ctx().get(), un, &unr).ok());
  ASSERT_TRUE(RegisterGateway("g3", "172.31.2.3", 100, &g).ok());
  EXPECT_EQ(g.tunnel_ofport(), 60001u);  // The hole g1 left.

  ExpectRefused([&] { return RegisterGateway("g4", "172.31.2.4", 0, &g); },
                grpc::StatusCode::INVALID_ARGUMENT, "gateway.capacity: must be more than 0");
  ExpectRefused([&] { return RegisterGateway("g4", "172.31.2.2", 5, &g); },
                grpc::StatusCode::ALREADY_EXISTS,
                "gateway.underlay_ip: 172.31.2.2 is used by gateway g2");
  ExpectRefused([&] { return RegisterGateway("g2", "172.31.2.2", 7, &g); },
                grpc::StatusCode::ALREADY_EXISTS,
                "gateway.capacity: gateway g2 exists with capacity '100'");

  v1::Cluster c;
  ASSERT_TRUE(CreateCluster(0, {"g2"}, &c).ok());
  un.set_name("g2");
  ExpectRefused([&] { return stub_->UnregisterGateway(Ctx().get(), un, &unr); },
                grpc::StatusCode::FAILED_PRECONDITION, "gateway g2 is a member of cluster 1");

  v1::ListGatewaysRequest list;
  v1::ListGatewaysResponse all;
  ASSERT_TRUE(stub_->ListGateways(Ctx().get(), list, &all).ok());
  ASSERT_EQ(all.gateways_size(), 2);
  EXPECT_EQ(all.gateways(0).name(), "g2");
  EXPECT_EQ(all.gateways(0).cluster_id(), 1u);
  EXPECT_EQ(all.gateways(1).name(), "g3");
}

TEST_F(ServiceTest, ClustersCreateDeleteAndRefusals) {
  Basic();
  v1::Cluster c;
  ExpectRefused(
      [&] {
        return CreateCluster(0, {"g1", "g2"}, &c);
      },
      grpc::StatusCode::FAILED_PRECONDITION,
      "cluster.members: gateway g1 is a member of cluster 1");
  ExpectRefused([&] { return CreateCluster(0, {"g9"}, &c); }, grpc::StatusCode::NOT_FOUND,
                "cluster.members: no gateway 'g9'");
  ExpectRefused([&] { return CreateCluster(1, {"g2"}, &c); }, grpc::StatusCode::ALREADY_EXISTS,
                "cluster.members: cluster 1 exists with members g1");
  ExpectRefused(
      [&] {
        return CreateCluster(0, {"g2", "g2"}, &c);
      },
      grpc::StatusCode::INVALID_ARGUMENT, "cluster.members[1]: 'g2' is named twice");
  // The same cluster again: OK, nothing written.
  std::string before = Dump();
  ASSERT_TRUE(CreateCluster(1, {"g1"}, &c).ok());
  ASSERT_TRUE(CreateCluster(0, {"g1"}, &c).ok());  // Without an id: the cluster of g1.
  EXPECT_EQ(c.id(), 1u);
  EXPECT_EQ(Dump(), before);

  ASSERT_TRUE(CreateCluster(0, {"g2"}, &c).ok());
  EXPECT_EQ(c.id(), 2u);
  v1::Vpc v;
  ASSERT_TRUE(stub_->CreateVpc(Ctx().get(), VpcRequest("red", 200, 1), &v).ok());

  v1::GetClusterRequest get;
  get.set_id(1);
  ASSERT_TRUE(stub_->GetCluster(Ctx().get(), get, &c).ok());
  EXPECT_THAT(c.members(), ElementsAre("g1"));
  EXPECT_THAT(c.vpcs(), ElementsAre("blue", "red"));
  EXPECT_EQ(c.capacity(), 100u);

  v1::DeleteClusterRequest del;
  v1::DeleteClusterResponse delr;
  del.set_id(1);
  ExpectRefused([&] { return stub_->DeleteCluster(Ctx().get(), del, &delr); },
                grpc::StatusCode::FAILED_PRECONDITION, "cluster 1 serves VPCs blue, red");
  del.set_id(9);
  ExpectRefused([&] { return stub_->DeleteCluster(Ctx().get(), del, &delr); },
                grpc::StatusCode::NOT_FOUND, "id: no cluster 9");
  del.set_id(2);
  ASSERT_TRUE(stub_->DeleteCluster(Ctx().get(), del, &delr).ok());
  EXPECT_EQ(Count("Cluster"), 1u);
  // g2 is spare again: it can form a new cluster.
  ASSERT_TRUE(CreateCluster(5, {"g2"}, &c).ok());
  EXPECT_EQ(c.id(), 5u);

  v1::ListClustersRequest list;
  v1::ListClustersResponse all;
  ASSERT_TRUE(stub_->ListClusters(Ctx().get(), list, &all).ok());
  ASSERT_EQ(all.clusters_size(), 2);
  EXPECT_EQ(all.clusters(0).id(), 1u);
  EXPECT_EQ(all.clusters(1).id(), 5u);
}

TEST_F(ServiceTest, MoveVpcStartsAMoveCancelsItAndRefusesBadRequests) {
  Basic();
  v1::Cluster c;
  ASSERT_TRUE(CreateCluster(2, {"g2"}, &c).ok());  // g2 serves at once (no VPC yet).
  v1::MoveVpcRequest r;
  v1::Vpc v;
  r.set_id("blue");
  r.set_cluster_id(0);
  ExpectRefused([&] { return stub_->MoveVpc(Ctx().get(), r, &v); },
                grpc::StatusCode::INVALID_ARGUMENT, "cluster_id: 0 is not in 1..65535");
  r.set_cluster_id(9);
  ExpectRefused([&] { return stub_->MoveVpc(Ctx().get(), r, &v); }, grpc::StatusCode::NOT_FOUND,
                "cluster_id: no cluster 9");
  r.set_id("");
  r.set_cluster_id(2);
  ExpectRefused([&] { return stub_->MoveVpc(Ctx().get(), r, &v); },
                grpc::StatusCode::INVALID_ARGUMENT, "id: missing");
  r.set_id("nope");
  ExpectRefused([&] { return stub_->MoveVpc(Ctx().get(), r, &v); }, grpc::StatusCode::NOT_FOUND,
                "id: no VPC 'nope'");

  r.set_id("blue");
  grpc::Status s = stub_->MoveVpc(Ctx().get(), r, &v);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(v.cluster_id(), 1u);
  EXPECT_EQ(v.moving_to(), 2u);
  EXPECT_EQ(v.move_phase(), v1::VPC_MOVE_PHASE_LOADING);
  nlohmann::json rows = Select("Vpc", "vpc_id", "blue");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["move_phase"], "loading");
  EXPECT_EQ(rows[0]["moving_to"][0], "uuid");  // One reference, to cluster 2's row.
  EXPECT_EQ(rows[0]["moving_to"][1], Select("Cluster", "cluster_id", 2)[0]["_uuid"][1]);

  v1::DeleteClusterRequest del;
  v1::DeleteClusterResponse delr;
  del.set_id(2);
  ExpectRefused([&] { return stub_->DeleteCluster(Ctx().get(), del, &delr); },
                grpc::StatusCode::FAILED_PRECONDITION, "cluster 2 is where VPC blue is moving to");

  r.set_cluster_id(1);  // Its own cluster: cancelled.
  s = stub_->MoveVpc(Ctx().get(), r, &v);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(v.moving_to(), 0u);
  EXPECT_EQ(v.move_phase(), v1::VPC_MOVE_PHASE_UNSPECIFIED);
  rows = Select("Vpc", "vpc_id", "blue");
  EXPECT_EQ(rows[0]["move_phase"], nlohmann::json::parse(R"(["set",[]])"));
  EXPECT_EQ(rows[0]["moving_to"], nlohmann::json::parse(R"(["set",[]])"));
}

TEST_F(ServiceTest, VpcsPlacementIdempotenceAndRefusals) {
  Basic();
  v1::Cluster c;
  ASSERT_TRUE(CreateCluster(2, {"g2"}, &c).ok());
  v1::Vpc v;
  // Cluster 1: 100 left; cluster 2: 50 left. Placement picks 1.
  ASSERT_TRUE(stub_->CreateVpc(Ctx().get(), VpcRequest("red", 200, 0), &v).ok());
  EXPECT_EQ(v.cluster_id(), 1u);
  ASSERT_EQ(v.networks_size(), 1);
  EXPECT_EQ(v.networks(0).vpc(), "red");
  EXPECT_EQ(Count("Network"), 2u);

  std::string before = Dump();
  ASSERT_TRUE(stub_->CreateVpc(Ctx().get(), VpcRequest("red", 200, 0), &v).ok());
  EXPECT_EQ(Dump(), before);

  ExpectRefused([&] { return stub_->CreateVpc(Ctx().get(), VpcRequest("green", 100, 0), &v); },
                grpc::StatusCode::ALREADY_EXISTS, "vpc.vni: 100 is used by VPC blue");
  ExpectRefused([&] { return stub_->CreateVpc(Ctx().get(), VpcRequest("red", 201, 0), &v); },
                grpc::StatusCode::ALREADY_EXISTS, "vpc.vni: VPC red exists with vni '200'");
  ExpectRefused([&] { return stub_->CreateVpc(Ctx().get(), VpcRequest("green", 300, 7), &v); },
                grpc::StatusCode::NOT_FOUND, "vpc.cluster_id: no cluster 7");
  auto overlapping = VpcRequest("green", 300, 0);
  auto* n = overlapping.mutable_vpc()->add_networks();
  n->set_id("db");
  n->set_ipv4_cidr("10.0.0.128/25");
  ExpectRefused([&] { return stub_->CreateVpc(Ctx().get(), overlapping, &v); },
                grpc::StatusCode::INVALID_ARGUMENT,
                "vpc.networks[1].ipv4_cidr: 10.0.0.128/25 overlaps network web (10.0.0.0/24, "
                "fd00::/64)");

  v1::ListVpcsRequest list;
  list.set_cluster_id(1);
  v1::ListVpcsResponse vpcs;
  ASSERT_TRUE(stub_->ListVpcs(Ctx().get(), list, &vpcs).ok());
  ASSERT_EQ(vpcs.vpcs_size(), 2);
  EXPECT_EQ(vpcs.vpcs(0).id(), "blue");
  list.set_cluster_id(2);
  ASSERT_TRUE(stub_->ListVpcs(Ctx().get(), list, &vpcs).ok());
  EXPECT_EQ(vpcs.vpcs_size(), 0);

  // Deleted with its networks and endpoints.
  v1::CreateEndpointRequest ce;
  *ce.mutable_endpoint() = Ep("k1", 5);
  ce.set_online_timeout_ms(1);
  v1::Endpoint e;
  ASSERT_TRUE(stub_->CreateEndpoint(Ctx().get(), ce, &e).ok());
  v1::DeleteVpcRequest del;
  v1::DeleteVpcResponse delr;
  del.set_id("blue");
  ASSERT_TRUE(stub_->DeleteVpc(Ctx().get(), del, &delr).ok());
  EXPECT_EQ(delr.endpoints(), 1u);
  EXPECT_EQ(Count("Endpoint"), 0u);
  EXPECT_EQ(Count("Network"), 1u);
  ExpectRefused([&] { return stub_->DeleteVpc(Ctx().get(), del, &delr); },
                grpc::StatusCode::NOT_FOUND, "id: no VPC 'blue'");
}

TEST_F(ServiceTest, NetworksCreateListDelete) {
  Basic();
  v1::CreateNetworkRequest r;
  r.mutable_network()->set_vpc("blue");
  r.mutable_network()->set_id("db");
  r.mutable_network()->set_ipv4_cidr("10.0.1.0/24");
  v1::Network n;
  ASSERT_TRUE(stub_->CreateNetwork(Ctx().get(), r, &n).ok());
  std::string before = Dump();
  ASSERT_TRUE(stub_->CreateNetwork(Ctx().get(), r, &n).ok());
  EXPECT_EQ(Dump(), before);
  r.mutable_network()->set_id("db2");
  r.mutable_network()->set_ipv4_cidr("10.0.0.0/16");
  ExpectRefused([&] { return stub_->CreateNetwork(Ctx().get(), r, &n); },
                grpc::StatusCode::ALREADY_EXISTS,
                "network.ipv4_cidr: 10.0.0.0/16 overlaps network db (10.0.1.0/24)");
  r.mutable_network()->set_vpc("nope");
  ExpectRefused([&] { return stub_->CreateNetwork(Ctx().get(), r, &n); },
                grpc::StatusCode::NOT_FOUND, "network.vpc: no VPC 'nope'");

  v1::ListNetworksRequest list;
  list.set_vpc("blue");
  v1::ListNetworksResponse nets;
  ASSERT_TRUE(stub_->ListNetworks(Ctx().get(), list, &nets).ok());
  ASSERT_EQ(nets.networks_size(), 2);
  EXPECT_EQ(nets.networks(0).id(), "db");
  EXPECT_EQ(nets.networks(1).id(), "web");

  v1::DeleteNetworkRequest del;
  v1::DeleteNetworkResponse delr;
  del.set_vpc("blue");
  del.set_id("nope");
  ExpectRefused([&] { return stub_->DeleteNetwork(Ctx().get(), del, &delr); },
                grpc::StatusCode::NOT_FOUND, "id: no network 'nope' in VPC blue");
  del.set_id("db");
  ASSERT_TRUE(stub_->DeleteNetwork(Ctx().get(), del, &delr).ok());
  EXPECT_EQ(Count("Network"), 1u);
}

TEST_F(ServiceTest, CreateEndpointAnswersPendingAtItsTimeout) {
  Basic();
  v1::CreateEndpointRequest r;
  *r.mutable_endpoint() = Ep("k1", 5);
  r.set_online_timeout_ms(200);
  v1::Endpoint e;
  grpc::Status s = stub_->CreateEndpoint(Ctx().get(), r, &e);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(e.status(), v1::ENDPOINT_STATUS_PENDING);
  EXPECT_EQ(e.iface_id(), "k1");  // Empty: the key.
  EXPECT_EQ(DbStatus("k1"), "pending");

  // The call's deadline bounds the wait too: 0 means 10 s, the deadline is 1 s.
  *r.mutable_endpoint() = Ep("k2", 6);
  r.set_online_timeout_ms(0);
  s = stub_->CreateEndpoint(Ctx(1000).get(), r, &e);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(e.status(), v1::ENDPOINT_STATUS_PENDING);
}

// The wait for ONLINE counts on the Northbound's clock: an endpoint no
// gateway confirms is answered PENDING when the clock reaches the call's
// start plus its wait, not a millisecond before.
class ServiceClockTest : public ServiceTest {
 protected:
  Northbound::Options NorthboundOptions() override {
    Northbound::Options o = ServiceTest::NorthboundOptions();
    o.clock = &clock_;
    return o;
  }
};

TEST_F(ServiceClockTest, CreateEndpointAnswersPendingWhenItsClockSaysSo) {
  Basic();
  auto row = EndpointFromProto(Ep("k1", 5), "endpoint");
  ASSERT_TRUE(row.ok()) << row.status();
  std::optional<absl::StatusOr<v1::Endpoint>> answer;
  OnIo([&] {
    clock_.Set(1000);
    asio::co_spawn(
        io_,
        [&, row = *row]() mutable -> asio::awaitable<void> {
          answer = co_await nb_->CreateEndpoint(std::move(row), 5000);
        },
        asio::detached);
  });
  // Written (real I/O with the database), then waiting on the clock.
  ASSERT_TRUE(WaitFor([&] { return DbStatus("k1") == "pending"; }));
  auto moved_to = [&](Millis now) {
    return AwaitIo([&, now]() -> asio::awaitable<absl::Status> {
      clock_.Set(now);
      co_await shortcut::testing::Settle();
      co_return answer.has_value() ? absl::OkStatus() : absl::UnavailableError("no answer");
    });
  };
  EXPECT_FALSE(moved_to(5999).ok()) << "answered before its wait was over";
  ASSERT_TRUE(moved_to(6000).ok()) << "no answer once its wait was over";
  absl::StatusOr<v1::Endpoint> e = OnIo([&] { return *answer; });
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->status(), v1::ENDPOINT_STATUS_PENDING);
  EXPECT_EQ(e->key(), "k1");
}

TEST_F(ServiceTest, CreateEndpointWaitsForOnline) {
  Basic();
  v1::CreateEndpointRequest r;
  *r.mutable_endpoint() = Ep("k1", 5);
  r.set_online_timeout_ms(60000);
  auto call = std::async(std::launch::async, [&] {
    v1::Endpoint e;
    grpc::Status s = stub_->CreateEndpoint(Ctx(60000).get(), r, &e);
    return std::make_pair(s, e);
  });
  ASSERT_TRUE(WaitFor([&] { return DbStatus("k1") == "pending"; }));
  SetOnline("k1");
  auto [s, e] = call.get();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(e.status(), v1::ENDPOINT_STATUS_ONLINE);

  // A retry is idempotent: OK, online, nothing written.
  std::string before = Dump();
  v1::Endpoint again;
  ASSERT_TRUE(stub_->CreateEndpoint(Ctx().get(), r, &again).ok());
  EXPECT_EQ(again.status(), v1::ENDPOINT_STATUS_ONLINE);
  EXPECT_EQ(Dump(), before);
}

// Concurrent creations without addresses each get their own: the
// allocation reserves what is being committed. Checked in the database.
TEST_F(ServiceTest, ConcurrentCreationsWithoutAddressesGetDistinctOnes) {
  Basic();
  constexpr int kCalls = 40;
  std::vector<std::future<grpc::Status>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [this, i] {
      v1::CreateEndpointRequest r;
      v1::Endpoint* e = r.mutable_endpoint();
      e->set_key("c" + std::to_string(i));
      e->set_vpc("blue");
      e->set_network("web");
      e->set_host("h1");
      r.set_online_timeout_ms(1);
      v1::Endpoint out;
      return stub_->CreateEndpoint(Ctx().get(), r, &out);
    }));
  }
  for (auto& c : calls) {
    grpc::Status s = c.get();
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  std::set<std::string> ips, macs;
  for (int i = 0; i < kCalls; ++i) {
    nlohmann::json rows = Select("Endpoint", "key", "c" + std::to_string(i));
    ASSERT_EQ(rows.size(), 1u);
    ips.insert(rows[0]["ipv4"].get<std::string>());
    macs.insert(rows[0]["mac"].get<std::string>());
  }
  EXPECT_EQ(ips.size(), size_t{kCalls});
  EXPECT_EQ(macs.size(), size_t{kCalls});
  // The lowest ones: 10.0.0.2 up to 10.0.0.41.
  EXPECT_EQ(*ips.begin(), "10.0.0.10");  // In text order.
  EXPECT_TRUE(ips.contains("10.0.0.2"));
  EXPECT_TRUE(ips.contains("10.0.0.41"));
  EXPECT_FALSE(ips.contains("10.0.0.1"));
  EXPECT_FALSE(ips.contains("10.0.0.42"));
}

TEST_F(ServiceTest, CreateEndpointRefusals) {
  Basic();
  v1::CreateEndpointRequest r;
  *r.mutable_endpoint() = Ep("k1", 5);
  r.set_online_timeout_ms(1);
  v1::Endpoint e;
  ASSERT_TRUE(stub_->CreateEndpoint(Ctx().get(), r, &e).ok());
  auto refused = [&](v1::Endpoint ep, grpc::StatusCode code, const std::string& message) {
    v1::CreateEndpointRequest req;
    *req.mutable_endpoint() = ep;
    req.set_online_timeout_ms(1);
    ExpectRefused([&] { return stub_->CreateEndpoint(Ctx().get(), req, &e); }, code, message);
  };
  v1::Endpoint outside = Ep("k2", 6);
  outside.set_ipv4("10.0.9.1");
  refused(outside, grpc::StatusCode::INVALID_ARGUMENT,
          "endpoint.ipv4: '10.0.9.1' is not inside network web (10.0.0.0/24)");
  refused(Ep("k2", 6, "h9"), grpc::StatusCode::NOT_FOUND, "endpoint.host: no host 'h9'");
  v1::Endpoint same_ip = Ep("k2", 6);
  same_ip.set_ipv4("10.0.0.5");
  refused(same_ip, grpc::StatusCode::ALREADY_EXISTS,
          "endpoint.ipv4: 10.0.0.5 is used by endpoint k1 in VPC blue");
  v1::Endpoint same_mac = Ep("k2", 6);
  same_mac.set_mac("02:00:00:00:00:05");
  refused(same_mac, grpc::StatusCode::ALREADY_EXISTS,
          "endpoint.mac: 02:00:00:00:00:05 is used by endpoint k1 in VPC blue");
  refused(Ep("k1", 5, "h2"), grpc::StatusCode::ALREADY_EXISTS,
          "endpoint.host: endpoint k1 exists with host 'h1'");
  v1::Endpoint bad_mac = Ep("k2", 6);
  bad_mac.set_mac("01:00:00:00:00:06");
  refused(bad_mac, grpc::StatusCode::INVALID_ARGUMENT,
          "endpoint.mac: '01:00:00:00:00:06' is not a unicast MAC address");
  v1::Endpoint no_net = Ep("k2", 6);
  no_net.set_network("db");
  refused(no_net, grpc::StatusCode::NOT_FOUND, "endpoint.network: no network 'db' in VPC blue");

  // Host h1 holds k1: it cannot be unregistered.
  v1::UnregisterHostRequest un;
  v1::UnregisterHostResponse unr;
  un.set_name("h1");
  ExpectRefused([&] { return stub_->UnregisterHost(Ctx().get(), un, &unr); },
                grpc::StatusCode::FAILED_PRECONDITION, "host h1 holds 1 endpoints");

  v1::GetHostRequest gh;
  gh.set_name("h1");
  v1::Host h;
  ASSERT_TRUE(stub_->GetHost(Ctx().get(), gh, &h).ok());
  EXPECT_EQ(h.endpoints(), 1u);
  EXPECT_THAT(h.clusters(), ElementsAre(1u));
}

TEST_F(ServiceTest, UpdateEndpointMovesAndWaits) {
  Basic();
  v1::CreateEndpointRequest c;
  *c.mutable_endpoint() = Ep("k1", 5);
  c.set_online_timeout_ms(1);
  v1::Endpoint e;
  ASSERT_TRUE(stub_->CreateEndpoint(Ctx().get(), c, &e).ok());
  SetOnline("k1");
  ASSERT_TRUE(WaitFor([&] { return DbStatus("k1") == "online"; }));

  v1::UpdateEndpointRequest u;
  u.mutable_endpoint()->set_key("k1");
  u.mutable_endpoint()->set_host("h2");
  u.mutable_update_mask()->add_paths("host");
  u.set_online_timeout_ms(60000);
  auto call = std::async(std::launch::async, [&] {
    v1::Endpoint out;
    grpc::Status s = stub_->UpdateEndpoint(Ctx(60000).get(), u, &out);
    return std::make_pair(s, out);
  });
  // The move writes the new host with status pending, together.
  nlohmann::json h2 = Select("Host", "name", "h2")[0]["_uuid"];
  ASSERT_TRUE(WaitFor([&] {
    nlohmann::json rows = Select("Endpoint", "key", "k1");
    return rows.size() == 1 && rows[0]["host"] == h2 && rows[0]["status"] == "pending";
  }));
  SetOnline("k1");
  auto [s, out] = call.get();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.host(), "h2");
  EXPECT_EQ(out.status(), v1::ENDPOINT_STATUS_ONLINE);
  EXPECT_EQ(out.ipv4(), "10.0.0.5");  // Not in the mask: kept.

  // Readdress: no wait, status kept.
  v1::UpdateEndpointRequest ip;
  ip.mutable_endpoint()->set_key("k1");
  ip.mutable_endpoint()->set_ipv4("10.0.0.9");
  ip.mutable_update_mask()->add_paths("ipv4");
  ASSERT_TRUE(stub_->UpdateEndpoint(Ctx().get(), ip, &out).ok());
  EXPECT_EQ(Select("Endpoint", "key", "k1")[0]["ipv4"], "10.0.0.9");

  ip.mutable_update_mask()->add_paths("vpc");
  ExpectRefused([&] { return stub_->UpdateEndpoint(Ctx().get(), ip, &out); },
                grpc::StatusCode::INVALID_ARGUMENT,
                "update_mask.paths[1]: 'vpc' cannot be updated (only host, ipv4, ipv6, mac, "
                "iface_id, network)");
  u.mutable_endpoint()->set_host("h9");
  ExpectRefused([&] { return stub_->UpdateEndpoint(Ctx().get(), u, &out); },
                grpc::StatusCode::NOT_FOUND, "endpoint.host: no host 'h9'");
  u.mutable_endpoint()->set_key("zz");
  ExpectRefused([&] { return stub_->UpdateEndpoint(Ctx().get(), u, &out); },
                grpc::StatusCode::NOT_FOUND, "endpoint.key: no endpoint 'zz'");

  v1::DeleteEndpointRequest del;
  v1::DeleteEndpointResponse delr;
  del.set_key("zz");
  ExpectRefused([&] { return stub_->DeleteEndpoint(Ctx().get(), del, &delr); },
                grpc::StatusCode::NOT_FOUND, "key: no endpoint 'zz'");
  del.set_key("k1");
  ASSERT_TRUE(stub_->DeleteEndpoint(Ctx().get(), del, &delr).ok());
  EXPECT_EQ(Count("Endpoint"), 0u);
}

TEST_F(ServiceTest, ListEndpointsPagesAreStable) {
  Basic();
  for (int i = 1; i <= 7; ++i) {
    v1::CreateEndpointRequest c;
    *c.mutable_endpoint() = Ep(absl::StrCat("k", i * 2), i, i % 2 ? "h1" : "h2");
    c.set_online_timeout_ms(1);
    v1::Endpoint e;
    ASSERT_TRUE(stub_->CreateEndpoint(Ctx().get(), c, &e).ok());
  }
  // Keys k10 k12 k14 k2 k4 k6 k8, in that (byte) order.
  v1::ListEndpointsRequest r;
  r.set_page_size(3);
  v1::ListEndpointsResponse p1, p2, p3;
  ASSERT_TRUE(stub_->ListEndpoints(Ctx().get(), r, &p1).ok());
  ASSERT_EQ(p1.endpoints_size(), 3);
  EXPECT_EQ(p1.endpoints(0).key(), "k10");
  EXPECT_EQ(p1.endpoints(2).key(), "k14");
  // An insert before the token's position does not shift the next page.
  v1::CreateEndpointRequest c;
  *c.mutable_endpoint() = Ep("k1", 20);
  c.set_online_timeout_ms(1);
  v1::Endpoint e;
  ASSERT_TRUE(stub_->CreateEndpoint(Ctx().get(), c, &e).ok());
  r.set_page_token(p1.next_page_token());
  ASSERT_TRUE(stub_->ListEndpoints(Ctx().get(), r, &p2).ok());
  ASSERT_EQ(p2.endpoints_size(), 3);
  EXPECT_EQ(p2.endpoints(0).key(), "k2");
  EXPECT_EQ(p2.endpoints(2).key(), "k6");
  r.set_page_token(p2.next_page_token());
  ASSERT_TRUE(stub_->ListEndpoints(Ctx().get(), r, &p3).ok());
  ASSERT_EQ(p3.endpoints_size(), 1);
  EXPECT_EQ(p3.endpoints(0).key(), "k8");
  EXPECT_TRUE(p3.next_page_token().empty());

  v1::ListEndpointsRequest by_host;
  by_host.set_host("h2");
  v1::ListEndpointsResponse h2;
  ASSERT_TRUE(stub_->ListEndpoints(Ctx().get(), by_host, &h2).ok());
  ASSERT_EQ(h2.endpoints_size(), 3);  // k12 k4 k8.
  EXPECT_EQ(h2.endpoints(0).key(), "k12");

  r.set_page_token("garbage!");
  EXPECT_EQ(stub_->ListEndpoints(Ctx().get(), r, &p3).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  r.set_page_token("");
  r.set_page_size(10001);
  EXPECT_EQ(stub_->ListEndpoints(Ctx().get(), r, &p3).error_message(),
            "page_size: 10001 is not in 0..10000");
}

TEST_F(ServiceTest, CreateEndpointsStreamIsAllOrNothing) {
  Basic();
  auto load = [&](const std::vector<std::vector<v1::Endpoint>>& batches,
                  v1::CreateEndpointsResponse* out) {
    auto ctx = Ctx();
    auto writer = stub_->CreateEndpoints(ctx.get(), out);
    for (size_t i = 0; i < batches.size(); ++i) {
      v1::CreateEndpointsRequest r;
      for (const auto& e : batches[i]) *r.add_endpoints() = e;
      r.set_last(i + 1 == batches.size());
      if (!writer->Write(r)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  };
  std::vector<std::vector<v1::Endpoint>> batches;
  for (int b = 0; b < 3; ++b) {
    batches.emplace_back();
    for (int i = 0; i < 3; ++i) {
      int n = 10 + b * 3 + i;
      batches.back().push_back(Ep(absl::StrCat("bulk", n), n, "h2"));
    }
  }
  v1::CreateEndpointsResponse out;
  grpc::Status s = load(batches, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.created(), 9u);  // Written in transactions of 4, 4, 1.
  EXPECT_EQ(out.unchanged(), 0u);
  EXPECT_EQ(Count("Endpoint"), 9u);

  // Again, plus one: 1 created, 9 unchanged.
  batches.back().push_back(Ep("bulk30", 30, "h2"));
  ASSERT_TRUE(load(batches, &out).ok());
  EXPECT_EQ(out.created(), 1u);
  EXPECT_EQ(out.unchanged(), 9u);

  // A bad endpoint in the last batch: nothing of the stream is written.
  std::vector<std::vector<v1::Endpoint>> bad = {{Ep("n1", 40), Ep("n2", 41), Ep("n3", 42)},
                                                {Ep("n4", 43), Ep("n5", 44, "h9")}};
  ExpectRefused([&] { return load(bad, &out); }, grpc::StatusCode::NOT_FOUND,
                "endpoints[4].host: no host 'h9'");
  bad.back().back() = Ep("n5", 41);
  ExpectRefused([&] { return load(bad, &out); }, grpc::StatusCode::ALREADY_EXISTS,
                "endpoints[4].ipv4: 10.0.0.41 is used by endpoint n2 in VPC blue");
  bad.back().back().set_ipv4("nope");
  ExpectRefused([&] { return load(bad, &out); }, grpc::StatusCode::INVALID_ARGUMENT,
                "endpoints[4].ipv4: 'nope' is not an IPv4 address");
  // Beyond the stream's bound (20 here).
  std::vector<std::vector<v1::Endpoint>> big(1);
  for (int i = 50; i < 71; ++i) big[0].push_back(Ep(absl::StrCat("big", i), i));
  ExpectRefused([&] { return load(big, &out); }, grpc::StatusCode::RESOURCE_EXHAUSTED,
                "endpoints: more than 20 in one CreateEndpoints stream");
}

TEST_F(ServiceTest, WatchEndpointsStreamsEvents) {
  Basic();
  v1::CreateEndpointRequest c;
  *c.mutable_endpoint() = Ep("k1", 5);
  c.set_online_timeout_ms(1);
  v1::Endpoint e;
  ASSERT_TRUE(stub_->CreateEndpoint(Ctx().get(), c, &e).ok());

  grpc::ClientContext ctx;
  v1::WatchEndpointsRequest w;
  w.set_vpc("blue");
  w.set_initial(true);
  auto reader = stub_->WatchEndpoints(&ctx, w);
  v1::EndpointEvent ev;
  ASSERT_TRUE(reader->Read(&ev));
  EXPECT_EQ(ev.kind(), v1::EndpointEvent::EXISTING);
  EXPECT_EQ(ev.endpoint().key(), "k1");

  *c.mutable_endpoint() = Ep("k2", 6, "h2");
  ASSERT_TRUE(stub_->CreateEndpoint(Ctx().get(), c, &e).ok());
  ASSERT_TRUE(reader->Read(&ev));
  EXPECT_EQ(ev.kind(), v1::EndpointEvent::CREATED);
  EXPECT_EQ(ev.endpoint().key(), "k2");
  EXPECT_EQ(ev.endpoint().status(), v1::ENDPOINT_STATUS_PENDING);

  SetOnline("k2");  // As the driver would.
  ASSERT_TRUE(reader->Read(&ev));
  EXPECT_EQ(ev.kind(), v1::EndpointEvent::UPDATED);
  EXPECT_EQ(ev.endpoint().key(), "k2");
  EXPECT_EQ(ev.endpoint().status(), v1::ENDPOINT_STATUS_ONLINE);

  v1::DeleteEndpointRequest del;
  v1::DeleteEndpointResponse delr;
  del.set_key("k1");
  ASSERT_TRUE(stub_->DeleteEndpoint(Ctx().get(), del, &delr).ok());
  ASSERT_TRUE(reader->Read(&ev));
  EXPECT_EQ(ev.kind(), v1::EndpointEvent::DELETED);
  EXPECT_EQ(ev.endpoint().key(), "k1");
  ctx.TryCancel();
  (void)reader->Finish();
}

TEST_F(ServiceTest, HealthIsServing) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckRequest r;
  r.set_service("shortcut.manager.v1.Manager");
  grpc::health::v1::HealthCheckResponse out;
  ASSERT_TRUE(health->Check(Ctx().get(), r, &out).ok());
  EXPECT_EQ(out.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

// Server reflection (what grpcurl uses): list_services names the API. The
// request is hand-encoded (ServerReflectionRequest.list_services = "",
// field 7) since Debian ships no reflection stubs for clients.
TEST_F(ServiceTest, ReflectionListsTheService) {
  grpc::GenericStub stub(channel_);
  grpc::CompletionQueue cq;
  auto ctx = Ctx();
  auto call = stub.PrepareCall(
      ctx.get(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  auto step = [&](intptr_t want) {
    void* tag = nullptr;
    bool ok = false;
    EXPECT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), want);
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(step(1));
  grpc::Slice slice(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(step(2));
  call->WritesDone(reinterpret_cast<void*>(3));
  ASSERT_TRUE(step(3));
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  ASSERT_TRUE(step(4));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_NE(bytes.find("shortcut.manager.v1.Manager"), std::string::npos);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  EXPECT_TRUE(status.ok()) << status.error_message();
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
}

// The manager API's admission bounds, set low: watchers hold gRPC threads,
// CreateEndpoints streams hold their content in memory until applied.
class ServiceLimitsTest : public ServiceTest {
 protected:
  ManagerService::Options ServiceOptions() override {
    ManagerService::Options o = ServiceTest::ServiceOptions();
    o.max_watchers = 2;
    o.max_streams = 1;
    return o;
  }
};

TEST_F(ServiceLimitsTest, WatchersBeyondMaxWatchersAreRefusedUntilOneEnds) {
  Basic();
  v1::WatchEndpointsRequest w;
  w.set_vpc("blue");
  grpc::ClientContext first;
  grpc::ClientContext second;
  auto r1 = stub_->WatchEndpoints(&first, w);
  auto r2 = stub_->WatchEndpoints(&second, w);
  ASSERT_TRUE(testing::PollUntil([&] { return service_->api_counters().watchers == 2; }));

  grpc::ClientContext third;
  auto r3 = stub_->WatchEndpoints(&third, w);
  v1::EndpointEvent ev;
  EXPECT_FALSE(r3->Read(&ev));
  grpc::Status refused = r3->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(),
            "manager busy: watchers at their limit of 2 (api_limits.max_watchers); retry with "
            "backoff");
  EXPECT_EQ(service_->api_counters().watchers_refused, 1u);

  // The watchers admitted still get their events.
  v1::CreateEndpointRequest c;
  *c.mutable_endpoint() = Ep("k1", 5);
  c.set_online_timeout_ms(1);
  v1::Endpoint e;
  ASSERT_TRUE(stub_->CreateEndpoint(Ctx().get(), c, &e).ok());
  ASSERT_TRUE(r1->Read(&ev));
  EXPECT_EQ(ev.endpoint().key(), "k1");
  ASSERT_TRUE(r2->Read(&ev));
  EXPECT_EQ(ev.endpoint().key(), "k1");

  first.TryCancel();
  r1->Finish();
  ASSERT_TRUE(testing::PollUntil([&] { return service_->api_counters().watchers == 1; }));
  grpc::ClientContext fourth;
  auto r4 = stub_->WatchEndpoints(&fourth, w);
  ASSERT_TRUE(testing::PollUntil([&] { return service_->api_counters().watchers == 2; }));
  EXPECT_EQ(service_->api_counters().watchers_refused, 1u);
  second.TryCancel();
  fourth.TryCancel();
  r2->Finish();
  r4->Finish();
}

TEST_F(ServiceLimitsTest, AStreamWithoutItsLastBatchWritesNothing) {
  Basic();
  v1::CreateEndpointsResponse out;
  auto ctx = Ctx();
  auto writer = stub_->CreateEndpoints(ctx.get(), &out);
  v1::CreateEndpointsRequest batch;
  *batch.add_endpoints() = Ep("bulk10", 10, "h2");
  ASSERT_TRUE(writer->Write(batch));
  writer->WritesDone();
  grpc::Status cut = writer->Finish();
  EXPECT_EQ(cut.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(cut.error_message(),
            "the stream ended without a batch marked last: it may have been cut short, so "
            "nothing of it is written");
  EXPECT_EQ(Count("Endpoint"), 0u);
}

TEST_F(ServiceLimitsTest, AStreamBeyondMaxStreamsIsRefusedAndWritesNothing) {
  Basic();
  v1::CreateEndpointsResponse first_out;
  auto first_ctx = Ctx();
  auto first = stub_->CreateEndpoints(first_ctx.get(), &first_out);
  v1::CreateEndpointsRequest batch;
  *batch.add_endpoints() = Ep("bulk10", 10, "h2");
  ASSERT_TRUE(first->Write(batch));
  ASSERT_TRUE(testing::PollUntil([&] { return service_->api_counters().streams_in_flight == 1; }));

  v1::CreateEndpointsResponse second_out;
  auto second_ctx = Ctx();
  auto second = stub_->CreateEndpoints(second_ctx.get(), &second_out);
  v1::CreateEndpointsRequest other;
  *other.add_endpoints() = Ep("bulk11", 11, "h2");
  second->Write(other);  // May fail once the server has answered.
  second->WritesDone();
  grpc::Status refused = second->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(),
            "manager busy: streams at their limit of 1 (api_limits.max_streams); retry with "
            "backoff");

  v1::CreateEndpointsRequest last;
  last.set_last(true);
  ASSERT_TRUE(first->Write(last));
  first->WritesDone();
  grpc::Status done = first->Finish();
  ASSERT_TRUE(done.ok()) << done.error_message();
  EXPECT_EQ(first_out.created(), 1u);
  EXPECT_EQ(Count("Endpoint"), 1u);  // bulk10 only, read from the database.
  EXPECT_EQ(service_->api_counters().streams_refused, 1u);
}

}  // namespace
}  // namespace shortcut::manager
