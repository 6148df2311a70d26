// Dynamic addresses (address_alloc.h) on hand-built states. Expected
// addresses are written out by hand, not computed with the module's
// functions.
#include "src/manager/address_alloc.h"

#include <gtest/gtest.h>

#include "tests/manager/nb_state_builder.h"

namespace shortcut::manager {
namespace {

model::Endpoint Request(const std::string& key, const std::string& network = "web") {
  model::Endpoint e;
  e.key = key;
  e.vpc = "blue";
  e.network = network;
  e.host = "h1";
  e.iface_id = key;
  return e;
}

testing::NbStateBuilder Blue() {
  testing::NbStateBuilder b;
  b.Host("h1", "172.31.1.1").Cluster(1).Vpc("blue", 100, 1).Vpc("red", 200, 1);
  b.Network("blue", "web", "10.0.0.0/29", "").Network("red", "web", "10.0.0.0/29", "");
  b.Network("blue", "p2p", "10.9.0.0/31", "").Network("blue", "one", "10.8.0.7/32", "");
  return b;
}

TEST(AddressAlloc, LowestFreeAfterNetworkAndRouterWithMacFromIt) {
  NbState s = Blue().Build();
  model::Endpoint e = Request("c1");
  ASSERT_TRUE(AllocateAddresses(s, {}, "endpoint", e).ok());
  EXPECT_EQ(e.ipv4, "10.0.0.2");
  EXPECT_EQ(e.mac, "0a:58:0a:00:00:02");
}

TEST(AddressAlloc, SkipsUsedInFlightAndExplicitlyTakenMacs) {
  testing::NbStateBuilder b = Blue();
  b.Endpoint("x", "blue", "web", "10.0.0.2", "02:00:00:00:00:02", "h1");
  // 10.0.0.3 is free but its derived MAC is taken by an explicit one.
  b.Endpoint("y", "blue", "web", "10.0.0.5", "0a:58:0a:00:00:03", "h1");
  // Same addresses in another VPC do not count.
  b.Endpoint("z", "red", "web", "10.0.0.4", "0a:58:0a:00:00:04", "h1");
  NbState s = b.Build();
  InFlightAddresses in_flight;
  model::Endpoint pending = Request("p");
  pending.ipv4 = "10.0.0.4";
  pending.mac = "0a:58:0a:00:00:04";
  in_flight.Add(pending);
  model::Endpoint e = Request("c1");
  ASSERT_TRUE(AllocateAddresses(s, in_flight, "endpoint", e).ok());
  EXPECT_EQ(e.ipv4, "10.0.0.6");
  EXPECT_EQ(e.mac, "0a:58:0a:00:00:06");
  in_flight.Remove(pending);
  model::Endpoint f = Request("c2");
  ASSERT_TRUE(AllocateAddresses(s, in_flight, "endpoint", f).ok());
  EXPECT_EQ(f.ipv4, "10.0.0.4");
}

TEST(AddressAlloc, FullNetworkIsResourceExhaustedNamingIt) {
  testing::NbStateBuilder b = Blue();
  // /29: .2 to .6 usable (.0 network, .1 router, .7 broadcast).
  for (int i = 2; i <= 6; ++i) {
    b.Endpoint("e" + std::to_string(i), "blue", "web", "10.0.0." + std::to_string(i),
               "02:00:00:00:00:0" + std::to_string(i), "h1");
  }
  NbState s = b.Build();
  model::Endpoint e = Request("c1");
  absl::Status status = AllocateAddresses(s, {}, "endpoint", e);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(),
            "endpoint.ipv4: network web (10.0.0.0/29) of VPC blue has no free address left");
  EXPECT_EQ(e.ipv4, "");
}

TEST(AddressAlloc, TinyNetworksGiveEveryAddress) {
  NbState s = Blue().Build();
  model::Endpoint a = Request("a", "p2p");
  ASSERT_TRUE(AllocateAddresses(s, {}, "endpoint", a).ok());
  EXPECT_EQ(a.ipv4, "10.9.0.0");
  model::Endpoint one = Request("o", "one");
  ASSERT_TRUE(AllocateAddresses(s, {}, "endpoint", one).ok());
  EXPECT_EQ(one.ipv4, "10.8.0.7");
}

TEST(AddressAlloc, GivenAddressOnlyTheMacIsDerived) {
  NbState s = Blue().Build();
  model::Endpoint e = Request("c1");
  e.ipv4 = "10.0.0.200";  // Outside the network: the creation's check says so.
  ASSERT_TRUE(AllocateAddresses(s, {}, "endpoint", e).ok());
  EXPECT_EQ(e.ipv4, "10.0.0.200");
  EXPECT_EQ(e.mac, "0a:58:0a:00:00:c8");
  model::Endpoint g = Request("c2");
  g.mac = "02:aa:00:00:00:01";
  ASSERT_TRUE(AllocateAddresses(s, {}, "endpoint", g).ok());
  EXPECT_EQ(g.ipv4, "10.0.0.2");
  EXPECT_EQ(g.mac, "02:aa:00:00:00:01");
}

TEST(AddressAlloc, RetryTakesTheFirstCallsAddresses) {
  testing::NbStateBuilder b = Blue();
  b.Endpoint("c1", "blue", "web", "10.0.0.5", "0a:58:0a:00:00:05", "h1");
  NbState s = b.Build();
  model::Endpoint e = Request("c1");
  ASSERT_TRUE(AllocateAddresses(s, {}, "endpoint", e).ok());
  EXPECT_EQ(e.ipv4, "10.0.0.5");
  EXPECT_EQ(e.mac, "0a:58:0a:00:00:05");
}

TEST(AddressAlloc, UnknownNetworkLeftToTheCreationsCheck) {
  NbState s = Blue().Build();
  model::Endpoint e = Request("c1", "nosuch");
  ASSERT_TRUE(AllocateAddresses(s, {}, "endpoint", e).ok());
  EXPECT_EQ(e.ipv4, "");
}

}  // namespace
}  // namespace shortcut::manager
