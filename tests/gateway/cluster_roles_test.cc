// Serving and standby members (GatewayMember.standby): designation and the
// hosts' buckets are over serving members only, tunnel ports over all of
// them, with ofports that do not move when a member changes role; a standby
// self loads its state but programs no host; a change of members reaches
// only the hosts that hold the cluster's VPCs, each with its group
// rewritten in one bundle; a gateway no longer designated for a host lets
// go of it. One Gateway object per member, against simulated hosts.
#include <algorithm>
#include <asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/gateway/gateway.h"
#include "tests/fakes/fake_switch.h"
#include "tests/fakes/ofp_peer.h"
#include "tests/gateway/sim_hosts.h"
#include "tests/support/co_assert.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {
namespace {

using ::shortcut::testing::RunCoroutine;
using ::testing::ElementsAre;

ClusterMember Member(const std::string& name, const std::string& ip, bool standby,
                     uint32_t ofport = 0) {
  ClusterMember m;
  m.name = name;
  m.underlay_ipv4 = ip;
  m.tunnel_ofport = ofport;
  m.standby = standby;
  return m;
}

TEST(ClusterRolesTest, OnlyServingMembersAreDesignated) {
  std::vector<ClusterMember> members = {Member("gw1", "172.31.2.1", false),
                                        Member("gw2", "172.31.2.2", false),
                                        Member("gw3", "172.31.2.3", true)};
  // A standby member is as good as absent.
  std::vector<ClusterMember> without_gw3 = {members[0], members[1]};
  std::map<std::string, int> count;
  for (int i = 0; i < 200; ++i) {
    std::string host = "host" + std::to_string(i);
    std::string d = DesignatedMember(host, members);
    EXPECT_TRUE(d == "gw1" || d == "gw2") << host << ": " << d;
    EXPECT_EQ(d, DesignatedMember(host, without_gw3)) << host;
    ++count[d];
  }
  EXPECT_GT(count["gw1"], 50);
  EXPECT_GT(count["gw2"], 50);

  // gw3 turns serving: the hosts that move, move to gw3 only, and some do.
  std::vector<ClusterMember> all_serving = members;
  all_serving[2].standby = false;
  int to_gw3 = 0;
  for (int i = 0; i < 200; ++i) {
    std::string host = "host" + std::to_string(i);
    std::string before = DesignatedMember(host, members);
    std::string after = DesignatedMember(host, all_serving);
    if (after != before) {
      EXPECT_EQ(after, "gw3") << host;
      ++to_gw3;
    }
  }
  EXPECT_GT(to_gw3, 30);

  // gw1 turns standby: only its hosts move.
  std::vector<ClusterMember> gw1_standby = all_serving;
  gw1_standby[0].standby = true;
  for (int i = 0; i < 200; ++i) {
    std::string host = "host" + std::to_string(i);
    std::string before = DesignatedMember(host, all_serving);
    std::string after = DesignatedMember(host, gw1_standby);
    EXPECT_NE(after, "gw1") << host;
    if (before != "gw1") {
      EXPECT_EQ(after, before) << host;
    }
  }

  // Nobody serves: nobody is designated.
  std::vector<ClusterMember> none = members;
  for (ClusterMember& m : none) m.standby = true;
  EXPECT_EQ(DesignatedMember("host1", none), "");
}

TEST(ClusterRolesTest, BucketsAreTheServingMembersTunnelPortsAreAllOfThem) {
  // Out of name order on purpose; no ofport given: 60001 + i over all
  // members in name order, whatever their role.
  std::vector<ClusterMember> members = {Member("gw3", "172.31.2.3", false),
                                        Member("gw1", "172.31.2.1", false),
                                        Member("gw2", "172.31.2.2", true)};
  EXPECT_THAT(MemberOfports(members), ElementsAre(60001u, 60002u, 60003u));
  EXPECT_THAT(BucketOfports(members), ElementsAre(60001u, 60003u));
  auto ports = TunnelPortsOnHost(members);
  ASSERT_TRUE(ports.ok()) << ports.status();
  ASSERT_EQ(ports->size(), 3u);  // The standby member's too.
  EXPECT_EQ((*ports)[0], (host::TunnelPort{"sc-ac1f0201", "172.31.2.1", 60001}));
  EXPECT_EQ((*ports)[1], (host::TunnelPort{"sc-ac1f0202", "172.31.2.2", 60002}));
  EXPECT_EQ((*ports)[2], (host::TunnelPort{"sc-ac1f0203", "172.31.2.3", 60003}));

  // Roles change (gw2 serves, gw3 stands by): the buckets follow, no port
  // moves.
  members[2].standby = false;
  members[0].standby = true;
  EXPECT_THAT(MemberOfports(members), ElementsAre(60001u, 60002u, 60003u));
  EXPECT_THAT(BucketOfports(members), ElementsAre(60001u, 60002u));
  auto again = TunnelPortsOnHost(members);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *ports);

  // Ofports assigned by the management plane: the same rule.
  std::vector<ClusterMember> assigned = {Member("gw1", "172.31.2.1", true, 60107),
                                         Member("gw2", "172.31.2.2", false, 60102)};
  EXPECT_THAT(MemberOfports(assigned), ElementsAre(60107u, 60102u));
  EXPECT_THAT(BucketOfports(assigned), ElementsAre(60102u));
  // Nobody serves: no bucket.
  assigned[1].standby = true;
  EXPECT_TRUE(BucketOfports(assigned).empty());
}

TEST(ClusterRolesTest, AnyMixOfServingAndStandbyIsAccepted) {
  ClusterConfig c;
  c.cluster_id = 4;
  c.self = "gw1";
  c.members = {Member("gw1", "172.31.2.1", true), Member("gw2", "172.31.2.2", false)};
  EXPECT_TRUE(CheckClusterConfig(c).ok());  // Self standing by.
  c.members[1].standby = true;
  EXPECT_TRUE(CheckClusterConfig(c).ok());  // Nobody serving.
  c.members[0].standby = c.members[1].standby = false;
  EXPECT_TRUE(CheckClusterConfig(c).ok());
}

// Three simulated hosts; one Gateway per member, each with its own self.
class ClusterRolesGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimHosts hosts;
    absl::Status started = hosts.Start(io_.get_executor(), dir_, {"host1", "host2", "host3"});
    ASSERT_TRUE(started.ok()) << started;
    targets_ = std::move(hosts.targets);
    switches_ = std::move(hosts.switches);
    for (const char* name : {"gw1", "gw2", "gw3"}) {
      gateways_[name] = std::make_unique<Gateway>(io_.get_executor(), TestGatewayOptions());
    }
  }
  // Members gw1..gw3 (60001..60003), those in `standby` standing by.
  ClusterConfig Cluster(const std::string& self, const std::vector<std::string>& standby) {
    ClusterConfig c;
    c.cluster_id = 5;
    c.self = self;
    for (int i = 1; i <= 3; ++i) {
      std::string name = "gw" + std::to_string(i);
      bool sb = std::find(standby.begin(), standby.end(), name) != standby.end();
      c.members.push_back(Member(name, "172.31.2." + std::to_string(i), sb));
    }
    for (int i = 1; i <= 3; ++i) {
      std::string name = "host" + std::to_string(i);
      c.hosts.push_back({name, "172.31.1." + std::to_string(i), targets_[name], ""});
    }
    return c;
  }
  // The same cluster to every gateway, one after the other.
  asio::awaitable<absl::Status> SetClusterAll(std::vector<std::string> standby) {
    for (auto& [name, gw] : gateways_) {
      ClusterConfig c = Cluster(name, standby);
      absl::Status s = co_await gw->SetCluster(std::move(c));
      if (!s.ok()) co_return s;
    }
    co_return absl::OkStatus();
  }
  static Endpoint Ep(const std::string& key, const std::string& ip, const std::string& host) {
    return {key, "vpc1", "net1", ip, "", "02:00:00:00:00:" + key.substr(key.size() - 2), host, key};
  }
  absl::Status AddVpc(Gateway& gw) {
    Vpc vpc{"vpc1", 100, "02:5c:00:00:00:01"};
    std::vector<Network> networks = {{"net1", "10.0.0.0/24", ""}};
    return gw.AddVpc(vpc, networks);
  }
  // An endpoint to every gateway, as the management plane sends it, its
  // port bound first; how many of them said it is online.
  asio::awaitable<int> UpdateAll(Endpoint e, uint32_t ofport) {
    int online = 0;
    for (auto& [name, gw] : gateways_) {
      absl::Status bound = co_await gw->BindPort(e.host, e.iface_id, ofport);
      EXPECT_TRUE(bound.ok()) << name << ": " << bound;
      auto r = co_await gw->UpdateEndpoint(e);
      EXPECT_TRUE(r.ok()) << name << ": " << r.status();
      if (r.ok() && r->online) ++online;
    }
    co_return online;
  }
  // The watch ports of the cluster's group on `host` (empty: no group).
  std::vector<uint32_t> Buckets(const std::string& host) {
    std::vector<uint32_t> ports;
    for (const of::GroupDesc& g : switches_[host]->Groups()) {
      if (g.group_id != 5) continue;
      for (const of::Bucket& b : g.buckets) ports.push_back(b.watch_port);
    }
    return ports;
  }
  // Messages that change a switch: flow_mods, group_mods, bundle adds.
  uint64_t Changes(const std::string& host) {
    const fakes::FakeSwitch::Counters& c = switches_[host]->counters();
    return c.flow_mods + c.group_mods + c.meter_mods + c.bundle_adds + c.bundle_commits;
  }

  asio::io_context io_;
  testing::TempDir dir_{"shortcut-roles"};
  std::map<std::string, std::string> targets_;
  std::map<std::string, std::unique_ptr<fakes::FakeSwitch>> switches_;
  std::map<std::string, std::unique_ptr<Gateway>> gateways_;  // By member name.
};

TEST_F(ClusterRolesGatewayTest, AStandbySelfLoadsItsStateButProgramsNoHost) {
  // Built outside the coroutine (g++ 12 and braced initialisers).
  const ClusterConfig standing_by = Cluster("gw1", {"gw1", "gw3"});
  const ClusterConfig serving = Cluster("gw1", {"gw2", "gw3"});
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    Gateway& gw1 = *gateways_["gw1"];
    ClusterConfig c = standing_by;
    CO_ASSERT_OK(co_await gw1.SetCluster(std::move(c)));
    CO_ASSERT_OK(AddVpc(gw1));
    CO_ASSERT_OK(co_await gw1.BindPort("host1", "ep01", 5));
    CO_ASSERT_OK_AND_ASSIGN(auto r, co_await gw1.UpdateEndpoint(Ep("ep01", "10.0.0.10", "host1")));
    EXPECT_TRUE(r.update.created);
    EXPECT_FALSE(r.online);  // Not this gateway's to confirm.
    EXPECT_TRUE(gw1.db().FindEndpoint("ep01").has_value());
    for (const char* host : {"host1", "host2", "host3"}) {
      EXPECT_FALSE(gw1.Designated(host)) << host;
      EXPECT_EQ(Changes(host), 0u) << host;
    }
    // gw2 alone serves: one bucket, at gw2's port (gw1 keeps 60001).
    EXPECT_THAT(gw1.RulesFor("host1").gateway_ports, ElementsAre(60002u));

    // gw1 turns serving and gw2 stands by: gw1 programs host1 (it holds
    // the VPC), with gw1's bucket alone; host2 and host3 hold nothing of
    // the cluster and get nothing.
    CO_ASSERT_OK(co_await gw1.SetCluster(serving));
    EXPECT_TRUE(gw1.Designated("host1"));
    EXPECT_THAT(Buckets("host1"), ElementsAre(60001u));
    EXPECT_EQ(switches_["host1"]->flow_count(), 2u + 3 + 4);
    EXPECT_EQ(Changes("host2") + Changes("host3"), 0u);
    EXPECT_EQ(switches_["host2"]->group_count() + switches_["host3"]->group_count(), 0u);
  });
}

TEST_F(ClusterRolesGatewayTest, AChangeOfMembersReachesOnlyTheHostsHoldingTheClustersVpcs) {
  // Built outside the coroutine (g++ 12 and braced initialisers).
  const std::vector<std::string> gw3_standby = {"gw3"};
  const std::vector<std::string> all_serving;
  // The member designated for host1 once all serve; it then stands by.
  const std::string was = DesignatedMember("host1", Cluster("gw1", all_serving).members);
  const std::vector<std::string> was_standby = {was};
  std::vector<uint32_t> serving;  // The others' ports.
  for (uint32_t i = 1; i <= 3; ++i) {
    if ("gw" + std::to_string(i) != was) serving.push_back(60000 + i);
  }
  RunCoroutine(io_, [&]() -> asio::awaitable<void> {
    CO_ASSERT_OK(co_await SetClusterAll(gw3_standby));
    for (auto& [name, gw] : gateways_) CO_ASSERT_OK(AddVpc(*gw));
    CO_ASSERT_TRUE((co_await UpdateAll(Ep("ep01", "10.0.0.10", "host1"), 5)) == 1);
    CO_ASSERT_TRUE((co_await UpdateAll(Ep("ep02", "10.0.0.11", "host2"), 5)) == 1);
    CO_ASSERT_TRUE((co_await UpdateAll(Ep("ep03", "10.0.0.12", "host3"), 5)) == 1);
    for (const char* host : {"host1", "host2", "host3"}) {
      EXPECT_THAT(Buckets(host), ElementsAre(60001u, 60002u)) << host;
    }
    // host3's last VM of the cluster goes: its rules and the group go too
    // (the shared drops stay).
    for (auto& [name, gw] : gateways_) CO_ASSERT_OK(co_await gw->DeleteEndpoint("ep03"));
    EXPECT_TRUE(Buckets("host3").empty());
    EXPECT_EQ(switches_["host3"]->group_count(), 0u);
    EXPECT_EQ(switches_["host3"]->flow_count(), 2u);

    // gw3 turns serving: host1 and host2 get their group rewritten whole,
    // in one bundle each, and nothing else; host3 gets nothing.
    for (auto& [name, sw] : switches_) sw->ResetCounters();
    CO_ASSERT_OK(co_await SetClusterAll(all_serving));
    for (const char* host : {"host1", "host2"}) {
      const fakes::FakeSwitch::Counters& c = switches_[host]->counters();
      EXPECT_THAT(Buckets(host), ElementsAre(60001u, 60002u, 60003u)) << host;
      EXPECT_EQ(c.bundle_commits, 1u) << host;
      EXPECT_EQ(c.group_mods, 1u) << host;
      EXPECT_EQ(c.flow_mods, 0u) << host;
    }
    EXPECT_EQ(Changes("host3"), 0u);

    // The same members again: nothing at all is sent, not even a barrier.
    for (auto& [name, sw] : switches_) sw->ResetCounters();
    CO_ASSERT_OK(co_await SetClusterAll(all_serving));
    for (const char* host : {"host1", "host2", "host3"}) {
      EXPECT_EQ(Changes(host), 0u) << host;
      EXPECT_EQ(switches_[host]->counters().barriers, 0u) << host;
    }

    // host1's designated member stands by: its bucket goes, another member
    // programs host1, and a VM still comes online there, through it.
    for (auto& [name, sw] : switches_) sw->ResetCounters();
    CO_ASSERT_OK(co_await SetClusterAll(was_standby));
    EXPECT_EQ(Buckets("host1"), serving);
    EXPECT_EQ(Buckets("host2"), serving);
    EXPECT_EQ(Changes("host3"), 0u);
    EXPECT_FALSE(gateways_[was]->Designated("host1"));
    EXPECT_TRUE(gateways_[was]->programmer("host1")->released());
    const size_t flows = switches_["host1"]->flow_count();
    CO_ASSERT_TRUE((co_await UpdateAll(Ep("ep04", "10.0.0.13", "host1"), 6)) == 1);
    EXPECT_EQ(switches_["host1"]->flow_count(), flows + 4);
    EXPECT_EQ(Changes("host3"), 0u);
  });
}

}  // namespace
}  // namespace shortcut::gateway
