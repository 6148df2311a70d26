// The desired content of each gateway, written out by hand for a state of
// two clusters: each gateway sees its cluster's members, every host, and
// only its cluster's VPCs.
#include "src/manager/gateway_content.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/manager/memory_store.h"
#include "tests/manager/test_state.h"

namespace shortcut::manager {
namespace {

using google::protobuf::util::MessageDifferencer;

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

template <typename T>
::testing::AssertionResult Same(const T& expected, const T& actual) {
  std::string diff;
  MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  if (d.Compare(expected, actual)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << diff << "actual: " << actual.ShortDebugString();
}

class GatewayContentTest : public ::testing::Test {
 protected:
  GatewayContentTest() : store_(io_.get_executor()) { testing::FillSmallState(store_); }
  const NbState& state() const { return store_.state(); }
  asio::io_context io_;
  testing::MemoryStore store_;
};

constexpr char kHosts[] = R"(
  hosts { name: "h1" underlay_ip: "172.31.1.1" openflow: "tcp:172.31.1.1:6653"
          ovsdb: "tcp:172.31.1.1:6640" }
  hosts { name: "h2" underlay_ip: "172.31.1.2" openflow: "tcp:172.31.1.2:6653"
          ovsdb: "tcp:172.31.1.2:6640" })";

TEST_F(GatewayContentTest, AGatewayOfClusterOneSeesItsMembersEveryHostAndOnlyBlue) {
  auto content = DesiredContent(state(), "gw-b");
  ASSERT_TRUE(content.has_value());
  EXPECT_TRUE(Same(Parse<gwv1::SetClusterRequest>(std::string(R"(
      cluster_id: 1 self: "gw-b"
      members { name: "gw-a" underlay_ip: "172.31.2.1" tunnel_ofport: 60001 }
      members { name: "gw-b" underlay_ip: "172.31.2.2" tunnel_ofport: 60002 })") +
                                                  kHosts),
                   content->cluster));
  ASSERT_EQ(content->vpcs.size(), 1u);
  const VpcContent& blue = content->vpcs.at("blue");
  EXPECT_TRUE(Same(Parse<gwv1::Vpc>(R"(
      id: "blue" vni: 100 router_mac: "02:00:00:00:01:00"
      networks { id: "web" ipv4_cidr: "10.0.0.0/24" })"),
                   blue.vpc));
  ASSERT_EQ(blue.endpoints.size(), 2u);
  EXPECT_TRUE(Same(Parse<gwv1::Endpoint>(R"(
      key: "b1" vpc: "blue" network: "web" ipv4: "10.0.0.1" mac: "02:00:00:00:00:01"
      host: "h1" iface_id: "iface-b1")"),
                   blue.endpoints[0]));
  EXPECT_TRUE(Same(Parse<gwv1::Endpoint>(R"(
      key: "b2" vpc: "blue" network: "web" ipv4: "10.0.0.2" mac: "02:00:00:00:00:02"
      host: "h2" iface_id: "iface-b2")"),
                   blue.endpoints[1]));
}

TEST_F(GatewayContentTest, TheGatewayOfClusterTwoSeesOnlyRed) {
  auto content = DesiredContent(state(), "gw-c");
  ASSERT_TRUE(content.has_value());
  EXPECT_TRUE(Same(Parse<gwv1::SetClusterRequest>(std::string(R"(
      cluster_id: 2 self: "gw-c"
      members { name: "gw-c" underlay_ip: "172.31.2.3" tunnel_ofport: 60003 })") +
                                                  kHosts),
                   content->cluster));
  ASSERT_EQ(content->vpcs.size(), 1u);
  const VpcContent& red = content->vpcs.at("red");
  EXPECT_TRUE(Same(Parse<gwv1::Vpc>(R"(
      id: "red" vni: 200 router_mac: "02:00:00:00:02:00"
      networks { id: "db" ipv4_cidr: "10.1.0.0/24" ipv6_cidr: "fd00::/64" })"),
                   red.vpc));
  ASSERT_EQ(red.endpoints.size(), 1u);
  EXPECT_TRUE(Same(Parse<gwv1::Endpoint>(R"(
      key: "r1" vpc: "red" network: "db" ipv4: "10.1.0.1" mac: "02:00:00:00:00:03"
      host: "h2" iface_id: "iface-r1")"),
                   red.endpoints[0]));
}

TEST_F(GatewayContentTest, ASpareOrUnknownGatewayHasNoContent) {
  store_.PutGateway(testing::Gateway("spare", "172.31.2.9", 0, 60009));
  EXPECT_FALSE(DesiredContent(state(), "spare").has_value());
  EXPECT_FALSE(DesiredContent(state(), "nobody").has_value());
  EXPECT_FALSE(DesiredVpc(state(), "nope").has_value());
  EXPECT_TRUE(VpcsOfCluster(state(), 0).empty());
}

TEST_F(GatewayContentTest, NetworksAndEndpointsAreSortedWhateverTheInsertOrder) {
  store_.PutNetwork(NetworkRow{"blue", {"app", "10.0.1.0/24", ""}});
  store_.PutEndpoint(testing::Ep("a0", "blue", "app", "10.0.1.5", "h2", 9));
  auto blue = DesiredVpc(state(), "blue");
  ASSERT_TRUE(blue.has_value());
  ASSERT_EQ(blue->vpc.networks_size(), 2);
  EXPECT_EQ(blue->vpc.networks(0).id(), "app");
  EXPECT_EQ(blue->vpc.networks(1).id(), "web");
  ASSERT_EQ(blue->endpoints.size(), 3u);
  EXPECT_EQ(blue->endpoints[0].key(), "a0");
  EXPECT_EQ(blue->endpoints[2].key(), "b2");
  // The red VPC's network does not leak into blue, nor blue's into red.
  EXPECT_EQ(DesiredVpc(state(), "red")->vpc.networks_size(), 1);
}

// Only serving members take traffic: a joining (loading or failed) or a
// draining member is sent as standby, to itself and to the others alike.
TEST_F(GatewayContentTest, AVpcMovingIsHeldByBothClustersStandbyInTheNewOneUntilItSwitches) {
  VpcRow blue = state().vpcs.at("blue");
  blue.moving_to = 2;
  blue.move_phase = MovePhase::kLoading;
  store_.PutVpc(blue);
  auto c = DesiredContent(state(), "gw-c");  // Cluster 2.
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->vpcs.size(), 2u);
  ASSERT_TRUE(c->vpcs.contains("blue"));
  EXPECT_TRUE(c->vpcs.at("blue").vpc.standby());
  EXPECT_EQ(c->vpcs.at("blue").endpoints.size(), 2u);
  EXPECT_FALSE(c->vpcs.at("red").vpc.standby());
  auto a = DesiredContent(state(), "gw-a");  // Cluster 1 serves it meanwhile.
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(a->vpcs.contains("blue"));
  EXPECT_FALSE(a->vpcs.at("blue").vpc.standby());

  blue.move_phase = MovePhase::kSwitching;
  store_.PutVpc(blue);
  EXPECT_FALSE(DesiredContent(state(), "gw-c")->vpcs.at("blue").vpc.standby());
  EXPECT_TRUE(DesiredContent(state(), "gw-a")->vpcs.contains("blue"));

  blue.cluster_id = 2;  // Done.
  blue.moving_to = 0;
  blue.move_phase = MovePhase::kNone;
  store_.PutVpc(blue);
  EXPECT_FALSE(DesiredContent(state(), "gw-a")->vpcs.contains("blue"));
  EXPECT_FALSE(DesiredContent(state(), "gw-c")->vpcs.at("blue").vpc.standby());
}

TEST_F(GatewayContentTest, MembersThatAreNotServingAreStandby) {
  GatewayRow a = state().gateways.at("gw-a");
  a.role = GatewayRole::kJoining;
  store_.PutGateway(a);
  GatewayRow b = state().gateways.at("gw-b");
  b.role = GatewayRole::kDraining;
  store_.PutGateway(b);
  for (const char* self : {"gw-a", "gw-b"}) {
    EXPECT_TRUE(Same(Parse<gwv1::SetClusterRequest>(absl::StrCat(R"(
        cluster_id: 1 self: ")",
                                                                 self, R"("
        members { name: "gw-a" underlay_ip: "172.31.2.1" tunnel_ofport: 60001 standby: true }
        members { name: "gw-b" underlay_ip: "172.31.2.2" tunnel_ofport: 60002 standby: true })",
                                                                 kHosts)),
                     DesiredCluster(state(), 1, self)))
        << self;
  }
  b.role = GatewayRole::kServing;
  store_.PutGateway(b);
  EXPECT_FALSE(DesiredCluster(state(), 1, "gw-a").members(1).standby());
  EXPECT_TRUE(DesiredCluster(state(), 1, "gw-a").members(0).standby());
}

}  // namespace
}  // namespace shortcut::manager
