// The gateway's gRPC API end to end: a real server on a Unix socket, a real
// client stub, the Gateway on its io thread programming simulated hosts.
// Every RPC on its happy path; every validation error with its code, a
// message naming the field, and no change; AddVpc all or nothing; health.
#include "src/gateway/service.h"

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "src/openflow/text.h"
#include "src/pipeline/pipeline.h"
#include "tests/gateway/service_fixture.h"
#include "tests/support/poll.h"

namespace shortcut::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
namespace health = ::grpc::health::v1;

class ServiceTest : public testing::ServiceFixture {
 protected:
  health::HealthCheckResponse::ServingStatus Health(const std::string& service) {
    auto stub = health::Health::NewStub(channel_);
    grpc::ClientContext context;
    health::HealthCheckRequest request;
    request.set_service(service);
    health::HealthCheckResponse response;
    grpc::Status s = stub->Check(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.status();
  }
  // One AddEndpoints stream of these batches, the last marked so (`end`).
  grpc::Status AddEndpoints(const std::vector<std::vector<v1::Endpoint>>& batches,
                            v1::AddEndpointsResponse* response = nullptr, bool end = true) {
    grpc::ClientContext context;
    v1::AddEndpointsResponse ignored;
    auto writer = stub_->AddEndpoints(&context, response ? response : &ignored);
    for (size_t i = 0; i < batches.size(); ++i) {
      v1::EndpointBatch batch;
      for (const v1::Endpoint& e : batches[i]) *batch.add_endpoints() = e;
      batch.set_last(end && i + 1 == batches.size());
      if (!writer->Write(batch)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }
  v1::ListPathsResponse Paths() {
    grpc::ClientContext context;
    v1::ListPathsResponse response;
    grpc::Status s = stub_->ListPaths(&context, v1::ListPathsRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }
  // SetCluster, then vpc1 (10.0.0.0/24) with ep01 on host1.
  grpc::Status SetVpcStandby(const std::string& vpc, bool standby) {
    grpc::ClientContext context;
    v1::SetVpcStandbyRequest request;
    request.set_vpc(vpc);
    request.set_standby(standby);
    v1::SetVpcStandbyResponse response;
    return stub_->SetVpcStandby(&context, request, &response);
  }
  fakes::FakeSwitch::Counters Counters(const std::string& host) {
    return OnIo([&] { return switches_[host]->counters(); });
  }
  size_t Groups(const std::string& host) {
    return OnIo([&] { return switches_[host]->group_count(); });
  }
  // A direct path toward `dst` (VNI 100), as the forwarding module installs
  // it, on `host`'s switch.
  void AddDirectPath(const std::string& host, const std::string& dst) {
    AwaitIo([&]() -> asio::awaitable<void> {
      std::vector<of::FlowMod> mods = {
          pipeline::DirectPathAdd(100, *ParseIpv4(dst), 0xac1f0909, 60)};
      absl::Status s = co_await gw_->programmer(host)->SendDirectPaths(std::move(mods));
      EXPECT_TRUE(s.ok()) << s;
    });
  }
  // The direct paths on `host`'s switch toward `dst`, or all of them.
  size_t DirectPaths(const std::string& host, const std::string& dst = "") {
    return OnIo([&] {
      size_t n = 0;
      for (const of::FlowStats& f : switches_[host]->Flows()) {
        if ((f.cookie & pipeline::kCookieKindMask) != pipeline::kCookieDirect) continue;
        n += dst.empty() || absl::StrContains(of::FormatMatch(f.match), "nw_dst=" + dst + ",") ||
             absl::EndsWith(of::FormatMatch(f.match), "nw_dst=" + dst);
      }
      return n;
    });
  }
  void Prepare() {
    ASSERT_TRUE(SetCluster(Cluster()).ok());
    ASSERT_TRUE(AddVpc({VpcItem(Vpc("vpc1", 100, "10.0.0.0/24")),
                        Batch({Ep("ep01", "10.0.0.10", "host1")})})
                    .ok());
  }
};

// An error's code, and its message naming the field.
#define EXPECT_ERROR(status_expr, code_, substring)                        \
  do {                                                                     \
    grpc::Status s_ = (status_expr);                                       \
    EXPECT_EQ(s_.error_code(), grpc::StatusCode::code_)                    \
        << #status_expr << ": " << s_.error_message();                     \
    EXPECT_THAT(s_.error_message(), HasSubstr(substring)) << #status_expr; \
  } while (0)

TEST_F(ServiceTest, HealthIsServingOnceTheClusterIsSet) {
  EXPECT_EQ(Health(""), health::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Health("shortcut.gateway.v1.Gateway"), health::HealthCheckResponse::NOT_SERVING);
  v1::SetClusterRequest bad = Cluster();
  bad.set_self("gw7");
  EXPECT_FALSE(SetCluster(bad).ok());
  EXPECT_EQ(Health(""), health::HealthCheckResponse::NOT_SERVING);
  ASSERT_TRUE(SetCluster(Cluster()).ok());
  EXPECT_EQ(Health(""), health::HealthCheckResponse::SERVING);
  EXPECT_EQ(Health("shortcut.gateway.v1.Gateway"), health::HealthCheckResponse::SERVING);
}

TEST_F(ServiceTest, EveryRpcOnItsHappyPath) {
  ASSERT_TRUE(SetCluster(Cluster()).ok());

  // AddVpc: the VPC and two networks, then two batches of endpoints.
  v1::Vpc vpc = Vpc("vpc1", 100, "10.0.0.0/24");
  v1::Network* net2 = vpc.add_networks();
  net2->set_id("net2");
  net2->set_ipv4_cidr("10.0.1.0/24");
  v1::Endpoint ep03 = Ep("ep03", "10.0.1.10", "host1");
  ep03.set_network("net2");
  v1::AddVpcResponse added;
  grpc::Status s = AddVpc(
      {VpcItem(vpc), Batch({Ep("ep02", "10.0.0.11", "host2"), Ep("ep01", "10.0.0.10", "host1")}),
       Batch({ep03})},
      &added);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(added.endpoints(), 3u);

  // ListEndpoints: sorted by key, filtered by VPC and host; no port yet.
  EXPECT_THAT(Keys(), ElementsAre("ep01", "ep02", "ep03"));
  EXPECT_THAT(Keys("vpc1"), ElementsAre("ep01", "ep02", "ep03"));
  EXPECT_THAT(Keys("", "host1"), ElementsAre("ep01", "ep03"));
  EXPECT_THAT(Keys("vpc1", "host2"), ElementsAre("ep02"));
  v1::ListEndpointsResponse list = List();
  EXPECT_EQ(list.endpoints(0).ofport(), -1);
  EXPECT_FALSE(list.endpoints(0).online());
  EXPECT_EQ(list.endpoints(0).endpoint().mac(), "02:00:00:00:00:01");
  EXPECT_EQ(list.endpoints(0).endpoint().host(), "host1");

  // The port shows up: bound, confirmed by host1, online.
  BindPort("host1", "ep01", 5);
  list = List("", "host1");
  EXPECT_EQ(list.endpoints(0).ofport(), 5);
  EXPECT_TRUE(list.endpoints(0).online());

  // UpdateEndpoint: each kind of change.
  BindPort("host2", "ep04", 7);
  v1::UpdateEndpointResponse r;
  v1::Endpoint ep04 = Ep("ep04", "10.0.0.20", "host2");
  ASSERT_TRUE(UpdateEndpoint(ep04, &r).ok());
  EXPECT_EQ(r.change(), v1::UpdateEndpointResponse::CREATED);
  EXPECT_TRUE(r.online());
  ASSERT_TRUE(UpdateEndpoint(ep04, &r).ok());
  EXPECT_EQ(r.change(), v1::UpdateEndpointResponse::UNCHANGED);
  // Each change that makes direct paths toward ep04 stale takes them off
  // both hosts of vpc1 (host1 for ep01, host2 for ep02).
  AddDirectPath("host1", "10.0.0.20");
  AddDirectPath("host2", "10.0.0.20");
  ASSERT_EQ(DirectPaths("host1", "10.0.0.20") + DirectPaths("host2", "10.0.0.20"), 2u);
  ep04.set_ipv4("10.0.0.21");
  ASSERT_TRUE(UpdateEndpoint(ep04, &r).ok());
  EXPECT_EQ(r.change(), v1::UpdateEndpointResponse::READDRESSED);
  EXPECT_EQ(DirectPaths("host1", "10.0.0.20"), 0u);
  EXPECT_EQ(DirectPaths("host2", "10.0.0.20"), 0u);
  AddDirectPath("host1", "10.0.0.21");
  AddDirectPath("host2", "10.0.0.21");
  BindPort("host1", "ep04", 8);
  ep04.set_host("host1");
  ASSERT_TRUE(UpdateEndpoint(ep04, &r).ok());
  EXPECT_EQ(r.change(), v1::UpdateEndpointResponse::MOVED);
  EXPECT_EQ(DirectPaths("host1", "10.0.0.21"), 0u);
  EXPECT_EQ(DirectPaths("host2", "10.0.0.21"), 0u);
  EXPECT_TRUE(r.online());
  ep04.set_iface_id("ep04-new-port");
  ASSERT_TRUE(UpdateEndpoint(ep04, &r).ok());
  EXPECT_EQ(r.change(), v1::UpdateEndpointResponse::REBOUND);
  EXPECT_FALSE(r.online());  // The new port is not there yet.

  // GetStats: the Gateway's figures and the hook's.
  v1::GetStatsResponse stats = Stats();
  EXPECT_EQ(stats.vpcs(), 1u);
  EXPECT_EQ(stats.endpoints(), 4u);
  EXPECT_EQ(stats.hosts(), 2u);
  EXPECT_EQ(stats.hosts_connected(), 2u);
  EXPECT_EQ(stats.endpoints_pending(), 3u);  // Only ep01 is online.
  EXPECT_EQ(stats.packet_ins(), 42u);

  // ListHosts: this gateway, alone in its cluster, programs both.
  v1::ListHostsResponse hosts = Hosts();
  ASSERT_THAT(hosts.hosts(), SizeIs(2));
  EXPECT_EQ(hosts.hosts(0).host().name(), "host1");
  EXPECT_EQ(hosts.hosts(0).host().openflow(), targets_["host1"]);
  EXPECT_TRUE(hosts.hosts(0).designated());
  EXPECT_TRUE(hosts.hosts(0).connected());
  EXPECT_EQ(hosts.hosts(0).flows(), Flows("host1"));  // What it wants is what host1 has.
  EXPECT_EQ(hosts.hosts(1).host().name(), "host2");

  // DeleteEndpoint: the paths toward it go too.
  AddDirectPath("host2", "10.0.0.21");
  {
    grpc::ClientContext context;
    v1::DeleteEndpointRequest request;
    request.set_key("ep04");
    v1::DeleteEndpointResponse response;
    ASSERT_TRUE(stub_->DeleteEndpoint(&context, request, &response).ok());
    EXPECT_THAT(Keys(), ElementsAre("ep01", "ep02", "ep03"));
  }
  EXPECT_EQ(DirectPaths("host2", "10.0.0.21"), 0u);
  // DeleteNetwork: ep03 goes; direct paths toward it are deleted on the
  // hosts still holding vpc1 (host1 for ep01, host2 for ep02); those
  // toward the other network's endpoints stay.
  AddDirectPath("host1", "10.0.1.10");
  AddDirectPath("host2", "10.0.1.10");
  AddDirectPath("host1", "10.0.0.11");
  AddDirectPath("host2", "10.0.0.10");
  {
    grpc::ClientContext context;
    v1::DeleteNetworkRequest request;
    request.set_vpc("vpc1");
    request.set_network("net2");
    v1::DeleteNetworkResponse response;
    ASSERT_TRUE(stub_->DeleteNetwork(&context, request, &response).ok());
    EXPECT_EQ(response.endpoints(), 1u);
    EXPECT_THAT(Keys(), ElementsAre("ep01", "ep02"));
    EXPECT_EQ(DirectPaths("host1", "10.0.1.10"), 0u);
    EXPECT_EQ(DirectPaths("host2", "10.0.1.10"), 0u);
    EXPECT_EQ(DirectPaths("host1"), 1u);  // Toward ep02.
    EXPECT_EQ(DirectPaths("host2"), 1u);  // Toward ep01.
  }
  // DeleteVpc.
  {
    grpc::ClientContext context;
    v1::DeleteVpcRequest request;
    request.set_vpc("vpc1");
    v1::DeleteVpcResponse response;
    ASSERT_TRUE(stub_->DeleteVpc(&context, request, &response).ok());
    EXPECT_EQ(response.endpoints(), 2u);
    EXPECT_EQ(Stats().vpcs(), 0u);
    EXPECT_EQ(Stats().endpoints(), 0u);
    EXPECT_EQ(Flows("host1"), 2u);  // Only the table-miss drops are left.
    // Every direct path of the VPC went from both hosts.
    EXPECT_EQ(DirectPaths("host1"), 0u);
    EXPECT_EQ(DirectPaths("host2"), 0u);
  }
}

TEST_F(ServiceTest, AnInvalidationAHostDidNotConfirmIsAnsweredPendingAndSentAgain) {
  ASSERT_TRUE(SetCluster(Cluster()).ok());
  ASSERT_TRUE(AddVpc({VpcItem(Vpc("vpc1", 100, "10.0.0.0/24")),
                      Batch({Ep("ep01", "10.0.0.10", "host1"), Ep("ep02", "10.0.0.11", "host2"),
                             Ep("ep03", "10.0.0.12", "host2")})})
                  .ok());
  AddDirectPath("host2", "10.0.0.10");
  // host2 rejects the next flow_mod it gets: the delete toward ep01.
  OnIo([&] {
    switches_["host2"]->RejectFlowMod(1, fakes::BadOutPortError());
    return 0;
  });
  {
    grpc::ClientContext context;
    v1::DeleteEndpointRequest request;
    request.set_key("ep01");
    v1::DeleteEndpointResponse response;
    grpc::Status s = stub_->DeleteEndpoint(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    EXPECT_THAT(s.error_message(),
                HasSubstr("the deletion of endpoint ep01 is stored but pending: invalidation on "
                          "host host2 not confirmed"));
  }
  EXPECT_THAT(Keys(), ElementsAre("ep02", "ep03"));  // Deleted all the same.
  // Queued, and sent again (after a backoff: host2 stayed connected).
  EXPECT_TRUE(shortcut::testing::PollUntil([&] { return DirectPaths("host2", "10.0.0.10") == 0; }))
      << DirectPaths("host2", "10.0.0.10") << " direct paths left on host2";
  EXPECT_EQ(OnIo([&] { return gw_->PendingInvalidations("host2"); }), 0u);
  EXPECT_EQ(OnIo([&] { return gw_->counters().invalidations_resent; }), 1u);
}

TEST_F(ServiceTest, ValidationErrorsNameTheFieldAndChangeNothing) {
  Prepare();
  v1::ListEndpointsResponse list_before = List();
  v1::GetStatsResponse stats_before = Stats();
  v1::ListHostsResponse hosts_before = Hosts();
  size_t flows_before = Flows("host1");
  v1::UpdateEndpointResponse r;

  // UpdateEndpoint.
  {
    grpc::ClientContext context;
    EXPECT_ERROR(stub_->UpdateEndpoint(&context, v1::UpdateEndpointRequest(), &r), INVALID_ARGUMENT,
                 "endpoint is missing");
  }
  v1::Endpoint e = Ep("ep02", "10.0.0.11", "host1");
  e.clear_key();
  EXPECT_ERROR(UpdateEndpoint(e, &r), INVALID_ARGUMENT, "endpoint.key");
  e = Ep("ep02", "10.0.0.11", "host1");
  e.clear_mac();
  EXPECT_ERROR(UpdateEndpoint(e, &r), INVALID_ARGUMENT, "endpoint.mac");
  e = Ep("ep02", "10.0.0.11", "host1");
  e.clear_host();
  EXPECT_ERROR(UpdateEndpoint(e, &r), INVALID_ARGUMENT, "endpoint.host");
  EXPECT_ERROR(UpdateEndpoint(Ep("ep02", "10.0.9.9", "host1"), &r), INVALID_ARGUMENT,
               "ipv4 10.0.9.9 is outside network net1");
  EXPECT_ERROR(UpdateEndpoint(Ep("ep02", "10.0.0.300", "host1"), &r), INVALID_ARGUMENT,
               "ipv4 '10.0.0.300'");
  EXPECT_ERROR(UpdateEndpoint(Ep("ep02", "10.0.0.11", "host1", "vpc9"), &r), NOT_FOUND, "vpc vpc9");
  EXPECT_ERROR(UpdateEndpoint(Ep("ep02", "10.0.0.11", "host9"), &r), NOT_FOUND, "host host9");
  EXPECT_ERROR(UpdateEndpoint(Ep("ep02", "10.0.0.10", "host1"), &r), ALREADY_EXISTS,
               "ipv4 10.0.0.10 is already used by endpoint ep01");

  // Deletes.
  {
    grpc::ClientContext context;
    v1::DeleteEndpointResponse response;
    EXPECT_ERROR(stub_->DeleteEndpoint(&context, v1::DeleteEndpointRequest(), &response),
                 INVALID_ARGUMENT, "key is empty");
  }
  {
    grpc::ClientContext context;
    v1::DeleteEndpointRequest request;
    request.set_key("nope");
    v1::DeleteEndpointResponse response;
    EXPECT_ERROR(stub_->DeleteEndpoint(&context, request, &response), NOT_FOUND, "endpoint nope");
  }
  {
    grpc::ClientContext context;
    v1::DeleteVpcResponse response;
    EXPECT_ERROR(stub_->DeleteVpc(&context, v1::DeleteVpcRequest(), &response), INVALID_ARGUMENT,
                 "vpc is empty");
  }
  {
    grpc::ClientContext context;
    v1::DeleteVpcRequest request;
    request.set_vpc("vpc9");
    v1::DeleteVpcResponse response;
    EXPECT_ERROR(stub_->DeleteVpc(&context, request, &response), NOT_FOUND, "vpc vpc9");
  }
  {
    grpc::ClientContext context;
    v1::DeleteNetworkRequest request;
    request.set_vpc("vpc1");
    v1::DeleteNetworkResponse response;
    EXPECT_ERROR(stub_->DeleteNetwork(&context, request, &response), INVALID_ARGUMENT,
                 "network is empty");
  }
  {
    grpc::ClientContext context;
    v1::DeleteNetworkRequest request;
    request.set_vpc("vpc1");
    request.set_network("net9");
    v1::DeleteNetworkResponse response;
    EXPECT_ERROR(stub_->DeleteNetwork(&context, request, &response), NOT_FOUND, "network net9");
  }

  // SetCluster.
  v1::SetClusterRequest c = Cluster();
  c.clear_self();
  EXPECT_ERROR(SetCluster(c), INVALID_ARGUMENT, "self is empty");
  c = Cluster();
  c.set_self("gw7");
  EXPECT_ERROR(SetCluster(c), INVALID_ARGUMENT, "self: 'gw7'");
  c = Cluster();
  c.mutable_members(0)->clear_underlay_ip();
  EXPECT_ERROR(SetCluster(c), INVALID_ARGUMENT, "members[0].underlay_ip is empty");
  c = Cluster();
  c.set_cluster_id(0);
  EXPECT_ERROR(SetCluster(c), INVALID_ARGUMENT, "cluster_id");
  c.set_cluster_id(65536);
  EXPECT_ERROR(SetCluster(c), INVALID_ARGUMENT, "cluster_id: 65536");
  c = Cluster();
  c.mutable_members(0)->set_tunnel_ofport(59999);
  EXPECT_ERROR(SetCluster(c), INVALID_ARGUMENT, "members[0].tunnel_ofport: 59999");
  c = Cluster();
  c.mutable_hosts(1)->set_ovsdb("http://x");
  EXPECT_ERROR(SetCluster(c), INVALID_ARGUMENT, "ovsdb target 'http://x'");

  // AddVpc.
  v1::Vpc vpc2 = Vpc("vpc2", 200, "10.2.0.0/24");
  EXPECT_ERROR(AddVpc({Batch({Ep("ep05", "10.2.0.5", "host1", "vpc2")})}), INVALID_ARGUMENT,
               "AddVpcRequest[0]: the first message must carry the vpc");
  EXPECT_ERROR(AddVpc({VpcItem(vpc2), VpcItem(vpc2)}), INVALID_ARGUMENT, "AddVpcRequest[1].vpc");
  EXPECT_ERROR(AddVpc({VpcItem(vpc2), v1::AddVpcRequest()}), INVALID_ARGUMENT,
               "AddVpcRequest[1].item is not set");
  EXPECT_ERROR(AddVpc({}, nullptr, /*end=*/false), INVALID_ARGUMENT, "vpc is missing");
  v1::Vpc bad = vpc2;
  bad.clear_id();
  EXPECT_ERROR(AddVpc({VpcItem(bad)}), INVALID_ARGUMENT, "vpc.id is empty");
  bad = vpc2;
  bad.mutable_networks(0)->clear_ipv4_cidr();
  EXPECT_ERROR(AddVpc({VpcItem(bad)}), INVALID_ARGUMENT, "vpc.networks[0].ipv4_cidr is empty");
  bad = vpc2;
  bad.set_vni(100);
  EXPECT_ERROR(AddVpc({VpcItem(bad)}), ALREADY_EXISTS, "vni 100");
  EXPECT_ERROR(AddVpc({VpcItem(Vpc("vpc1", 300, "10.3.0.0/24"))}), ALREADY_EXISTS, "vpc vpc1");
  // An endpoint of another VPC in the stream.
  EXPECT_ERROR(AddVpc({VpcItem(vpc2), Batch({Ep("ep05", "10.0.0.5", "host1", "vpc1")})}),
               INVALID_ARGUMENT, "endpoints[0]: vpc 'vpc1'");

  // ListEndpoints.
  {
    grpc::ClientContext context;
    v1::ListEndpointsRequest request;
    request.set_vpc("vpc9");
    v1::ListEndpointsResponse response;
    EXPECT_ERROR(stub_->ListEndpoints(&context, request, &response), NOT_FOUND, "vpc vpc9");
  }

  // SetVpcStandby.
  EXPECT_ERROR(SetVpcStandby("", true), INVALID_ARGUMENT, "vpc is empty");
  EXPECT_ERROR(SetVpcStandby("vpc9", true), NOT_FOUND, "vpc vpc9");
  EXPECT_ERROR(SetVpcStandby("vpc9", false), NOT_FOUND, "vpc vpc9");

  using google::protobuf::util::MessageDifferencer;
  EXPECT_TRUE(MessageDifferencer::Equals(List(), list_before)) << List().DebugString();
  EXPECT_TRUE(MessageDifferencer::Equals(Stats(), stats_before)) << Stats().DebugString();
  EXPECT_TRUE(MessageDifferencer::Equals(Hosts(), hosts_before)) << Hosts().DebugString();
  EXPECT_EQ(Flows("host1"), flows_before);
}

// A standby VPC (Vpc.standby) is stored and programs no host until
// SetVpcStandby(false); SetVpcStandby(true) takes its rules off again; the
// same value twice sends nothing; DeleteVpc of a standby VPC sends nothing,
// and with keep_direct_paths no direct-path delete.
TEST_F(ServiceTest, AStandbyVpcProgramsNoHostUntilItIsServed) {
  Prepare();  // vpc1 served, ep01 on host1.
  BindPort("host1", "ep01", 1);
  BindPort("host1", "ep21", 2);
  BindPort("host2", "ep22", 1);
  const size_t host1_flows = Flows("host1");
  EXPECT_EQ(host1_flows, 2u + 3 + 4);  // Drops, vpc1, ep01.
  EXPECT_EQ(Flows("host2"), 0u);
  auto mark1 = Counters("host1");
  auto mark2 = Counters("host2");

  // vpc2 standby, with ep21 on host1 (beside vpc1) and ep22 on host2 (only
  // vpc2 there): stored, in the listings, and nothing sent to any host.
  v1::Vpc vpc2 = Vpc("vpc2", 200, "10.2.0.0/24");
  vpc2.set_standby(true);
  ASSERT_TRUE(AddVpc({VpcItem(vpc2), Batch({Ep("ep21", "10.2.0.21", "host1", "vpc2"),
                                            Ep("ep22", "10.2.0.22", "host2", "vpc2")})})
                  .ok());
  EXPECT_EQ(Stats().vpcs(), 2u);
  EXPECT_THAT(Keys("vpc2"), ElementsAre("ep21", "ep22"));
  EXPECT_TRUE(OnIo([&] { return gw_->db().FindVpc("vpc2")->standby; }));
  v1::UpdateEndpointResponse updated;
  ASSERT_TRUE(UpdateEndpoint(Ep("ep23", "10.2.0.23", "host2", "vpc2"), &updated).ok());
  EXPECT_EQ(updated.change(), v1::UpdateEndpointResponse::CREATED);
  EXPECT_FALSE(updated.online());
  EXPECT_EQ(Counters("host1").messages, mark1.messages);
  EXPECT_EQ(Counters("host2").messages, mark2.messages);
  EXPECT_EQ(Flows("host1"), host1_flows);
  EXPECT_EQ(Flows("host2"), 0u);
  EXPECT_EQ(Groups("host2"), 0u);

  // Served: each host gets vpc2's flows and its bound VMs' in one bundle
  // (host2 its group too).
  ASSERT_TRUE(SetVpcStandby("vpc2", false).ok());
  EXPECT_EQ(Flows("host1"), host1_flows + 3 + 4);
  EXPECT_EQ(Flows("host2"), 2u + 3 + 4);  // ep23's port is not bound: no VM rules.
  EXPECT_EQ(Groups("host2"), 1u);
  EXPECT_EQ(Counters("host1").bundle_commits, mark1.bundle_commits + 1);
  EXPECT_EQ(Counters("host2").bundle_commits, mark2.bundle_commits + 1);
  EXPECT_FALSE(OnIo([&] { return gw_->db().FindVpc("vpc2")->standby; }));

  // The same value again: nothing sent.
  mark1 = Counters("host1");
  mark2 = Counters("host2");
  ASSERT_TRUE(SetVpcStandby("vpc2", false).ok());
  EXPECT_EQ(Counters("host1").messages, mark1.messages);
  EXPECT_EQ(Counters("host2").messages, mark2.messages);

  // Standby again: its rules go, host2's group with them.
  ASSERT_TRUE(SetVpcStandby("vpc2", true).ok());
  EXPECT_EQ(Flows("host1"), host1_flows);
  EXPECT_EQ(Flows("host2"), 2u);  // The shared drops stay.
  EXPECT_EQ(Groups("host2"), 0u);
  EXPECT_EQ(Groups("host1"), 1u);  // vpc1 still holds it.

  // Deleting a standby VPC sends nothing.
  mark1 = Counters("host1");
  mark2 = Counters("host2");
  uint64_t invalidations = OnIo([&] { return gw_->counters().invalidations; });
  {
    grpc::ClientContext context;
    v1::DeleteVpcRequest request;
    request.set_vpc("vpc2");
    v1::DeleteVpcResponse response;
    ASSERT_TRUE(stub_->DeleteVpc(&context, request, &response).ok());
    EXPECT_EQ(response.endpoints(), 3u);
  }
  EXPECT_EQ(Counters("host1").messages, mark1.messages);
  EXPECT_EQ(Counters("host2").messages, mark2.messages);
  EXPECT_EQ(OnIo([&] { return gw_->counters().invalidations; }), invalidations);

  // A served VPC deleted with keep_direct_paths: its rules go, no direct
  // path delete is sent.
  {
    grpc::ClientContext context;
    v1::DeleteVpcRequest request;
    request.set_vpc("vpc1");
    request.set_keep_direct_paths(true);
    v1::DeleteVpcResponse response;
    ASSERT_TRUE(stub_->DeleteVpc(&context, request, &response).ok());
    EXPECT_EQ(response.endpoints(), 1u);
  }
  EXPECT_EQ(Flows("host1"), 2u);
  EXPECT_EQ(OnIo([&] { return gw_->counters().invalidations; }), invalidations);
}

TEST_F(ServiceTest, AddVpcIsAllOrNothingAcrossBatches) {
  ASSERT_TRUE(SetCluster(Cluster()).ok());
  // 3 batches of 100 endpoints.
  auto stream = [](int bad_at, const std::string& bad_ip) {
    std::vector<v1::AddVpcRequest> messages = {VpcItem(Vpc("vpc2", 200, "10.2.0.0/16"))};
    for (int b = 0; b < 3; ++b) {
      std::vector<v1::Endpoint> batch;
      for (int i = b * 100; i < (b + 1) * 100; ++i) {
        std::string ip = "10.2." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1);
        if (i == bad_at) ip = bad_ip;
        char key[16];
        std::snprintf(key, sizeof(key), "ep%03d", i + 1);
        v1::Endpoint e = Ep(key, ip, i % 2 ? "host2" : "host1", "vpc2");
        if (i % 3 == 0) e.clear_vpc();  // Implied by the stream.
        batch.push_back(e);
      }
      messages.push_back(Batch(batch));
    }
    return messages;
  };
  // A bad address in the third batch: checked before anything changes.
  EXPECT_ERROR(AddVpc(stream(250, "10.9.0.1")), INVALID_ARGUMENT,
               "endpoints[250]: endpoint ep251: ipv4 10.9.0.1 is outside network net1");
  EXPECT_EQ(Stats().vpcs(), 0u);
  EXPECT_EQ(Stats().endpoints(), 0u);
  // A duplicate address in the third batch: found while inserting, undone.
  EXPECT_ERROR(AddVpc(stream(250, "10.2.0.1")), ALREADY_EXISTS,
               "endpoints[250]: endpoint ep251: ipv4 10.2.0.1 is already used by endpoint ep001");
  EXPECT_EQ(Stats().vpcs(), 0u);
  EXPECT_EQ(Stats().endpoints(), 0u);
  {
    grpc::ClientContext context;
    v1::ListEndpointsRequest request;
    request.set_vpc("vpc2");
    v1::ListEndpointsResponse response;
    EXPECT_ERROR(stub_->ListEndpoints(&context, request, &response), NOT_FOUND, "vpc vpc2");
  }
  // The same stream without the bad endpoint goes in whole, and the hosts
  // get the VPC's rules.
  size_t host1_before = Flows("host1");
  v1::AddVpcResponse added;
  ASSERT_TRUE(AddVpc(stream(-1, ""), &added).ok());
  EXPECT_EQ(added.endpoints(), 300u);
  EXPECT_THAT(Keys("vpc2", "host1"), SizeIs(150));
  EXPECT_EQ(host1_before, 0u);  // Nothing said about host1 before: untouched.
  // Its first rules: the table-miss drops and the VPC's; no port bound yet.
  EXPECT_EQ(Flows("host1"), 2u + 3u);
}

TEST_F(ServiceTest, AddEndpointsStreamsBatchesIntoExistingVpcs) {
  Prepare();
  ASSERT_TRUE(AddVpc({VpcItem(Vpc("vpc2", 200, "10.2.0.0/24"))}).ok());
  EXPECT_EQ(Flows("host2"), 0u);  // Holds no VPC yet: untouched.
  BindPort("host1", "ep02", 6);   // Bound before it exists: online at once.
  v1::AddEndpointsResponse added;
  grpc::Status s =
      AddEndpoints({{Ep("ep02", "10.0.0.11", "host1"), Ep("ep03", "10.0.0.12", "host2")},
                    {Ep("ep04", "10.2.0.4", "host2", "vpc2")}},
                   &added);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(added.endpoints(), 3u);
  EXPECT_THAT(Keys(), ElementsAre("ep01", "ep02", "ep03", "ep04"));
  EXPECT_THAT(Keys("vpc2"), ElementsAre("ep04"));
  v1::ListEndpointsResponse list = List("", "host1");
  ASSERT_THAT(list.endpoints(), SizeIs(2));
  EXPECT_EQ(list.endpoints(1).endpoint().key(), "ep02");
  EXPECT_EQ(list.endpoints(1).ofport(), 6);
  EXPECT_TRUE(list.endpoints(1).online());
  // host2 now holds both VPCs: their rules (3 each), no VM rules (no port).
  EXPECT_EQ(Flows("host2"), 2u + 6u);  // With the table-miss drops.
  EXPECT_EQ(Stats().endpoints(), 4u);
}

TEST_F(ServiceTest, AddEndpointsIsAllOrNothingAndNamesTheEndpoint) {
  Prepare();
  v1::ListEndpointsResponse list_before = List();
  v1::GetStatsResponse stats_before = Stats();
  size_t host1_before = Flows("host1");
  size_t host2_before = Flows("host2");
  // Two good endpoints in the first batch, the bad one third (second batch).
  auto stream = [](const v1::Endpoint& third) {
    return std::vector<std::vector<v1::Endpoint>>{
        {Ep("ep02", "10.0.0.11", "host1"), Ep("ep03", "10.0.0.12", "host2")}, {third}};
  };
  // Malformed: refused by the service before the Gateway sees anything.
  v1::Endpoint e = Ep("ep04", "10.0.0.13", "host2");
  e.clear_mac();
  EXPECT_ERROR(AddEndpoints(stream(e)), INVALID_ARGUMENT, "endpoints[2].mac is empty");
  e = Ep("ep04", "10.0.0.13", "host2");
  e.clear_vpc();  // Unlike AddVpc's, this stream implies no VPC.
  EXPECT_ERROR(AddEndpoints(stream(e)), INVALID_ARGUMENT, "endpoints[2].vpc is empty");
  e = Ep("ep04", "10.0.0.13", "host2");
  e.clear_key();
  EXPECT_ERROR(AddEndpoints(stream(e)), INVALID_ARGUMENT, "endpoints[2].key is empty");
  // Refused by the DB, after the first two were checked.
  EXPECT_ERROR(AddEndpoints(stream(Ep("ep04", "10.0.9.9", "host2"))), INVALID_ARGUMENT,
               "endpoints[2]: endpoint ep04: ipv4 10.0.9.9 is outside network net1");
  EXPECT_ERROR(AddEndpoints(stream(Ep("ep04", "10.0.0.10", "host2"))), ALREADY_EXISTS,
               "endpoints[2]: endpoint ep04: ipv4 10.0.0.10 is already used by endpoint ep01");
  EXPECT_ERROR(AddEndpoints(stream(Ep("ep04", "10.0.0.11", "host2"))), ALREADY_EXISTS,
               "endpoints[2]: endpoint ep04: ipv4 10.0.0.11 is already used by endpoint ep02");
  EXPECT_ERROR(AddEndpoints(stream(Ep("ep01", "10.0.0.13", "host2"))), ALREADY_EXISTS,
               "endpoints[2]");
  EXPECT_ERROR(AddEndpoints(stream(Ep("ep04", "10.0.0.13", "host2", "vpc9"))), NOT_FOUND,
               "endpoints[2]");
  EXPECT_ERROR(AddEndpoints(stream(Ep("ep04", "10.0.0.13", "host9"))), NOT_FOUND, "endpoints[2]");

  using google::protobuf::util::MessageDifferencer;
  EXPECT_TRUE(MessageDifferencer::Equals(List(), list_before)) << List().DebugString();
  EXPECT_TRUE(MessageDifferencer::Equals(Stats(), stats_before)) << Stats().DebugString();
  EXPECT_EQ(Flows("host1"), host1_before);
  EXPECT_EQ(Flows("host2"), host2_before);
}

TEST_F(ServiceTest, AnAddEndpointsStreamWithoutEndpointsIsRefused) {
  Prepare();
  EXPECT_ERROR(AddEndpoints({}), INVALID_ARGUMENT, "without a batch marked last");
  EXPECT_ERROR(AddEndpoints({{}}), INVALID_ARGUMENT, "endpoints: the stream carried none");
  EXPECT_ERROR(AddEndpoints({{}, {}}), INVALID_ARGUMENT, "endpoints: the stream carried none");
  EXPECT_ERROR(AddEndpoints({{Ep("ep7", "10.0.0.7", "host1")}}, nullptr, /*end=*/false),
               INVALID_ARGUMENT, "without a batch marked last");
  EXPECT_EQ(Stats().endpoints(), 1u);
}

TEST_F(ServiceTest, ListPathsIsEmptyWithoutAHookAndReturnsTheHooksEntries) {
  EXPECT_THAT(Paths().paths(), SizeIs(0));
  OnIo([&] {
    service_->set_paths_hook([](v1::ListPathsResponse& paths) {
      auto* p = paths.add_paths();
      p->set_src_host("host1");
      p->set_dst_host("host2");
      p->set_vni(100);
      p->set_src_ip("10.0.0.10");
      p->set_dst_ip("10.0.0.11");
      p->set_setup_us(1234);
      p->set_unix_time_ms(1700000000000);
      p = paths.add_paths();
      p->set_src_host("host2");
      p->set_dst_host("host1");
      p->set_vni(100);
      p->set_error("UNAVAILABLE: host1 is not connected");
    });
    return 0;
  });
  v1::ListPathsResponse paths = Paths();
  ASSERT_THAT(paths.paths(), SizeIs(2));
  EXPECT_EQ(paths.paths(0).src_host(), "host1");
  EXPECT_EQ(paths.paths(0).dst_host(), "host2");
  EXPECT_EQ(paths.paths(0).vni(), 100u);
  EXPECT_EQ(paths.paths(0).src_ip(), "10.0.0.10");
  EXPECT_EQ(paths.paths(0).dst_ip(), "10.0.0.11");
  EXPECT_EQ(paths.paths(0).setup_us(), 1234);
  EXPECT_EQ(paths.paths(0).unix_time_ms(), 1700000000000);
  EXPECT_TRUE(paths.paths(0).error().empty());
  EXPECT_EQ(paths.paths(1).error(), "UNAVAILABLE: host1 is not connected");
  // Each call asks the hook again: nothing accumulates.
  EXPECT_THAT(Paths().paths(), SizeIs(2));
}

TEST_F(ServiceTest, GetStatsCarriesWhatTheHookFills) {
  Prepare();
  OnIo([&] {
    service_->set_stats_hook([](v1::GetStatsResponse& stats) {
      stats.set_setup_failures(2);
      stats.set_unknown_source(3);
      stats.set_malformed_packet_ins(4);
      stats.set_setup_p50_us(1500);
      stats.set_setup_p99_us(98000);
      stats.set_bridge_flows(7);
      stats.set_bridge_in_sync(true);
      stats.set_invalidations(5);
    });
    return 0;
  });
  v1::GetStatsResponse stats = Stats();
  // The Gateway's own figures, then the hook's.
  EXPECT_EQ(stats.vpcs(), 1u);
  EXPECT_EQ(stats.endpoints(), 1u);
  EXPECT_EQ(stats.setup_failures(), 2u);
  EXPECT_EQ(stats.unknown_source(), 3u);
  EXPECT_EQ(stats.malformed_packet_ins(), 4u);
  EXPECT_EQ(stats.setup_p50_us(), 1500);
  EXPECT_EQ(stats.setup_p99_us(), 98000);
  EXPECT_EQ(stats.bridge_flows(), 7u);
  EXPECT_TRUE(stats.bridge_in_sync());
  EXPECT_EQ(stats.invalidations(), 5u);
  EXPECT_EQ(stats.packet_ins(), 0u);  // The fixture's hook was replaced.
  // Without a hook: the Gateway's figures alone.
  OnIo([&] {
    service_->set_stats_hook(nullptr);
    return 0;
  });
  stats = Stats();
  EXPECT_EQ(stats.endpoints(), 1u);
  EXPECT_EQ(stats.setup_p50_us(), 0);
  EXPECT_FALSE(stats.bridge_in_sync());
}

class BoundedServiceTest : public ServiceTest {
 protected:
  GatewayService::Options ServiceOptions() override {
    GatewayService::Options o;
    o.max_vpc_endpoints = 10;
    o.default_deadline_ms = 200;
    return o;
  }
};

TEST_F(BoundedServiceTest, AnAddVpcStreamBeyondTheBoundIsRefused) {
  ASSERT_TRUE(SetCluster(Cluster()).ok());
  std::vector<v1::Endpoint> batch;
  for (int i = 1; i <= 6; ++i) {
    batch.push_back(Ep("ep0" + std::to_string(i), "10.0.0." + std::to_string(i), "host1"));
  }
  std::vector<v1::Endpoint> batch2;
  for (int i = 7; i <= 11; ++i) {
    batch2.push_back(Ep("ep" + std::to_string(10 + i), "10.0.0." + std::to_string(i), "host1"));
  }
  EXPECT_ERROR(AddVpc({VpcItem(Vpc("vpc1", 100, "10.0.0.0/24")), Batch(batch), Batch(batch2)}),
               RESOURCE_EXHAUSTED, "more than 10");
  EXPECT_EQ(Stats().vpcs(), 0u);
}

TEST_F(BoundedServiceTest, ACallTheGatewayDoesNotCompleteInTimeIsDeadlineExceeded) {
  // The io thread is held busy, as by a long call: the RPC gives up at the
  // service's default deadline (the client set none), and the call itself
  // completes later without harm.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  asio::post(io_, [released] { released.wait(); });
  grpc::ClientContext context;
  v1::GetStatsResponse response;
  EXPECT_ERROR(stub_->GetStats(&context, v1::GetStatsRequest(), &response), DEADLINE_EXCEEDED,
               "did not complete");
  release.set_value();
  EXPECT_EQ(Stats().packet_ins(), 42u);
}

// The same bound, with the default deadline (the Gateway's work is not
// raced against a short one).
class SmallStreamServiceTest : public ServiceTest {
 protected:
  GatewayService::Options ServiceOptions() override {
    GatewayService::Options o;
    o.max_vpc_endpoints = 10;
    return o;
  }
};

TEST_F(SmallStreamServiceTest, AnAddEndpointsStreamBeyondTheBoundIsRefused) {
  Prepare();
  std::vector<v1::Endpoint> batch, batch2;
  for (int i = 11; i <= 16; ++i)
    batch.push_back(Ep("ep" + std::to_string(i), "10.0.0." + std::to_string(i), "host1"));
  for (int i = 17; i <= 21; ++i)
    batch2.push_back(Ep("ep" + std::to_string(i), "10.0.0." + std::to_string(i), "host1"));
  EXPECT_ERROR(AddEndpoints({batch, batch2}), RESOURCE_EXHAUSTED,
               "more than 10 in one AddEndpoints stream");
  EXPECT_EQ(Stats().endpoints(), 1u);
  // Exactly at the bound: accepted.
  batch2.pop_back();
  ASSERT_TRUE(AddEndpoints({batch, batch2}).ok());
  EXPECT_EQ(Stats().endpoints(), 11u);
}

}  // namespace
}  // namespace shortcut::gateway
