// Views and paging (views.h): output-only fields computed from the state,
// keys sorted, tokens that continue after the last key whatever changed.
#include "src/manager/views.h"

#include <gtest/gtest.h>

#include "tests/manager/nb_state_builder.h"

namespace shortcut::manager {
namespace {

NbState Sample() {
  testing::NbStateBuilder b;
  b.Host("h1", "172.31.1.1").Host("h2", "172.31.1.2");
  b.Gateway("g1", "172.31.2.1", 100, 1, 60001).Gateway("g2", "172.31.2.2", 30, 1, 60002);
  b.Cluster(1).Cluster(2);
  b.Vpc("blue", 100, 1).Network("blue", "web", "10.0.0.0/24", "");
  b.Vpc("red", 200, 2).Network("red", "web", "10.0.0.0/24", "");
  b.Endpoint("e3", "blue", "web", "10.0.0.3", "02:00:00:00:00:03", "h1");
  b.Endpoint("e1", "red", "web", "10.0.0.1", "02:00:00:00:00:01", "h1");
  b.Endpoint("e2", "blue", "web", "10.0.0.2", "02:00:00:00:00:02", "h2");
  b.Endpoint("e5", "red", "web", "10.0.0.5", "02:00:00:00:00:05", "h2");
  b.Endpoint("e4", "blue", "web", "10.0.0.4", "02:00:00:00:00:04", "h1");
  return b.Build();
}

TEST(Views, ComputedFields) {
  NbState s = Sample();
  v1::Host h1 = HostView(s, s.hosts.at("h1"));
  EXPECT_EQ(h1.endpoints(), 3u);
  ASSERT_EQ(h1.clusters_size(), 2);
  EXPECT_EQ(h1.clusters(0), 1u);
  EXPECT_EQ(h1.clusters(1), 2u);
  v1::Cluster c1 = ClusterView(s, 1);
  EXPECT_EQ(c1.capacity(), 130u);
  EXPECT_EQ(c1.load(), 3u);
  ASSERT_EQ(c1.members_size(), 2);
  EXPECT_EQ(c1.members(0), "g1");
  ASSERT_EQ(c1.vpcs_size(), 1);
  EXPECT_EQ(c1.vpcs(0), "blue");
  v1::Vpc blue = VpcView(s, s.vpcs.at("blue"));
  EXPECT_EQ(blue.endpoints(), 3u);
  ASSERT_EQ(blue.networks_size(), 1);
  EXPECT_EQ(blue.networks(0).ipv4_cidr(), "10.0.0.0/24");
}

TEST(Views, TokensRoundTripAndRejectGarbage) {
  EXPECT_EQ(*ParsePageToken(PageToken("a/b c")), "a/b c");
  EXPECT_EQ(*ParsePageToken(""), "");
  EXPECT_EQ(ParsePageToken("!!!").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Views, EndpointPagesMergeVpcsInKeyOrder) {
  NbState s = Sample();
  Page p1 = EndpointPage(s, "", "", "", 2);
  EXPECT_EQ(p1.keys, (std::vector<std::string>{"e1", "e2"}));
  ASSERT_FALSE(p1.next_token.empty());
  std::string after = *ParsePageToken(p1.next_token);
  EXPECT_EQ(after, "e2");
  Page p2 = EndpointPage(s, "", "", after, 2);
  EXPECT_EQ(p2.keys, (std::vector<std::string>{"e3", "e4"}));
  Page p3 = EndpointPage(s, "", "", *ParsePageToken(p2.next_token), 2);
  EXPECT_EQ(p3.keys, (std::vector<std::string>{"e5"}));
  EXPECT_TRUE(p3.next_token.empty());
}

TEST(Views, EndpointPagesWithFilters) {
  NbState s = Sample();
  EXPECT_EQ(EndpointPage(s, "blue", "", "", 10).keys, (std::vector<std::string>{"e2", "e3", "e4"}));
  EXPECT_EQ(EndpointPage(s, "", "h2", "", 10).keys, (std::vector<std::string>{"e2", "e5"}));
  EXPECT_EQ(EndpointPage(s, "blue", "h1", "e3", 10).keys, (std::vector<std::string>{"e4"}));
  EXPECT_TRUE(EndpointPage(s, "nope", "", "", 10).keys.empty());
}

TEST(Views, PagesAreStableUnderInserts) {
  std::vector<std::string> keys = {"a", "c", "e"};
  Page p1 = TakePage(keys, "", 2);
  EXPECT_EQ(p1.keys, (std::vector<std::string>{"a", "c"}));
  keys = {"a", "b", "c", "d", "e"};  // b and d inserted between the pages.
  Page p2 = TakePage(keys, *ParsePageToken(p1.next_token), 2);
  EXPECT_EQ(p2.keys, (std::vector<std::string>{"d", "e"}));
  EXPECT_TRUE(p2.next_token.empty());
}

TEST(Views, ClusterKeysSortAsNumbers) {
  EXPECT_LT(ClusterKey(9), ClusterKey(10));
  EXPECT_EQ(ClusterKey(65535), "65535");
}

}  // namespace
}  // namespace shortcut::manager
